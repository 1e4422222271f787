"""Baseline for bench/python-bridge: the same sklearn model called in-process in Python.

Usage: python3 inprocess.py MODEL_DIR ROWS [ROWS...]
Loads model.pkl the way MLflow's sklearn loader does, builds the same deterministic input the Node
side sends (a pandas DataFrame with the signature's columns), and prints JSON: median seconds per
predict call for each row count.
"""
import json
import pickle
import statistics
import sys
import time

import numpy as np
import pandas as pd

COLUMNS = ["sepal_length", "sepal_width", "petal_length", "petal_width"]


def rows(n):
    # same formula as bench/python-bridge/run.mjs: value(i, j) = 4 + ((i * 7 + j * 13) % 40) / 10
    i = np.arange(n).reshape(-1, 1)
    j = np.arange(len(COLUMNS)).reshape(1, -1)
    return pd.DataFrame(4 + ((i * 7 + j * 13) % 40) / 10, columns=COLUMNS)


def main():
    model_dir, sizes = sys.argv[1], [int(x) for x in sys.argv[2:]]
    with open(f"{model_dir}/model.pkl", "rb") as f:
        model = pickle.load(f)
    out = {}
    for n in sizes:
        df = rows(n)
        for _ in range(20):
            model.predict(df)
        times = []
        budget = time.perf_counter() + 3.0
        while len(times) < 50 or (time.perf_counter() < budget and len(times) < 20000):
            t0 = time.perf_counter()
            model.predict(df)
            times.append(time.perf_counter() - t0)
        out[str(n)] = {"median_s": statistics.median(times), "samples": len(times)}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
