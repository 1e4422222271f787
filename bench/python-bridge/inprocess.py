"""Baseline for bench/python-bridge: the same sklearn model called in-process in Python.

Usage: python3 inprocess.py MODEL_NAME MODEL_DIR
Loads model.pkl the way MLflow's sklearn loader does, then serves timing requests on stdin so that
run.mjs can interleave in-process blocks with bridge blocks (this VM's speed drifts by tens of
percent within minutes, so the two must be measured in alternation, not one after the other).
Each stdin line "ROWS CALLS" builds the same deterministic input the Node side sends (a pandas
DataFrame with the signature's columns and dtypes, see data.mjs), calls the MLmodel's predict_fn on
it CALLS times in a hot loop, and answers one JSON line: the seconds each call took.
"""
import json
import pickle
import sys
import time

import numpy as np
import pandas as pd

PLANS = np.array(["basic", "plus", "pro"], dtype=object)


def iris(n):
    # value(i, j) = 4 + ((i * 7 + j * 13) % 40) / 10, as in data.mjs
    i = np.arange(n).reshape(-1, 1)
    j = np.arange(4).reshape(1, -1)
    cols = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
    return pd.DataFrame(4 + ((i * 7 + j * 13) % 40) / 10, columns=cols)


def churn(n):
    i = np.arange(n)
    return pd.DataFrame({
        "plan": PLANS[i % 3],
        "tenure_months": ((i * 7) % 72).astype(np.int64),
        "monthly_charges": 20 + ((i * 13) % 800) / 10,
    })


DATA = {"iris_sklearn": (iris, "predict"), "churn_pipeline": (churn, "predict_proba")}


def main():
    name, model_dir = sys.argv[1], sys.argv[2]
    build, predict_fn = DATA[name]
    with open(f"{model_dir}/model.pkl", "rb") as f:
        model = pickle.load(f)
    fn = getattr(model, predict_fn)
    frames = {}
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        rows, calls = (int(x) for x in line.split())
        df = frames.get(rows)
        if df is None:
            df = frames[rows] = build(rows)
        times = []
        for _ in range(calls):
            t0 = time.perf_counter()
            fn(df)
            times.append(time.perf_counter() - t0)
        print(json.dumps(times), flush=True)


if __name__ == "__main__":
    main()
