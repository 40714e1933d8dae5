"""Configuration every notebook shares: where the data lives, full or reduced size, seeds, versions.

Two environment variables steer the course:

* ``CNNKIT_DATA``: the data root. Unset, it is ``data/`` in the course checkout, or
  ``~/.cache/cnnkit`` (``$XDG_CACHE_HOME/cnnkit``) when cnnkit is installed without a checkout (Colab).
  A relative path is relative to the working directory of the process that reads it; ``pytest`` and
  ``python -m cnnkit run-full`` pin it to the folder they were started in (:func:`pin_data_root`),
  because the notebook kernels they start work in ``notebooks/``.
* ``CNNKIT_QUICK=1``: reduced mode. Every notebook then runs on a CPU in about a minute, on fewer
  examples and epochs. CI sets it; learners normally leave it unset and train at full size.
"""

from __future__ import annotations

import os
import platform
import sys
from pathlib import Path

DATA_ENV = "CNNKIT_DATA"
QUICK_ENV = "CNNKIT_QUICK"

_PACKAGE_DIR = Path(__file__).resolve().parent
_CHECKOUT = _PACKAGE_DIR.parent


def _in_checkout() -> bool:
    return (_CHECKOUT / "pyproject.toml").is_file() and (_CHECKOUT / "notebooks").is_dir()


def data_root() -> Path:
    """The folder datasets are read from and downloaded into (it need not exist yet)."""
    env = os.environ.get(DATA_ENV, "").strip()
    if env:
        return Path(env).expanduser().resolve()
    if _in_checkout():
        return _CHECKOUT / "data"
    cache = os.environ.get("XDG_CACHE_HOME", "").strip() or str(Path.home() / ".cache")
    return Path(cache) / "cnnkit"


def pin_data_root() -> None:
    """Make a relative ``CNNKIT_DATA`` absolute, against the current working directory.

    Call it before starting a process that works in another folder (a notebook kernel runs in the
    notebook's folder), so that ``CNNKIT_DATA=../shared/data pytest`` means the same folder there.
    """
    env = os.environ.get(DATA_ENV, "").strip()
    if env and not Path(env).expanduser().is_absolute():
        os.environ[DATA_ENV] = str(Path(env).expanduser().resolve())


def is_quick() -> bool:
    """True in reduced mode (``CNNKIT_QUICK`` set to 1, true, yes or on)."""
    return os.environ.get(QUICK_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


def pick(full, quick):
    """Return ``full`` normally and ``quick`` in reduced mode.

    A notebook states both sizes in one line, so a reader always sees the full value::

        EPOCHS = cnnkit.pick(full=30, quick=1)
    """
    return quick if is_quick() else full


def cap_without_gpu(limit: int, gpus: list | None = None) -> int | None:
    """``limit`` when TensorFlow sees no GPU, else ``None`` (no cap).

    For full settings whose complete dataset would take hours on a CPU: a notebook trains on at most
    ``limit`` images there and on all of them on a GPU, and says which it did::

        TRAIN_CAP = cnnkit.pick(full=cnnkit.config.cap_without_gpu(2_000), quick=400)

    ``gpus`` (the names :func:`gpu_names` returns) is for tests; by default TensorFlow is asked.
    """
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
        raise ValueError(f"limit must be a positive whole number of images, not {limit!r}")
    if gpus is None:
        gpus = gpu_names()
    return None if gpus else limit


def set_seed(seed: int = 42, deterministic: bool = False) -> int:
    """Seed Python, NumPy and TensorFlow/Keras in one call (``keras.utils.set_random_seed``).

    On a CPU this makes a run repeatable. On a GPU some kernels (cuDNN convolutions, atomic
    reductions) are not deterministic, so the last digits of losses and accuracies still vary.
    ``deterministic=True`` also calls ``tf.config.experimental.enable_op_determinism()``, which makes
    TensorFlow pick deterministic kernels (and run ``tf.data`` transformations deterministically). It
    costs speed, mostly on a GPU, and an operation without a deterministic kernel then raises an
    ``UnimplementedError`` instead of running. TensorFlow has no public switch to turn it off again:
    it stays on until the Python process (the notebook's kernel) restarts.
    """
    import keras

    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    if not isinstance(deterministic, bool):
        raise ValueError(f"deterministic must be True or False, got {deterministic!r}")
    keras.utils.set_random_seed(seed)
    if deterministic:
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()
    return seed


def gpu_names() -> list[str]:
    """Names of the GPUs TensorFlow can use (empty on a CPU-only machine)."""
    import tensorflow as tf

    names = []
    for dev in tf.config.list_physical_devices("GPU"):
        try:
            details = tf.config.experimental.get_device_details(dev)
            names.append(details.get("device_name", dev.name))
        except Exception:  # details are best effort
            names.append(dev.name)
    return names


def cpu_has_bf16(cpuinfo: str | None = None) -> bool:
    """True when the processor has bfloat16 instructions (x86 flags ``avx512_bf16`` or ``amx_bf16``).

    Read from ``/proc/cpuinfo`` (Linux; elsewhere False). On such processors Keras's ``mixed_bfloat16`` policy
    speeds up convolutions; on others it emulates bfloat16 and runs slower than float32.
    """
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text()
        except OSError:
            return False
    for line in cpuinfo.splitlines():
        if line.startswith("flags"):
            flags = set(line.split(":", 1)[1].split())
            return bool(flags & {"avx512_bf16", "amx_bf16"})
    return False


def on_colab() -> bool:
    return "google.colab" in sys.modules


def env_info() -> dict:
    """The facts :func:`env_report` prints, as a dict (also stored with every result)."""
    import keras
    import numpy as np
    import tensorflow as tf

    from . import __version__

    return {
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "numpy": np.__version__,
        "cnnkit": __version__,
        "platform": platform.platform(),
        "cpu": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "gpus": gpu_names(),
        "data_root": str(data_root()),
        "mode": "quick" if is_quick() else "full",
        "colab": on_colab(),
    }


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def env_report(file=None) -> dict:
    """Print versions, GPU or not, the data root and the mode; return the same facts."""
    info = env_info()
    gpu = ", ".join(info["gpus"]) if info["gpus"] else "none (training runs on the CPU)"
    mode = "quick (CNNKIT_QUICK=1: fewer examples and epochs)" if is_quick() else "full size"
    lines = [
        f"Python      {info['python']}",
        f"TensorFlow  {info['tensorflow']}",
        f"Keras       {info['keras']}",
        f"cnnkit      {info['cnnkit']}",
        f"CPU         {info['cpu']} ({info['cpu_count']} cores)",
        f"GPU         {gpu}",
        f"Data root   {info['data_root']}",
        f"Mode        {mode}",
    ]
    if info["colab"] and not info["gpus"]:
        lines.append("Tip: on Colab choose Runtime > Change runtime type > GPU; training is much faster.")
    print("\n".join(lines), file=file or sys.stdout)
    return info
