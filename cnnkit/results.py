"""Record a notebook's headline metrics, and time code.

A notebook calls :func:`record` once per model it reports::

    with cnnkit.timer() as t:
        history = model.fit(...)
    cnnkit.record("lenet", test_accuracy=acc, macro_f1=f1, epochs=len(history.epoch),
                  train_seconds=t.seconds, data="Fashion-MNIST: 54,000 train / 6,000 validation / 10,000 test",
                  data_scope="full", train_images=54_000, validation_images=6_000, test_images=10_000)

``data`` describes the data in words; ``data_scope`` says whether it was the ``"full"`` dataset or a
``"sample"`` of it (such as the offline data pack's), and ``<split>_images`` count the images of each split.
The README's syllabus table shows those, so that no result on a sample reads as a full-dataset result.

:func:`saved_run` reads a saved run back (:func:`latest_run` picks it), e.g. for a later notebook to compare with (notebook 07 quotes 06).

In an interactive session that only prints the line. When ``python -m cnnkit run-full`` executes the
notebook it sets ``CNNKIT_RESULTS`` to a file, and the entries are appended there (JSON lines); the
runner then writes ``results/<notebook>.json`` with a description of the machine.
"""

from __future__ import annotations

import json
import math
import os
import time

RESULTS_ENV = "CNNKIT_RESULTS"
KNOWN_METRICS = ("test_accuracy", "macro_f1", "auc", "epochs", "train_seconds")
DATA_SCOPES = ("full", "sample")

_recorded: list = []


def _plain(key, value):
    if hasattr(value, "item"):  # NumPy / TensorFlow scalars
        value = value.item()
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"metric {key!r} is {value}; record finite numbers only")
        return value
    raise TypeError(f"metric {key!r} must be a number, a string, a bool or None, got {type(value).__name__}")


def record(model: str, **metrics) -> None:
    """Record the metrics of one model and print one line saying what was recorded. See the module docstring.

    It returns nothing, so that a call at the end of a notebook cell does not echo the entry a second time;
    :func:`recorded` gives the entries back."""
    if not isinstance(model, str) or not model:
        raise ValueError("record() needs the model's name as its first argument")
    for key in ("test_accuracy", "macro_f1", "auc"):
        value = metrics.get(key)
        if value is not None and not 0.0 <= float(value) <= 1.0:
            raise ValueError(f"{key} must be a fraction between 0 and 1, got {value!r}")
    scope = metrics.get("data_scope")
    if scope is not None and scope not in DATA_SCOPES:
        raise ValueError(f"data_scope must be one of {DATA_SCOPES}, got {scope!r}")
    for key, value in metrics.items():
        count = value.item() if hasattr(value, "item") else value
        if key.endswith("_images") and count is not None and (
                isinstance(count, bool) or not isinstance(count, int) or count < 0):
            raise ValueError(f"{key} must be a number of images (an int >= 0), got {value!r}")
    entry = {"model": model, **{k: _plain(k, v) for k, v in metrics.items()}}
    _recorded.append(entry)
    target = os.environ.get(RESULTS_ENV, "").strip()
    if target:
        with open(target, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(entry) + "\n")
    shown = ", ".join(f"{k}={_fmt(v)}" for k, v in entry.items() if k != "model")
    print(f"[recorded] {model}: {shown}")


def saved_run(notebook: str, device: str = "cpu", results_dir=None) -> dict | None:
    """The saved full-settings run of ``notebook`` (its file stem, e.g. ``"06_cats_vs_dogs_sigmoid"``) on
    ``device`` (``"cpu"`` or ``"gpu"``), as ``python -m cnnkit run-full`` wrote it; None when there is none.

    ``results_dir`` defaults to ``results/`` in the course checkout; without a checkout (cnnkit installed
    on its own, as on Colab) there is no saved run and the answer is None.
    """
    from pathlib import Path

    from .config import _CHECKOUT, _in_checkout

    if device not in ("cpu", "gpu"):
        raise ValueError(f"device must be 'cpu' or 'gpu', got {device!r}")
    if results_dir is None:
        if not _in_checkout():
            return None
        results_dir = _CHECKOUT / "results"
    path = Path(results_dir) / f"{notebook}.json"
    if not path.is_file():
        return None
    return latest_run(json.loads(path.read_text(encoding="utf-8")), device, mode="full")


def latest_run(doc: dict | None, device: str, mode: str | None = None) -> dict | None:
    """The last run in a results file's contents ``doc`` whose device is ``device`` (``"cpu"`` or ``"gpu"``,
    compared with the start of the recorded device, e.g. ``"gpu: H100"``) and, if given, whose mode is
    ``mode``; None when there is none."""
    runs = [r for r in (doc or {}).get("runs", [])
            if r.get("device", "").startswith(device) and (mode is None or r.get("mode") == mode)]
    return runs[-1] if runs else None


def _fmt(value):
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def recorded() -> list:
    """Entries recorded so far in this Python process."""
    return list(_recorded)


def read_entries(path) -> list:
    """The entries a notebook run appended to ``path`` (JSON lines)."""
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


class timer:
    """Context manager measuring wall-clock seconds: ``with timer() as t: ...; t.seconds``."""

    def __init__(self):
        self.seconds = None

    def __enter__(self):
        self._start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self._start
        return False
