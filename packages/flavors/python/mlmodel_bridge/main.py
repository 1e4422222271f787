"""The worker's request loop: LOAD, then PREDICT requests one at a time, until SHUTDOWN or end of input."""
import json
import os
import sys

from mlmodel_bridge.codec import decode_input, encode_output, import_numpy_pandas, split_data_payload
from mlmodel_bridge.errors import WorkerUserError, describe_exception
from mlmodel_bridge.framing import (
    ERROR, LOAD, LOAD_ERR, LOAD_OK, PING, PONG, PREDICT, RESULT, SHUTDOWN,
    IdleSpin, SharedFiles, enlarge_pipe, json_parts, read_frame, spin_bound_ns, write_frame,
)
from mlmodel_bridge.loaders import load_model, versions
from mlmodel_bridge.tracing import TRACE

# --- main loop -------------------------------------------------------------------------------


def main():
    if sys.byteorder != "little":
        sys.stderr.write("mlmodel_worker: big-endian machines are not supported\n")
        return 2
    # The protocol owns the original stdout; anything the model prints goes to stderr (logs).
    out = os.dup(1)
    enlarge_pipe(0)
    enlarge_pipe(out)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    inp = open(0, "rb", buffering=0, closefd=False)  # unbuffered: poll() then sees every pending byte
    idle_spin = IdleSpin(0, spin_bound_ns())
    shared = SharedFiles.from_env()
    model = None

    while True:
        idle_spin.wait()
        frame = read_frame(inp, shared)
        if frame is None:
            return 0  # stdin closed: the parent is gone
        mtype, rid, payload = frame
        if mtype == SHUTDOWN:
            return 0
        if mtype == PING:
            write_frame(out, PONG, rid, [])
            continue
        if mtype == LOAD:
            try:
                req = json.loads(payload.decode("utf-8"))
                model = load_model(req)
                import_numpy_pandas()
                info = versions(model)
                info["shared_files"] = shared is not None
                write_frame(out, LOAD_OK, rid, json_parts(info))
            except BaseException as e:  # noqa: B902 - report everything, SystemExit from user code included
                if isinstance(e, KeyboardInterrupt):
                    raise
                write_frame(out, LOAD_ERR, rid, json_parts(describe_exception(e, not isinstance(e, WorkerUserError))))
            continue
        if mtype == PREDICT:
            try:
                if model is None:
                    raise RuntimeError("PREDICT before a successful LOAD")
                np, pd = import_numpy_pandas()
                if TRACE is not None:
                    TRACE.mark(rid, "read")
                header, body = split_data_payload(payload)
                data = decode_input(np, pd, header["data"], body, header["buffers"])
                if TRACE is not None:
                    TRACE.mark(rid, "built")
                result = model.predict(data, header.get("params"))
                if TRACE is not None:
                    TRACE.mark(rid, "predicted")
                out_header, builder = encode_output(result)
                parts = builder.parts({"data": out_header})
                if TRACE is not None:
                    TRACE.mark(rid, "encoded")
                write_frame(out, RESULT, rid, parts, shared)
                if TRACE is not None:
                    TRACE.mark(rid, "replied")
            except BaseException as e:  # noqa: B902
                if isinstance(e, KeyboardInterrupt):
                    raise
                write_frame(out, ERROR, rid, json_parts(describe_exception(e)))
            continue
        write_frame(out, ERROR, rid, json_parts({
            "type": "ProtocolError", "module": "mlmodel_worker", "message": "unknown message type %d" % mtype,
            "traceback": [], "user_error": False,
        }))


def run():
    try:
        return main()
    finally:
        if TRACE is not None:
            TRACE.flush()
