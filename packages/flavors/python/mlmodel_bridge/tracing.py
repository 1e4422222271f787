"""Optional profiling of the worker: per-request timestamps written when it exits."""
import os
import time


# --- optional profiling (MLMODEL_BRIDGE_TRACE=<file>, see src/python/trace.ts) -----------------


class Trace:
    """Per-request CLOCK_MONOTONIC timestamps, appended to the trace file when the worker exits."""

    def __init__(self, path):
        self.path = path
        self.pid = os.getpid()
        self.lines = []

    def mark(self, rid, phase):
        self.lines.append("py %d %d %s %d\n" % (self.pid, rid, phase, time.monotonic_ns()))

    def flush(self):
        if self.lines:
            with open(self.path, "a") as f:
                f.write("".join(self.lines))
            self.lines = []


TRACE = Trace(os.environ["MLMODEL_BRIDGE_TRACE"]) if os.environ.get("MLMODEL_BRIDGE_TRACE") else None
