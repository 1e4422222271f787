"""Model loading: mlflow.pyfunc.load_model when MLflow is importable, else a built-in loader for
models saved by mlflow.sklearn; anything else fails with a message saying what to install."""
import os
import sys

from mlmodel_bridge.errors import MlflowRequired, WorkerUserError
from mlmodel_bridge.framing import PROTOCOL_VERSION


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
