#!/usr/bin/env python3
"""mlmodel's python_function worker.

One process serves one model: Node starts it with ``python -u mlmodel_worker.py``, sends LOAD,
then PREDICT requests one at a time, and SHUTDOWN at the end. Frames travel over stdin/stdout;
stderr carries logs. The wire format is described in PROTOCOL.md next to this file; the code is in
the ``mlmodel_bridge`` package next to it (see its ``__init__.py`` for what each module holds).

Only the standard library, numpy and pandas are required. When ``mlflow`` is importable the model
is loaded with ``mlflow.pyfunc.load_model``; without it, models saved by ``mlflow.sklearn`` are
loaded by a small built-in loader and anything else fails with a message saying what to install.
"""
import os
import sys

# Python puts this script's directory first on sys.path, except under -P / PYTHONSAFEPATH (3.11+)
# or -I: make sure the mlmodel_bridge package next to it is importable however we are started.
_HERE = os.path.dirname(os.path.realpath(__file__))
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

from mlmodel_bridge.main import run  # noqa: E402


if __name__ == "__main__":
    sys.exit(run())
