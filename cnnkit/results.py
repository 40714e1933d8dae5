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
from pathlib import Path

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


def minutes_text(seconds) -> str:
    """A measured duration as the course prints it: ``"45 s"`` under two minutes, else ``"29 min"``."""
    if seconds is None:
        return "not measured"
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min"


_SPLIT_ORDER = ("train", "validation", "val", "test")  # "val" as notebooks 05 and 07 record it
_SPLIT_SHOWN = {"validation": "val", "test_simple": "TEST_SIMPLE"}


def data_label(entry: dict) -> str:
    """What data a recorded model used: ``full dataset`` or ``sample``, with image counts.

    Read from the entry's ``data_scope`` and ``<split>_images`` fields; an entry without ``data_scope``
    shows its free-text ``data`` field, marked as such.
    """
    scope = entry.get("data_scope")
    if scope is None:
        return f"not labelled; recorded as: {entry['data']}" if entry.get("data") else "not recorded"
    if scope not in DATA_SCOPES:
        raise ValueError(f"{entry.get('model')}: data_scope must be one of {DATA_SCOPES}, got {scope!r}")
    splits = [k.removesuffix("_images") for k in entry if k.endswith("_images") and entry[k] is not None]
    splits.sort(key=lambda s: (_SPLIT_ORDER.index(s) if s in _SPLIT_ORDER else len(_SPLIT_ORDER), s))
    counts = " / ".join(f"{entry[s + '_images']:,} {_SPLIT_SHOWN.get(s, s.replace('_', ' '))}" for s in splits)
    word = "full dataset" if scope == "full" else "sample"
    return f"{word}: {counts}" if counts else word


def run_data_label(run: dict) -> str:
    """What data a recorded run's models used: one :func:`data_label` if they agree, else one per model;
    ``""`` for a run that recorded no model."""
    labels = {m["model"]: data_label(m) for m in run.get("models", [])}
    if len(set(labels.values())) <= 1:
        return next(iter(labels.values()), "")
    return "; ".join(f"{model}: {label}" for model, label in labels.items())


# ------------------------------------------------------------------------------------------------------
# How long each notebook takes: read from results/ in a checkout, else from the copy shipped in the package

TIMINGS_FILE = Path(__file__).with_name("recorded_times.json")
_TIMED = (("reduced mode", "quick", "cpu"), ("full settings", "full", "cpu"), ("full settings", "full", "gpu"))


def _timing(run: dict | None) -> dict | None:
    if run is None:
        return None
    machine = run.get("machine", {})
    where = run["device"][5:] if run["device"].startswith("gpu: ") else machine.get("cpu")
    by_label = {}  # each different data label once, with the models that used it when they differ
    for m in run.get("models", []):
        by_label.setdefault(data_label(m), []).append(m["model"])
    data = "; ".join(by_label) if len(by_label) <= 1 else "; ".join(
        f"{', '.join(names)}: {label}" for label, names in by_label.items())
    return {"seconds": run["wall_seconds"], "machine": where, "cores": machine.get("cpu_count"), "data": data}


def timings(results_dir) -> dict:
    """For every notebook with a results file in ``results_dir`` (or its ``quick/`` folder): its recorded
    whole-notebook wall times, as ``{stem: {"quick_cpu": ..., "full_cpu": ..., "full_gpu": ...}}``, each
    ``{"seconds", "machine", "cores", "data"}`` or None when that run was not measured.

    This is what ``python -m cnnkit syllabus`` writes into the package (:data:`TIMINGS_FILE`), so that
    :func:`show_timings` also works where cnnkit is installed without the course checkout (Colab).
    """
    results_dir = Path(results_dir)
    docs = {}
    for mode, folder in (("full", results_dir), ("quick", results_dir / "quick")):
        for f in sorted(folder.glob("*.json")):
            docs.setdefault(f.stem, {})[mode] = json.loads(f.read_text(encoding="utf-8"))
    return {stem: {f"{mode}_{device}": _timing(latest_run(by_mode.get(mode), device, mode=mode))
                   for _, mode, device in _TIMED}
            for stem, by_mode in sorted(docs.items())}


def _saved_timings() -> dict:
    from .config import _CHECKOUT, _in_checkout

    if _in_checkout() and (_CHECKOUT / "results").is_dir():
        return timings(_CHECKOUT / "results")
    if TIMINGS_FILE.is_file():
        return json.loads(TIMINGS_FILE.read_text(encoding="utf-8"))
    return {}


def timing_lines(notebook: str, recorded: dict | None = None) -> list[str]:
    """The lines :func:`show_timings` prints for ``notebook`` (its file stem), from ``recorded`` (the shape
    :func:`timings` returns; default: the course's recorded times)."""
    recorded = _saved_timings() if recorded is None else recorded
    times = recorded.get(notebook, {})
    lines = ["How long this notebook takes, as the course recorded it (the whole notebook, run by "
             "python -m cnnkit run-full):"]
    for words, mode, device in _TIMED:
        t = times.get(f"{mode}_{device}")
        label = f"{words}, {'GPU' if device == 'gpu' else 'CPU'}"
        if t is None:
            lines.append(f"  {label}: not measured yet")
            continue
        machine = (f"{t['cores']} cores, {t['machine']}" if device == "cpu" and t.get("cores") else t["machine"])
        data = f"; data: {t['data']}" if t.get("data") else ""
        lines.append(f"  {label} ({machine}): {minutes_text(t['seconds'])}{data}")
    return lines


def show_timings(notebook: str) -> None:
    """Print how long ``notebook`` (its file stem, e.g. ``"05_cifar10_augmentation"``) takes in reduced mode
    and at full settings on the course's CPU, on which data, and on a GPU, as recorded in ``results/`` (or
    "not measured yet"), after an empty line: a Setup cell calls it after :func:`cnnkit.env_report`, whose
    ``Mode`` line says which of the two this session runs in."""
    print("\n" + "\n".join(timing_lines(notebook)))


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
