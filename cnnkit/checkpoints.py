"""Where the course keeps trained models, so that one notebook can reuse another's (05 trains, 07 reuses).

The folder is ``$CNNKIT_MODELS`` if set, else ``models/`` in the course checkout, or ``~/.cache/cnnkit/models``
(``$XDG_CACHE_HOME/cnnkit/models``) when cnnkit is installed without a checkout (Colab). It is kept apart from
the data root, which may be a read-only copy.

:func:`save_model` never overwrites: a model of the same name already there is first renamed with its
modification time (``NAME.YYYYmmdd-HHMMSS.keras``). :func:`load_model` loads the newest file of a name and
says clearly what to do when there is none.

The course also ships trained networks with the package (``cnnkit/pretrained/NAME.keras`` and a manifest
``NAME.json`` recording how it was trained, on which data, its accuracy and the file's SHA-256).
:func:`load_pretrained` checks the file against the manifest before Keras opens it; :func:`load_reusable`
prefers a learner's own saved model of the same name and falls back to the shipped one (notebook 07 reuses
notebook 05's CIFAR-10 network this way).
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import re
import tempfile
import warnings
from pathlib import Path

from .fetch import sha256sum as file_sha256  # the SHA-256 of a file, as downloads are checked

MODELS_ENV = "CNNKIT_MODELS"

PRETRAINED_DIR = Path(__file__).resolve().parent / "pretrained"
MANIFEST_KEYS = ("name", "file", "sha256", "dtype", "trained_by", "commit", "settings", "data", "data_scope",
                 "train_images", "val_images", "test_images", "test_accuracy", "test_accuracy_tta", "epochs",
                 "train_seconds", "machine")

__all__ = ["MODELS_ENV", "PRETRAINED_DIR", "MANIFEST_KEYS", "ModelNotFoundError", "PretrainedError", "models_dir",
           "model_path", "save_model", "load_model", "with_dtype", "file_sha256", "load_pretrained", "load_reusable"]


class ModelNotFoundError(FileNotFoundError):
    """No saved model of that name: says where cnnkit looked and which notebook makes it."""

    def __init__(self, name: str, folder: Path, made_by: str | None = None, message: str | None = None):
        self.name, self.folder = name, Path(folder)
        how = f"run {made_by} first (it saves the model there)" if made_by else "save it with cnnkit.checkpoints.save_model"
        super().__init__(message or f"No saved model {name!r} in {self.folder}: {how}, or set {MODELS_ENV} to the "
                         "folder that holds it.")

    def __str__(self):
        return self.args[0]


class PretrainedError(RuntimeError):
    """A shipped model that cannot be used as it is: its file differs from its manifest, or the manifest is unreadable."""


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


def _read_manifest(path: Path) -> dict:
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise PretrainedError(f"The manifest {path} cannot be read ({type(err).__name__}: {err}); reinstall cnnkit "
                              "or restore the file from the course repository.") from None
    missing = [k for k in MANIFEST_KEYS if k not in manifest] if isinstance(manifest, dict) else list(MANIFEST_KEYS)
    if missing:
        raise PretrainedError(f"The manifest {path} lacks {', '.join(missing)}; reinstall cnnkit or restore the "
                              "file from the course repository.")
    return manifest


def load_pretrained(name: str, folder=None, dtype: str = "float32"):
    """Load the network the course ships as ``NAME.keras`` with its manifest ``NAME.json``; return both.

    The file's SHA-256 is checked against the manifest's before Keras opens it, so a corrupt, truncated or
    changed file (a Git LFS pointer too) gives one clear message instead of a Keras traceback. The model is
    returned computing in ``dtype`` (float32 by default, :func:`with_dtype`; None keeps the saved policy).

    Args:
        name: the model's name, e.g. ``"cifar10_airbench"``.
        folder: where the two files are; default :data:`PRETRAINED_DIR` (inside the installed package).
        dtype: the dtype policy of the returned copy.

    Returns:
        ``(model, manifest)``: the model, not compiled, and the manifest as a dict (keys :data:`MANIFEST_KEYS`).

    Raises:
        ModelNotFoundError: no manifest or no model file there.
        PretrainedError: the manifest is unreadable or incomplete, or the file's checksum differs.
    """
    model_path(name)  # checks the name
    folder = PRETRAINED_DIR if folder is None else Path(folder)
    manifest_file = folder / f"{name}.json"
    missing = f"The course's network {name!r} is not in {folder}: {{}}; install cnnkit from the course's " \
              "repository (it ships the network), or restore the file."
    if not manifest_file.is_file():
        raise ModelNotFoundError(name, folder, message=missing.format(f"no manifest {manifest_file.name}"))
    manifest = _read_manifest(manifest_file)
    path = folder / str(manifest["file"])
    if Path(str(manifest["file"])).name != str(manifest["file"]) or not path.is_file():
        raise ModelNotFoundError(name, folder, message=missing.format(f"its manifest is there, its file "
                                                                       f"{manifest['file']!r} is missing"))
    digest = file_sha256(path)
    if digest != str(manifest["sha256"]).lower():
        size = path.stat().st_size
        lfs = " It looks like a Git LFS pointer: run `git lfs pull` in the course folder." if size < 1024 and \
            path.read_bytes().startswith(b"version https://git-lfs") else ""
        raise PretrainedError(f"{path} ({size:,} bytes) is not the file its manifest describes: SHA-256 "
                              f"{digest[:12]}... instead of {str(manifest['sha256'])[:12]}... It is corrupt, "
                              f"incomplete or changed; reinstall cnnkit or restore the file from the course "
                              f"repository.{lfs}")
    import keras

    from . import layers, training  # noqa: F401  (register the custom objects a saved model may use)

    try:
        model = keras.models.load_model(path, compile=False)
    except Exception as err:  # the right bytes, but this Keras cannot rebuild them
        first = str(err).strip().splitlines()[0] if str(err).strip() else ""
        raise PretrainedError(f"{path} matches its manifest, but Keras {keras.__version__} cannot load it "
                              f"({type(err).__name__}: {first[:200]}); install the versions the README names.") from None
    return (model if dtype is None else with_dtype(model, dtype)), manifest


def load_reusable(name: str, made_by: str | None = None, folder=None, dtype: str = "float32"):
    """The learner's own saved model ``NAME`` if there is one (:func:`load_model`), else the shipped one.

    Returns:
        ``(model, info)``: ``info["origin"]`` is ``"own"`` (``info["path"]`` the file in :func:`models_dir`) or
        ``"shipped"`` (``info`` then also holds the manifest's keys: accuracy, data, how it was trained).

    Raises:
        ModelNotFoundError: neither exists; the message names both places.
        PretrainedError: the shipped file is there but differs from its manifest.
    """
    own = model_path(name)
    shipped = PRETRAINED_DIR if folder is None else Path(folder)
    if own.is_file():
        try:
            return load_model(name, made_by=made_by, dtype=dtype), {"origin": "own", "name": name, "path": str(own)}
        except Exception as err:  # a damaged or foreign file of the learner's: say so in one line, use the shipped one
            first = (str(err).strip().splitlines() or [type(err).__name__])[0][:200]
            warnings.warn(f"Your own {own} could not be loaded ({type(err).__name__}: {first}); using the course's "
                          "shipped copy instead. Your file is left as it is.", stacklevel=2)
    try:
        model, manifest = load_pretrained(name, folder=folder, dtype=dtype)
    except ModelNotFoundError:
        how = f"run {made_by} at full settings" if made_by else "save one with cnnkit.checkpoints.save_model"
        raise ModelNotFoundError(name, own.parent, made_by, message=(
            f"No model {name!r}: neither your own in {own.parent} ({how} to make it, or set {MODELS_ENV}) nor the "
            f"course's shipped copy in {shipped} (cnnkit installed from the course's repository includes it)."
        )) from None
    return model, {**manifest, "origin": "shipped", "path": str(shipped / manifest["file"])}
