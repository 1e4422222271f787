#!/usr/bin/env python3
"""mlmodel's python_function worker.

One process serves one model: Node starts it with ``python -u mlmodel_worker.py``, sends LOAD,
then PREDICT requests one at a time, and SHUTDOWN at the end. Frames travel over stdin/stdout;
stderr carries logs. The wire format is described in PROTOCOL.md next to this file.

Only the standard library, numpy and pandas are required. When ``mlflow`` is importable the model
is loaded with ``mlflow.pyfunc.load_model``; without it, models saved by ``mlflow.sklearn`` are
loaded by a small built-in loader and anything else fails with a message saying what to install.
"""
import json
import math
import os
import struct
import sys
import time
import traceback

LOAD = 1
LOAD_OK = 2
LOAD_ERR = 3
PREDICT = 4
RESULT = 5
ERROR = 6
PING = 7
PONG = 8
SHUTDOWN = 9

FRAME_HEADER = struct.Struct("<IBI")  # length of what follows the length field, type, request id
U32 = struct.Struct("<I")
PROTOCOL_VERSION = 1
MAX_TRACEBACK_FRAMES = 8
PIPE_BYTES = 4 << 20
SHARED_FLAG = 0x80  # type bit: the payload is in the sender's shared file; the frame holds its u32 length
SHARED_MIN_BYTES = 64 * 1024
SHARED_LENGTH = struct.Struct("<I")
IOV_MAX = min(os.sysconf("SC_IOV_MAX") if hasattr(os, "sysconf") else 1024, 1024)

FIXED_WIDTH = {
    "bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
    "float16", "float32", "float64",
}


class WorkerUserError(Exception):
    """A load failure the user fixes by changing the environment or the model: no traceback is sent."""


class MlflowRequired(WorkerUserError):
    pass


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


# --- framing ---------------------------------------------------------------------------------


class IdleSpin:
    """Before blocking on the input, poll it for up to spin_ns without sleeping (PROTOCOL.md, "Waiting"):
    a request that arrives meanwhile is read by a CPU that never went idle, which saves the wake-up.
    Skipped while the machine is saturated (1-minute load average above the CPU count), where a
    busy-wait only takes CPU from runnable processes."""

    LOAD_CHECK_NS = 1_000_000_000

    def __init__(self, fd, spin_ns):
        import select
        self.spin_ns = spin_ns
        self.poll = select.poll()
        self.poll.register(fd, select.POLLIN)
        self.cpus = os.cpu_count() or 1
        self.checked_at = None
        self.saturated = False

    def _saturated(self, now):
        if self.checked_at is None or now - self.checked_at >= self.LOAD_CHECK_NS:
            self.checked_at = now
            try:
                self.saturated = os.getloadavg()[0] > self.cpus
            except OSError:
                self.saturated = False
        return self.saturated

    def wait(self):
        if not self.spin_ns:
            return
        poll = self.poll.poll
        if poll(0):
            return
        clock = time.monotonic_ns
        now = clock()
        if self._saturated(now):
            return
        deadline = now + self.spin_ns
        while not poll(0):
            if clock() > deadline:
                return


def spin_bound_ns():
    """MLMODEL_WORKER_SPIN_US, set by Node: how long an idle worker busy-waits (0 when absent)."""
    try:
        return max(0, int(os.environ.pop("MLMODEL_WORKER_SPIN_US", "0"))) * 1000
    except ValueError:
        return 0


def read_exact(stream, n):
    """n bytes from stream, or None at end of stream. Reads straight into one buffer (no joins)."""
    buf = bytearray(n)
    view = memoryview(buf)
    got = 0
    while got < n:
        k = stream.readinto(view[got:])
        if not k:
            return None
        got += k
    return buf


class SharedFiles:
    """The request and result files Node opened and passed as extra fds (MLMODEL_SHARED_FDS="3,4").
    Large payloads are read from / written to offset 0 of them instead of crossing the socket. Both are
    memory-mapped here: a request is decoded straight from the page cache Node wrote (every decoder
    copies what it keeps), and a result is copied once into the mapping Node reads from."""

    def __init__(self, request_fd, result_fd):
        import mmap
        self._mmap = mmap
        self.request_fd = request_fd
        self.result_fd = result_fd
        self._request_map = None
        self._result_map = None

    @staticmethod
    def from_env():
        spec = os.environ.pop("MLMODEL_SHARED_FDS", "")
        try:
            req, res = (int(x) for x in spec.split(","))
            os.fstat(req)
            os.fstat(res)
        except (ValueError, OSError):
            return None
        return SharedFiles(req, res)

    def read_request(self, n):
        """A read-only view of the first n bytes of the request file (valid until the next request)."""
        m = self._request_map
        if m is None or len(m) < n:
            size = os.fstat(self.request_fd).st_size
            if size < n:
                raise ValueError("the shared request file holds %d bytes, Node announced %d" % (size, n))
            # the old mapping, if any, lives on until the views into it are gone
            m = self._request_map = self._mmap.mmap(self.request_fd, size, prot=self._mmap.PROT_READ)
        return memoryview(m)[:n]

    def write_result(self, parts, total):
        m = self._result_map
        if m is None or len(m) < total:
            size = max(total, 2 * len(m) if m is not None else 0, 1 << 20)
            os.ftruncate(self.result_fd, size)
            m = self._result_map = self._mmap.mmap(self.result_fd, size)
        pos = 0
        for p in parts:
            n = len(p)
            if n:
                m[pos:pos + n] = p
                pos += n
        return pos


def read_frame(stream, shared=None):
    head = read_exact(stream, FRAME_HEADER.size)
    if head is None:
        return None
    length, mtype, rid = FRAME_HEADER.unpack(head)
    if TRACE is not None:
        TRACE.mark(rid, "woke")
    payload = read_exact(stream, length - 5) if length > 5 else b""
    if payload is None:
        return None
    if mtype & SHARED_FLAG:
        if shared is None or len(payload) != SHARED_LENGTH.size:
            raise ValueError("shared-file frame (type %d) without shared files" % mtype)
        payload = shared.read_request(SHARED_LENGTH.unpack(payload)[0])
        mtype &= ~SHARED_FLAG
    return mtype, rid, payload


def write_all(fd, parts):
    """Write every part to fd with as few system calls as the pipe allows (one writev normally)."""
    views = [memoryview(p).cast("B") for p in parts if len(p) > 0]
    while views:
        _consume(views, os.writev(fd, views[:IOV_MAX]))


def _consume(views, n):
    """Drop the first n bytes from a list of memoryviews, after a (possibly partial) vectored write."""
    while n > 0:
        first = views[0]
        if n >= len(first):
            n -= len(first)
            views.pop(0)
        else:
            views[0] = first[n:]
            n = 0


def enlarge_pipe(fd):
    """Grow a pipe's or socket's kernel buffer (Linux F_SETPIPE_SZ, SO_SNDBUF/SO_RCVBUF) so a large frame crosses in one write, not
    in 64 KiB steps that each wait for the other process to wake up. Best effort: not a pipe, not
    Linux, or over the system limit leaves it as it is."""
    import stat
    try:
        if stat.S_ISSOCK(os.fstat(fd).st_mode):  # libuv (Node) gives children socketpairs, not pipes
            import socket
            sock = socket.socket(fileno=os.dup(fd))
            try:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, PIPE_BYTES)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, PIPE_BYTES)
            finally:
                sock.close()
            return
    except (ImportError, OSError):
        return
    try:
        import fcntl
        with open("/proc/sys/fs/pipe-max-size") as f:
            limit = int(f.read().strip())
        fcntl.fcntl(fd, getattr(fcntl, "F_SETPIPE_SZ", 1031), min(limit, PIPE_BYTES))
    except (ImportError, OSError, ValueError):
        pass


def write_frame(fd, mtype, rid, parts, shared=None):
    """One frame written with one writev: no userspace buffering, nothing left to flush. With shared
    files, a payload of SHARED_MIN_BYTES or more goes to the result file and only its length crosses."""
    total = 0
    for p in parts:
        total += len(p)
    if shared is not None and total >= SHARED_MIN_BYTES:
        shared.write_result(parts, total)
        write_all(fd, [FRAME_HEADER.pack(5 + SHARED_LENGTH.size, mtype | SHARED_FLAG, rid), SHARED_LENGTH.pack(total)])
        return
    write_all(fd, [FRAME_HEADER.pack(total + 5, mtype, rid)] + list(parts))


def json_parts(obj):
    return [json.dumps(obj, allow_nan=False).encode("utf-8")]


def align8(n):
    return (n + 7) & ~7


# --- data payloads: JSON header + 8-byte aligned raw buffers ---------------------------------


def split_data_payload(payload):
    view = memoryview(payload)
    (hlen,) = U32.unpack_from(view, 0)
    header = json.loads(bytes(view[4:4 + hlen]).decode("utf-8"))
    body = view[align8(4 + hlen):]
    return header, body


class PayloadBuilder:
    def __init__(self):
        self.buffers = []
        self.spans = []
        self.size = 0

    def add(self, data):
        """Append a buffer (bytes or a C-contiguous array, referenced, not copied); returns its index."""
        mv = memoryview(data).cast("B") if not isinstance(data, (bytes, bytearray)) else data
        start = align8(self.size)
        if start > self.size:
            self.buffers.append(b"\0" * (start - self.size))
        self.buffers.append(mv)
        self.spans.append([start, len(mv)])
        self.size = start + len(mv)
        return len(self.spans) - 1

    def parts(self, header):
        header = dict(header)
        header["buffers"] = self.spans
        hb = json.dumps(header, allow_nan=False).encode("utf-8")
        pad = align8(4 + len(hb)) - (4 + len(hb))
        return [U32.pack(len(hb)), hb, b"\0" * pad] + self.buffers


# --- wire → Python (what MLflow's pyfunc receives after schema enforcement) ------------------


def decode_strings(np, offsets, data, as_text):
    """An object array of str (as_text) or bytes values from int32 offsets and the bytes they index."""
    n = len(offsets) - 1
    if as_text and n > 0:
        out = split_strings(np, offsets, data, n)
        if out is not None:
            return out
    offsets = offsets.tolist()
    raw = bytes(data)
    out = np.empty(n, dtype=object)
    if as_text:
        for i in range(n):
            out[i] = raw[offsets[i]:offsets[i + 1]].decode("utf-8")
        return out
    for i in range(n):
        out[i] = raw[offsets[i]:offsets[i + 1]]
    return out


def split_strings(np, offsets, data, n):
    """The fast path of decode_strings: put a NUL after every value with numpy, decode the whole
    buffer once and let str.split cut it (all in C, about 3x faster than slicing row by row).
    None when a value contains NUL itself or the bytes are not UTF-8: the row-by-row path decides."""
    base = int(offsets[0])
    total = int(offsets[n]) - base
    raw = np.frombuffer(data, dtype=np.uint8, count=total, offset=base)
    if total and not raw.all():
        return None  # a NUL inside some value
    ends = offsets[1:].astype(np.int64) - base + np.arange(n)  # where each value's NUL goes
    joined = np.zeros(total + n, dtype=np.uint8)
    keep = np.ones(total + n, dtype=bool)
    keep[ends] = False
    joined[keep] = raw
    try:
        parts = joined.tobytes().decode("utf-8").split("\0")
    except UnicodeDecodeError:
        return None
    parts.pop()  # after the last NUL
    return object_array(np, parts)


def object_array(np, values):
    """A 1-D object array holding exactly these values. np.fromiter (numpy >= 1.23) is ~3x faster
    than filling np.empty(n, object) from a list, which probes every str as a possible sequence."""
    try:
        return np.fromiter(values, dtype=object, count=len(values))
    except (TypeError, ValueError):
        out = np.empty(len(values), dtype=object)
        for i, v in enumerate(values):
            out[i] = v
        return out


def decode_values(np, desc, body, spans, count):
    """A flat numpy array of `count` elements, with None/NaN/NaT where the validity mask says 0."""
    dtype = desc["dtype"]

    def buf(key):
        off, ln = spans[desc[key]]
        return body[off:off + ln]

    if dtype in FIXED_WIDTH:
        arr = np.frombuffer(buf("data"), dtype=np.dtype(dtype), count=count).copy()
    elif dtype == "datetime64[ns]":
        arr = np.frombuffer(buf("data"), dtype=np.int64, count=count).copy().view("datetime64[ns]")
    elif dtype in ("str", "bytes") and desc.get("codes") is not None:
        # a dictionary: the distinct values once, then one int32 code per element
        offsets = np.frombuffer(buf("offsets"), dtype=np.int32)
        distinct = decode_strings(np, offsets, buf("data"), dtype == "str")
        codes = np.frombuffer(buf("codes"), dtype=np.int32, count=count)
        if count and (codes.min() < 0 or codes.max() >= len(distinct)):
            raise ValueError("a dictionary code is outside the %d distinct values" % len(distinct))
        arr = distinct[codes]  # fancy indexing: ~3x faster than take() on object arrays
    elif dtype in ("str", "bytes"):
        offsets = np.frombuffer(buf("offsets"), dtype=np.int32, count=count + 1)
        arr = decode_strings(np, offsets, buf("data"), dtype == "str")
    elif dtype == "object":
        arr = np.empty(count, dtype=object)
        for i, v in enumerate(desc["values"]):
            arr[i] = v
    else:
        raise ValueError("unsupported dtype on the wire: %r" % (dtype,))

    if desc.get("validity") is not None:
        missing = np.frombuffer(buf("validity"), dtype=np.uint8, count=count) == 0
        if missing.any():
            kind = arr.dtype.kind
            if kind == "f":
                arr[missing] = np.nan
            elif kind in "iu":
                arr = arr.astype(np.float64)  # what pandas does with a null in an integer column
                arr[missing] = np.nan
            elif kind == "M":
                arr[missing] = np.datetime64("NaT")
            else:
                arr = arr.astype(object)
                arr[missing] = None
    return arr


_COLUMN_INDEX_CACHE = {}


def column_index(pd, names):
    """The columns Index for these names, built once per distinct column list (signatures repeat)."""
    key = tuple(names)
    idx = _COLUMN_INDEX_CACHE.get(key)
    if idx is None:
        if len(_COLUMN_INDEX_CACHE) >= 64:
            _COLUMN_INDEX_CACHE.clear()
        idx = pd.Index(list(names), dtype=object)
        _COLUMN_INDEX_CACHE[key] = idx
    return idx


def frame_of_arrays(pd, arrays, names, n):
    """A DataFrame of these 1-D arrays, as pd.DataFrame({name: array}) builds it. pandas' own
    DataFrame._from_arrays (pandas 1.x and 2.x) skips the dict handling that costs ~250 µs per call
    even at one row; duplicate names or a pandas without it take the public constructor.

    verify_integrity=False also skips pandas' datetime inference on object columns. That is safe
    here: every array is a 1-D numpy array of n values built by decode_values, and its object
    columns hold only str, bytes, None or JSON values, which that inference leaves as they are."""
    index = pd.RangeIndex(n)
    from_arrays = getattr(pd.DataFrame, "_from_arrays", None)
    if from_arrays is not None and len(set(names)) == len(names) and all(a.ndim == 1 and len(a) == n for a in arrays):
        try:
            return from_arrays(arrays, columns=column_index(pd, names), index=index, verify_integrity=False)
        except TypeError:
            pass  # a pandas whose private signature changed
    return pd.DataFrame(dict(zip(names, arrays)), columns=names, index=index)


def decode_block(np, columns, body, spans, n):
    """All columns as one (n, k) Fortran-order array when they share a fixed-width dtype, else None.

    pandas keeps same-dtype columns as one 2-D block anyway (a dict of arrays is consolidated with a
    copy); handing it the block directly is far cheaper and gives the same memory layout.
    """
    if not columns:
        return None
    dtype = columns[0]["dtype"]
    if dtype not in FIXED_WIDTH or len({c["name"] for c in columns}) != len(columns):
        return None
    for c in columns:
        if c["dtype"] != dtype:
            return None
    np_dtype = np.dtype(dtype)
    block = np.empty((n, len(columns)), dtype=np_dtype, order="F")
    for j, c in enumerate(columns):
        off, ln = spans[c["data"]]
        block[:, j] = np.frombuffer(body[off:off + ln], dtype=np_dtype, count=n)
        if c.get("validity") is not None:
            voff, vln = spans[c["validity"]]
            missing = np.frombuffer(body[voff:voff + vln], dtype=np.uint8, count=n) == 0
            if missing.any():
                if np_dtype.kind != "f":
                    return None  # a null turns this column into float64: the per-column path handles it
                block[missing, j] = np.nan
    return block


def decode_input(np, pd, data, body, spans):
    kind = data["kind"]
    if kind == "columns":
        n = data["num_rows"]
        names = [c["name"] for c in data["columns"]]
        block = decode_block(np, data["columns"], body, spans, n)
        if block is not None:
            return pd.DataFrame(block, index=pd.RangeIndex(n), columns=column_index(pd, names), copy=False)
        arrays = [decode_values(np, c, body, spans, n) for c in data["columns"]]
        return frame_of_arrays(pd, arrays, names, n)
    if kind == "tensors":
        out = {}
        for t in data["tensors"]:
            shape = tuple(t["shape"])
            count = 1
            for d in shape:
                count *= d
            arr = decode_values(np, t, body, spans, count)
            if t["dtype"] == "str":
                arr = arr.astype(str) if count > 0 else np.empty(0, dtype=str)
            out[t["name"]] = arr.reshape(shape)
        if len(out) == 1 and None in out:
            return out[None]
        return out
    if kind == "json":
        return data["value"]
    raise ValueError("unknown input kind %r" % (kind,))


# --- Python → wire (how MLflow's scoring server would serialize the prediction) --------------


def jsonable(obj, np, pd):
    """A JSON-safe copy of obj, converting numpy/pandas values the way MLflow's NumpyEncoder does."""
    if obj is None or isinstance(obj, (bool, int, str)):
        return obj
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, bytes):
        import base64
        return base64.b64encode(obj).decode("ascii")
    if np is not None:
        if isinstance(obj, np.generic):
            return jsonable(obj.item(), np, pd)
        if isinstance(obj, np.ndarray):
            return jsonable(obj.tolist(), np, pd)
    if pd is not None:
        if isinstance(obj, pd.DataFrame):
            return jsonable(obj.to_dict(orient="records"), np, pd)
        if isinstance(obj, pd.Series):
            return jsonable(pd.DataFrame(obj).to_dict(orient="records"), np, pd)
        if isinstance(obj, pd.Timestamp):
            return obj.isoformat()
    if isinstance(obj, dict):
        return {str(k): jsonable(v, np, pd) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set)):
        return [jsonable(v, np, pd) for v in obj]
    if hasattr(obj, "isoformat"):
        return obj.isoformat()
    return str(obj)


def encode_strings(np, values, as_text, builder, desc):
    n = len(values)
    offsets = np.zeros(n + 1, dtype=np.int32)
    validity = None
    chunks = []
    pos = 0
    for i, v in enumerate(values):
        if v is None or (isinstance(v, float) and v != v):
            if validity is None:
                validity = np.ones(n, dtype=np.uint8)
            validity[i] = 0
        else:
            b = v.encode("utf-8") if as_text else bytes(v)
            chunks.append(b)
            pos += len(b)
        offsets[i + 1] = pos
    desc["data"] = builder.add(b"".join(chunks))
    desc["offsets"] = builder.add(offsets.tobytes())
    if validity is not None:
        desc["validity"] = builder.add(validity.tobytes())


def encode_array(np, pd, arr, builder, desc):
    """Fill desc (dtype + buffer indices) for a flat numpy array."""
    kind = arr.dtype.kind
    if kind in "biuf":
        a = np.ascontiguousarray(arr)
        if a.dtype.byteorder == ">":
            a = a.astype(a.dtype.newbyteorder("<"))
        if kind == "f" and a.dtype.itemsize > 8:
            a = a.astype(np.float64)
        desc["dtype"] = a.dtype.name
        desc["data"] = builder.add(a.reshape(-1))  # a view of the array's own memory, no copy
        return
    if kind == "M":
        a = arr.astype("datetime64[ns]")
        ints = a.view(np.int64)
        desc["dtype"] = "datetime64[ns]"
        desc["data"] = builder.add(np.ascontiguousarray(ints).tobytes())
        nat = np.isnat(a)
        if nat.any():
            desc["validity"] = builder.add((~nat).astype(np.uint8).tobytes())
        return
    if kind == "U":
        desc["dtype"] = "str"
        encode_strings(np, arr.tolist(), True, builder, desc)
        return
    if kind == "S":
        desc["dtype"] = "bytes"
        encode_strings(np, arr.tolist(), False, builder, desc)
        return
    values = arr.tolist()
    present = [v for v in values if v is not None and not (isinstance(v, float) and v != v)]
    if present and all(isinstance(v, str) for v in present):
        desc["dtype"] = "str"
        encode_strings(np, values, True, builder, desc)
        return
    if present and all(isinstance(v, bytes) for v in present):
        desc["dtype"] = "bytes"
        encode_strings(np, values, False, builder, desc)
        return
    desc["dtype"] = "object"
    desc["values"] = [jsonable(v, np, pd) for v in values]


def encode_series(np, pd, name, series, builder):
    desc = {"name": name}
    values = series
    if pd.api.types.is_extension_array_dtype(series.dtype):
        values = series.astype(object).where(series.notna(), None)
    encode_array(np, pd, values.to_numpy(), builder, desc)
    return desc


def encode_tensor(np, pd, name, arr, builder):
    desc = {"name": name, "shape": list(arr.shape)}
    encode_array(np, pd, arr.reshape(-1), builder, desc)
    return desc


def encode_output(obj):
    """(header data dict, builder) for a prediction."""
    np, pd = import_numpy_pandas()
    builder = PayloadBuilder()
    if isinstance(obj, pd.DataFrame):
        cols = [encode_series(np, pd, str(name), obj.iloc[:, j], builder) for j, name in enumerate(obj.columns)]
        return {"kind": "columns", "num_rows": len(obj), "columns": cols}, builder
    if isinstance(obj, pd.Series):
        name = str(obj.name) if obj.name is not None else "0"
        return {"kind": "columns", "num_rows": len(obj), "columns": [encode_series(np, pd, name, obj, builder)]}, builder
    if isinstance(obj, np.ndarray) and obj.dtype.kind in "biufMUS":
        return {"kind": "tensors", "tensors": [encode_tensor(np, pd, None, obj, builder)]}, builder
    if isinstance(obj, dict) and obj and all(isinstance(v, np.ndarray) and v.dtype.kind in "biufMUS" for v in obj.values()):
        tensors = [encode_tensor(np, pd, str(k), v, builder) for k, v in obj.items()]
        return {"kind": "tensors", "tensors": tensors}, builder
    return {"kind": "json", "value": jsonable(obj, np, pd)}, PayloadBuilder()


# --- loading ---------------------------------------------------------------------------------

_NP_PD = None


def import_numpy_pandas():
    global _NP_PD
    if _NP_PD is None:
        import numpy
        import pandas
        _NP_PD = (numpy, pandas)
    return _NP_PD


def mlflow_available():
    try:
        import mlflow.pyfunc  # noqa: F401
        return True
    except ImportError:
        return False


def add_code_path(model_dir, conf):
    code = conf.get("code")
    if code:
        path = os.path.join(model_dir, code)
        if path not in sys.path:
            sys.path.insert(0, path)


class MlflowModel:
    loader = "mlflow.pyfunc.load_model"

    def __init__(self, model_dir):
        import mlflow.pyfunc
        self.model = mlflow.pyfunc.load_model(model_dir)

    def predict(self, data, params):
        if params:
            return self.model.predict(data, params=params)
        return self.model.predict(data)


class SklearnModel:
    """What mlflow.sklearn's pyfunc wrapper does: unpickle the estimator, call its predict_fn."""

    loader = "mlflow.sklearn (built-in)"

    def __init__(self, model_dir, pyfunc_conf, sklearn_conf):
        rel = pyfunc_conf.get("model_path") or sklearn_conf.get("pickled_model")
        if not rel:
            raise WorkerUserError("the python_function flavor names no model_path (and the sklearn flavor no pickled_model)")
        path = os.path.join(model_dir, rel)
        fmt = sklearn_conf.get("serialization_format", "cloudpickle")
        if fmt == "skops":
            raise WorkerUserError(
                "this model was saved with serialization_format skops, which needs MLflow and skops in the Python "
                "environment: pip install mlflow skops, or use --env-manager virtualenv")
        if fmt not in ("pickle", "cloudpickle"):
            raise WorkerUserError("unknown sklearn serialization_format %r (expected pickle or cloudpickle)" % (fmt,))
        try:
            import cloudpickle as unpickler
        except ImportError:
            import pickle as unpickler
        self.unpickler = unpickler.__name__
        with open(path, "rb") as f:
            self.model = unpickler.load(f)
        self.predict_fn = pyfunc_conf.get("predict_fn") or "predict"
        fn = getattr(self.model, self.predict_fn, None)
        if not callable(fn):
            raise WorkerUserError(
                "the model (a %s) has no method %r, which the MLmodel names as predict_fn"
                % (type(self.model).__name__, self.predict_fn))
        self.fn = fn

    def predict(self, data, params):
        return self.fn(data)


def load_model(req):
    model_dir = req["model_dir"]
    conf = req.get("python_function") or {}
    add_code_path(model_dir, conf)
    use_mlflow = req.get("use_mlflow", "auto")
    if use_mlflow != "never" and mlflow_available():
        return MlflowModel(model_dir)
    if use_mlflow == "always":
        raise MlflowRequired("mlflow is not importable in this Python environment (%s)" % (sys.executable,))
    loader = conf.get("loader_module")
    if loader == "mlflow.sklearn":
        return SklearnModel(model_dir, conf, req.get("sklearn") or {})
    version = req.get("mlflow_version")
    pin = ("mlflow==%s" % version) if version else "mlflow"
    raise MlflowRequired(
        "this model needs MLflow in the Python environment: its loader_module is %s, which only MLflow can load "
        "(%s has no mlflow). Install %s (pip install %s) or use --env-manager virtualenv"
        % (loader, sys.executable, pin, pin))


def versions(model):
    info = {
        "protocol": PROTOCOL_VERSION,
        "pid": os.getpid(),
        "python": sys.version.split()[0],
        "executable": sys.executable,
        "loader": model.loader,
    }
    for mod in ("numpy", "pandas", "sklearn", "mlflow", "cloudpickle"):
        m = sys.modules.get(mod)
        if m is not None:
            info[mod] = getattr(m, "__version__", None)
    if isinstance(model, SklearnModel):
        info["predict_fn"] = model.predict_fn
        info["unpickler"] = model.unpickler
    return info


def describe_exception(e, with_traceback=True):
    frames = []
    if with_traceback:
        for fs in traceback.extract_tb(e.__traceback__)[-MAX_TRACEBACK_FRAMES:]:
            frames.append({"file": fs.filename, "line": fs.lineno, "name": fs.name, "code": fs.line or ""})
    return {
        "type": type(e).__name__,
        "module": type(e).__module__,
        "message": str(e),
        "traceback": frames,
        "user_error": isinstance(e, WorkerUserError),
    }


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


if __name__ == "__main__":
    sys.exit(run())
