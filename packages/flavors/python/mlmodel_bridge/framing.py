"""Frames on stdin/stdout (PROTOCOL.md, "Framing"), the shared request/result files, pipe sizing and
the idle busy-wait ("Waiting")."""
import json
import os
import struct
import time

from mlmodel_bridge.tracing import TRACE

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
PIPE_BYTES = 4 << 20
SHARED_FLAG = 0x80  # type bit: the payload is in the sender's shared file; the frame holds its u32 length
SHARED_MIN_BYTES = 64 * 1024
SHARED_LENGTH = struct.Struct("<I")
IOV_MAX = min(os.sysconf("SC_IOV_MAX") if hasattr(os, "sysconf") else 1024, 1024)


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
