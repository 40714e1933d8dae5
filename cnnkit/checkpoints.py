"""Where the course keeps trained models, so that one notebook can reuse another's (05 trains, 07 reuses).

The folder is ``$CNNKIT_MODELS`` if set, else ``models/`` in the course checkout, or ``~/.cache/cnnkit/models``
(``$XDG_CACHE_HOME/cnnkit/models``) when cnnkit is installed without a checkout (Colab). It is kept apart from
the data root, which may be a read-only copy.

:func:`save_model` never overwrites: a model of the same name already there is first renamed with its
modification time (``NAME.YYYYmmdd-HHMMSS.keras``). :func:`load_model` loads the newest file of a name and
says clearly what to do when there is none.
"""

from __future__ import annotations

import datetime as _dt
import os
import re
import tempfile
from pathlib import Path

MODELS_ENV = "CNNKIT_MODELS"

__all__ = ["MODELS_ENV", "ModelNotFoundError", "models_dir", "model_path", "save_model", "load_model", "with_dtype"]


class ModelNotFoundError(FileNotFoundError):
    """No saved model of that name: says where cnnkit looked and which notebook makes it."""

    def __init__(self, name: str, folder: Path, made_by: str | None = None):
        self.name, self.folder = name, Path(folder)
        how = f"run {made_by} first (it saves the model there)" if made_by else "save it with cnnkit.checkpoints.save_model"
        super().__init__(f"No saved model {name!r} in {self.folder}: {how}, or set {MODELS_ENV} to the folder "
                         "that holds it.")

    def __str__(self):
        return self.args[0]


def models_dir() -> Path:
    """The folder for trained models (it need not exist yet)."""
    env = os.environ.get(MODELS_ENV, "").strip()
    if env:
        return Path(env).expanduser().resolve()
    from .config import _CHECKOUT, _in_checkout

    if _in_checkout():
        return _CHECKOUT / "models"
    cache = os.environ.get("XDG_CACHE_HOME", "").strip() or str(Path.home() / ".cache")
    return Path(cache) / "cnnkit" / "models"


_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def model_path(name: str) -> Path:
    """``models_dir() / f"{name}.keras"``, after checking that ``name`` is a plain file name."""
    if not isinstance(name, str) or not _NAME.match(name) or name.endswith(".keras"):
        raise ValueError(f"a model name is a plain file name without '.keras' (letters, digits, _ . -), got {name!r}")
    return models_dir() / f"{name}.keras"


def save_model(model, name: str) -> Path:
    """Save ``model`` as ``models_dir()/NAME.keras`` and return the path.

    The file is written under a temporary name and renamed into place when complete. An existing
    ``NAME.keras`` is kept, renamed ``NAME.<its modification time>.keras``.
    """
    target = model_path(name)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".keras", dir=target.parent)
    os.close(fd)
    try:
        model.save(tmp)
        if target.exists():
            stamp = _dt.datetime.fromtimestamp(target.stat().st_mtime).strftime("%Y%m%d-%H%M%S")
            keep = target.with_name(f"{name}.{stamp}.keras")
            n = 1
            while keep.exists():
                keep = target.with_name(f"{name}.{stamp}-{n}.keras")
                n += 1
            os.replace(target, keep)
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    return target


def load_model(name: str, made_by: str | None = None, dtype: str | None = None):
    """Load ``models_dir()/NAME.keras`` (registering cnnkit's custom layers first).

    A model trained in mixed precision (notebook 05 on a GPU, or on a CPU with bfloat16) computes in float16 or
    bfloat16; ``dtype="float32"`` returns a copy of it with the same weights that computes in float32
    throughout (:func:`with_dtype`), which gradients such as Grad-CAM's need.

    Raises:
        ModelNotFoundError: no such file; the message names the folder and ``made_by`` (e.g. "notebook 05").
    """
    import keras

    from . import layers, training  # noqa: F401  (register the custom objects a saved model may use)

    path = model_path(name)
    if not path.is_file():
        raise ModelNotFoundError(name, path.parent, made_by)
    model = keras.models.load_model(path)
    return model if dtype is None else with_dtype(model, dtype)


def with_dtype(model, dtype: str = "float32"):
    """A copy of a functional or sequential ``model`` whose every layer has the dtype policy ``dtype``, with the
    same weights (a mixed-precision model keeps its weights in float32, so nothing is lost). Not compiled."""
    import keras

    def clone(layer):
        return layer.__class__.from_config({**layer.get_config(), "dtype": dtype})

    copy = keras.models.clone_model(model, clone_function=clone)
    copy.set_weights(model.get_weights())
    return copy
