"""The baseline of bench/batch for python_function models: a plain pandas + scikit-learn loop.

Reads the CSV in chunks with the signature's dtypes, calls the pickled pipeline's predict_proba,
and writes the input columns plus the two probabilities as CSV.

    /usr/bin/python3 bench/batch/pandas_loop.py MODEL_DIR INPUT.csv OUTPUT.csv
"""
import os
import pickle
import sys

import pandas as pd

model_dir, src, dst = sys.argv[1:4]
with open(os.path.join(model_dir, "model.pkl"), "rb") as f:
    model = pickle.load(f)
dtypes = {"plan": str, "tenure_months": "int64", "monthly_charges": "float64"}
with open(dst, "w") as out:
    first = True
    for chunk in pd.read_csv(src, dtype=dtypes, chunksize=65536):
        proba = model.predict_proba(chunk)
        chunk.assign(p0=proba[:, 0], p1=proba[:, 1]).to_csv(out, header=first, index=False)
        first = False
