"""The modules of mlmodel's python_function worker; the entry script is ../mlmodel_worker.py.

tracing   optional per-request timestamps (MLMODEL_BRIDGE_TRACE)
framing   message types, frame read/write, shared-memory files, pipe sizing, the idle busy-wait
codec     data payloads: wire buffers -> pandas/numpy inputs, predictions -> wire buffers
errors    the worker's own exceptions and how exceptions are reported to Node
loaders   model loading: mlflow.pyfunc when importable, else the built-in mlflow.sklearn loader
main      the request loop

Modules import each other as ``mlmodel_bridge.<name>`` (never bare names), so a model's own
modules called ``codec`` or ``main`` neither shadow these nor are shadowed by them.
"""
