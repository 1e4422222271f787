"""The worker's own exceptions and the JSON description of an exception sent in LOAD_ERR and ERROR."""
import traceback

MAX_TRACEBACK_FRAMES = 8


class WorkerUserError(Exception):
    """A load failure the user fixes by changing the environment or the model: no traceback is sent."""


class MlflowRequired(WorkerUserError):
    pass


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
