"""Run notebooks end to end and keep what they measured; build the README's syllabus table from it.

``python -m cnnkit run-full notebooks/04_*.ipynb`` executes a notebook at full settings (``CNNKIT_QUICK``
unset) with nbclient. The notebook's :func:`cnnkit.record` calls land in ``results/<notebook>.json``
together with the machine (CPU, cores, GPU, TensorFlow) and the wall time. ``--quick`` runs in reduced
mode and writes ``<results>/quick/<notebook>.json`` instead, so a reduced run never overwrites a full one
(the command line's default for ``--quick`` is ``local-results/``, which git ignores).
Each file keeps one run per device (``cpu`` or the GPU's name); a new run replaces the old one.

"Full settings" means the notebook's full-size values (``cnnkit.pick(full=...)``); the data can still be a
sample (the offline pack's). Each recorded model therefore says what data it used: ``data_scope``
(``"full"`` or ``"sample"``) and ``<split>_images`` counts, which the syllabus table shows.

``python -m cnnkit syllabus`` rewrites the table between the README's syllabus markers from those files, and
the notebooks' recorded times shipped in the package (``cnnkit/recorded_times.json``, for Colab).
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import tempfile
import time
from pathlib import Path

from .results import RESULTS_ENV, data_label, latest_run, read_entries, run_data_label  # noqa: F401 (data_label: runner's API)
from .results import minutes_text as _minutes


class NotebookFailed(RuntimeError):
    """A notebook run by :func:`run_notebook` stopped with an error; the message says where and why, in one line."""

START, END = "<!-- syllabus:start -->", "<!-- syllabus:end -->"

# notebook stem -> (what you learn, dataset)
SYLLABUS = {
    "00_setup_check": ("Check the installation, the GPU and the datasets", "all four"),
    "01_pixels_and_convolution": ("Pixels as numbers; convolution by hand and in Keras; padding, stride",
                                  "Fashion-MNIST, CIFAR-10, blood cells"),
    "02_pooling_and_activations": ("Pooling, activations, softmax; a conv-ReLU-pool block", "CIFAR-10, blood cells"),
    "03_blood_cells": ("A 4-class classifier from image folders: the articles' way first, the leakage found and "
                       "fixed (a split by smear), an improved CNN, the test set used once", "Blood Cell Images (Kaggle)"),
    "04_lenet_fashion_mnist": ("LeNet-style CNN, validation, early stopping, error analysis; optimisers (SGD, "
                               "momentum, Nesterov, Adam), weight decay, learning-rate schedules", "Fashion-MNIST"),
    "05_cifar10_augmentation": ("Augmentation, measured; a fast modern CNN ingredient by ingredient (whitening, "
                                "schedule, weight averaging, TTA); saving and resuming; several devices", "CIFAR-10"),
    "06_cats_vs_dogs_sigmoid": ("Binary classification with one sigmoid unit; thresholds, ROC", "PetImages"),
    "07_transfer_learning_and_gradcam": ("Reuse a trained network (transfer learning, fine-tuning); feature maps; "
                                         "Grad-CAM and its sanity check", "PetImages, CIFAR-10, blood cells"),
}


def device_label(info: dict) -> str:
    return f"gpu: {info['gpus'][0]}" if info.get("gpus") else "cpu"


def _git_commit(folder: Path) -> str | None:
    import subprocess

    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=folder, capture_output=True, text=True)
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "."], cwd=folder, capture_output=True,
                               text=True).stdout.strip()
    except OSError:
        return None
    return (out.stdout.strip() + ("+changes" if dirty else "")) if out.returncode == 0 else None


def _kernel_config(folder):
    """Kernel settings for a run: on POSIX, local (IPC) sockets in ``folder`` instead of TCP ports on
    localhost, so no other user of the machine can connect and ipykernel has no reason to warn that the
    kernel "is running over TCP without encryption"."""
    from traitlets.config import Config

    config = Config()
    if os.name == "posix":
        config.KernelManager.transport = "ipc"
        config.KernelManager.ip = str(Path(folder) / "kernel")
    return config


def _replay_kernel_stderr(log: Path) -> None:
    """Pass on what the kernel wrote to stderr, without TensorFlow's start-up notices (see cnnkit.quiet)."""
    import sys

    from .quiet import drop_notices

    try:
        text = log.read_bytes().decode("utf-8", errors="replace")
    except OSError:
        return
    rest = drop_notices(text)
    if rest.strip():
        sys.stderr.write(rest)
        sys.stderr.flush()


def _failure_summary(err, nb) -> str:
    """One line: which cell failed and with what error."""
    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                first = (str(out.get("evalue", "")).strip().splitlines() or [""])[0]
                return f"the cell In [{cell.get('execution_count')}] (cell {i + 1} of {len(nb.cells)}) raised " \
                       f"{out.get('ename')}: {first}"
    first = (str(err).strip().splitlines() or [type(err).__name__])[0]
    return f"{type(err).__name__}: {first}"


def run_notebook(path, results_dir="results", quick: bool = False, timeout: int = 4 * 3600,
                 executed_dir=None) -> Path:
    """Execute ``path`` and write its results file; return that file's path.

    With ``executed_dir``, the executed notebook (with its outputs: training logs, figures) is also written
    there as ``<name>.executed.ipynb``, also when a cell fails, so a long run can be inspected afterwards.
    An existing file of that name is an error before anything runs; nothing is overwritten.
    """
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    from .config import env_info, pin_data_root
    from .quiet import import_tensorflow

    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    executed = None
    if executed_dir is not None:
        executed = Path(executed_dir) / f"{path.stem}.executed.ipynb"
        if executed.exists():
            raise FileExistsError(f"{executed} exists already; move it away or pick another folder "
                                  "(run-full never overwrites it)")
        executed.parent.mkdir(parents=True, exist_ok=True)
    commit = _git_commit(path.parent)
    out_dir = Path(results_dir) / ("quick" if quick else "")
    out_dir.mkdir(parents=True, exist_ok=True)
    saved_env = dict(os.environ)
    pin_data_root()  # the kernel works in the notebook's folder; a relative CNNKIT_DATA must still hold
    failure = None
    with tempfile.TemporaryDirectory() as tmp:
        metrics = Path(tmp) / "metrics.jsonl"
        os.environ[RESULTS_ENV] = str(metrics)
        os.environ["CNNKIT_STRICT_CHECKS"] = "1"
        if quick:
            os.environ["CNNKIT_QUICK"] = "1"
        else:
            os.environ.pop("CNNKIT_QUICK", None)
        try:
            import_tensorflow()  # env_info() needs it; its start-up notices stay out of the output
            info = env_info()
            print(f"running {path} ({info['mode']}, {device_label(info)}) ...", flush=True)
            start = time.perf_counter()
            kernel_log = Path(tmp) / "kernel-stderr.txt"
            client = NotebookClient(nb, timeout=timeout, kernel_name="python3", config=_kernel_config(tmp),
                                    resources={"metadata": {"path": str(path.parent)}})
            try:
                with open(kernel_log, "wb") as log:
                    client.execute(stderr=log)
            except (CellExecutionError, CellTimeoutError, DeadKernelError) as err:
                failure = err
            finally:
                _replay_kernel_stderr(kernel_log)
                if executed is None and failure is not None:
                    executed = Path(tempfile.mkdtemp(prefix="cnnkit-run-full-")) / f"{path.stem}.executed.ipynb"
                if executed is not None:
                    nbformat.write(nb, executed)
                    print(f"wrote the executed notebook to {executed}", flush=True)
            wall = time.perf_counter() - start
            entries = read_entries(metrics)
        finally:
            os.environ.clear()
            os.environ.update(saved_env)
    if failure is not None:
        raise NotebookFailed(f"{path} failed: {_failure_summary(failure, nb)}; the executed notebook, with the "
                             f"full traceback, is {executed}")
    run = {
        "mode": info["mode"],
        "device": device_label(info),
        "finished": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "wall_seconds": round(wall, 1),
        "commit": commit,
        "load_average_1min_at_end": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None,
        "machine": {k: info[k] for k in ("cpu", "cpu_count", "gpus", "platform", "python", "tensorflow", "keras",
                                         "cnnkit", "data_root")},
        "models": entries,
    }
    target = out_dir / f"{path.stem}.json"
    doc = json.loads(target.read_text()) if target.exists() else {"notebook": f"notebooks/{path.name}", "runs": []}
    doc["runs"] = [r for r in doc["runs"] if r["device"] != run["device"]] + [run]
    target.write_text(json.dumps(doc, indent=2) + "\n")
    print(f"wrote {target}: {len(entries)} model(s), {wall:.0f} s")
    return target


def _load(results_dir) -> tuple[dict, dict]:
    full, quick = {}, {}
    for store, folder in ((full, Path(results_dir)), (quick, Path(results_dir) / "quick")):
        for f in sorted(folder.glob("*.json")):
            store[f.stem] = json.loads(f.read_text())
    return full, quick


_HEADLINE_FIELDS = (  # (key in a model's record, how the syllabus table shows it), in the table's order
    ("test_accuracy", lambda v: f"{100 * v:.1f}% test acc"),
    ("test_accuracy_without_tta", lambda v: f"{100 * v:.1f}% without TTA"),
    ("test_simple_accuracy", lambda v: f"{100 * v:.1f}% TEST_SIMPLE acc"),
    ("macro_f1", lambda v: f"macro-F1 {v:.3f}"),
    ("auc", lambda v: f"AUC {v:.3f}"),
    ("epochs", lambda v: f"{v} ep"),
    ("train_seconds", lambda v: f"train {_minutes(v)}"),
)


def _headline(run) -> str:
    if not run or not run["models"]:
        return ""
    parts = []
    for m in run["models"]:
        bits = [fmt(m[key]) for key, fmt in _HEADLINE_FIELDS if m.get(key) is not None]
        parts.append(f"{m['model']}: " + ", ".join(bits))
    return "; ".join(parts)


def _data_cell(run) -> str:
    return run_data_label(run) if run else ""


def syllabus_table(results_dir="results") -> str:
    """The README's syllabus table (Markdown), measured columns filled from the results files."""
    full, quick = _load(results_dir)
    rows = ["| Notebook | What you learn | Dataset | Reduced mode, CPU | Full settings, CPU | Full settings, GPU | "
            "Data used at full settings | Results at full settings (CPU run unless marked GPU) |",
            "|---|---|---|---|---|---|---|---|"]
    for stem, (learn, dataset) in SYLLABUS.items():
        q = latest_run(quick.get(stem), "cpu")
        cpu = latest_run(full.get(stem), "cpu")
        gpu = latest_run(full.get(stem), "gpu")
        gpu_cell = f"{_minutes(gpu['wall_seconds'])} ({gpu['device'][5:]})" if gpu else "not measured"
        shown = cpu if cpu and cpu["models"] else gpu
        results = _headline(shown) if shown is cpu else (f"GPU: {_headline(gpu)}" if gpu and gpu["models"] else "")
        rows.append(f"| [{stem}](notebooks/{stem}.ipynb) | {learn} | {dataset} | "
                    f"{_minutes(q['wall_seconds']) if q else 'not measured'} | "
                    f"{_minutes(cpu['wall_seconds']) if cpu else 'not measured'} | {gpu_cell} | "
                    f"{_data_cell(shown)} | {results} |")
    machines = {r["machine"]["cpu"] + f" ({r['machine']['cpu_count']} cores)"
                for doc in list(full.values()) + list(quick.values()) for r in doc["runs"]
                if not r["device"].startswith("gpu")}
    note = ("\n\nTimes are whole-notebook wall times from `python -m cnnkit run-full` (files in `results/`), "
            f"measured on: {'; '.join(sorted(machines)) or 'no run yet'}. *Full settings* are the notebook's "
            "full-size values (`CNNKIT_QUICK` unset); the data column says whether a run had the full dataset or "
            "a sample of it (the offline data pack's), with the number of images in each split.")
    return "\n".join(rows) + note


def update_timings(results_dir="results", target=None, check: bool = False) -> bool:
    """Write the recorded times of every notebook (:func:`cnnkit.results.timings`) into the package's
    ``recorded_times.json`` (or ``target``), which :func:`cnnkit.results.show_timings` reads where there is no
    checkout; return True if it changed (or would, with check)."""
    from .results import TIMINGS_FILE, timings

    target = Path(target or TIMINGS_FILE)
    new = json.dumps(timings(results_dir), indent=1, sort_keys=True) + "\n"
    old = target.read_text(encoding="utf-8") if target.is_file() else None
    if new == old:
        return False
    if not check:
        target.write_text(new, encoding="utf-8")
    return True


def replace_between(path, start: str, end: str, body: str, check: bool = False) -> bool:
    """Replace what stands between the markers ``start`` and ``end`` in the file at ``path`` with ``body``;
    return True if that changed the file (or would, with ``check``, which writes nothing). The generated
    parts of the README and of the workshop kit are written this way."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    if start not in text or end not in text:
        raise ValueError(f"{path} has no {start} ... {end} markers")
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    new = f"{head}{start}\n{body}\n{end}{tail}"
    if new == text:
        return False
    if not check:
        path.write_text(new, encoding="utf-8")
    return True


def update_readme(readme="README.md", results_dir="results", check: bool = False) -> bool:
    """Replace the table between the syllabus markers; return True if it changed (or would, with check)."""
    return replace_between(readme, START, END, syllabus_table(results_dir), check)
