"""``python -m cnnkit doctor``: is this machine ready for the course?

It prints the environment report (versions, GPU, data root, mode), then whether the running Python,
TensorFlow and Keras are inside the range the course was tested on (:data:`TESTED`, :func:`check_versions`),
then, for each dataset, whether it is in the data root and whether it is the **full** dataset or a
**sample** of it (such as the offline data pack's), with counts. Nothing is downloaded. The exit status is 0
when the versions can run the course and all four datasets are there and readable, 1 otherwise (also when
the data root itself does not exist), so a workshop can use it as its pre-flight check. A version newer
than the tested range, or a Python that TensorFlow supports but the course was not tested on, is a warning
only.
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

# The one place that says which versions the course was tested with (tests check it against pyproject.toml's
# lower bounds and requires-python). Lowest: pyproject.toml's lower bounds, installed and tested by
# scripts/lowest_versions.sh (results/lowest_versions.log); latest: the newest releases, as CI installs them.
TESTED = {
    "Python": ("3.11", "3.11"),
    "TensorFlow": ("2.17.0", "2.21.0"),
    "Keras": ("3.13.0", "3.15.1"),
}
# The Pythons that TensorFlow publishes wheels for across TESTED's range (2.17: 3.9 to 3.12; 2.21: 3.10 to
# 3.13; none for 3.14 but a pre-release), from 3.10, pyproject.toml's requires-python.
SUPPORTED_PYTHON = ("3.10", "3.13")


@dataclass
class VersionCheck:
    """What :func:`check_versions` found for Python, TensorFlow or Keras."""

    name: str
    version: str
    status: str  # "ok", "warning" (should work, not tested) or "problem" (cannot run the course)
    message: str  # empty when ok


def _release(version: str) -> tuple:
    """``(3, 9, 0)`` from ``"3.9.0"``, ``"3.9.0rc1"`` or ``"2.16.1-dev"``: the numbers only, padded to three."""
    parts = [int(p) for p in re.findall(r"\d+", re.match(r"[\d.]*", version).group())[:3]]
    return tuple(parts + [0] * (3 - len(parts)))


def _minor(version: str) -> tuple:
    return _release(version)[:2]


def check_versions(python: str | None = None, tensorflow: str | None = None, keras: str | None = None) -> list:
    """Python, TensorFlow and Keras against :data:`TESTED`; by default the running ones.

    Outside the tested range each gets a message saying what to do: older than the lower bound (or a Python
    TensorFlow has no wheels for) is a ``"problem"``; newer than the latest tested release, or a supported
    but untested Python, is a ``"warning"``.
    """
    import platform

    if python is None:
        python = platform.python_version()
    if tensorflow is None or keras is None:
        from .quiet import import_tensorflow

        tf = import_tensorflow()
        import keras as keras_module

        tensorflow = tf.__version__ if tensorflow is None else tensorflow
        keras = keras_module.__version__ if keras is None else keras
    checks = []
    low, high = (_minor(v) for v in SUPPORTED_PYTHON)
    tested = "Python " + (TESTED["Python"][0] if TESTED["Python"][0] == TESTED["Python"][1]
                          else " to ".join(TESTED["Python"]))
    if not low <= _minor(python) <= high:
        checks.append(VersionCheck("Python", python, "problem", (
            f"Python {python} is outside the supported range {SUPPORTED_PYTHON[0]} to {SUPPORTED_PYTHON[1]}"
            f"{': TensorFlow publishes no wheels for it' if _minor(python) > high else ''}. Make a virtual "
            f"environment with a supported Python ({tested} is the tested one), e.g.  python3.11 -m venv .venv")))
    elif not _minor(TESTED["Python"][0]) <= _minor(python) <= _minor(TESTED["Python"][1]):
        checks.append(VersionCheck("Python", python, "warning", (
            f"Python {python} is supported (TensorFlow has wheels for it) but the course was tested on {tested}; "
            f"it should work. If something fails, try {tested}.")))
    else:
        checks.append(VersionCheck("Python", python, "ok", ""))
    for name, version, pip_name in (("TensorFlow", tensorflow, "tensorflow"), ("Keras", keras, "keras")):
        first, last = TESTED[name]
        if _release(version) < _release(first):
            checks.append(VersionCheck(name, version, "problem", (
                f"{name} {version} is older than the course needs ({first} or newer): "
                f'pip install --upgrade "{pip_name}>={first}"')))
        elif _release(version) > _release(last):
            checks.append(VersionCheck(name, version, "warning", (
                f"{name} {version} is newer than the course was tested with ({first} to {last}); it should "
                f'work. If something fails, install the tested release:  pip install "{pip_name}=={last}"')))
        else:
            checks.append(VersionCheck(name, version, "ok", ""))
    return checks


# The full datasets, as their publishers release them (images per split or class). A data root with
# fewer holds a sample.
FULL_SIZE = {
    "fashion-mnist": {"train": 60_000, "test": 10_000},  # Zalando's four IDX files
    "cifar-10": {"train": 50_000, "test": 10_000},  # cifar-10-python.tar.gz, University of Toronto
    "blood-cells": {"TRAIN": 9_957, "TEST": 2_487, "TEST_SIMPLE": 71},  # Kaggle paultimothymooney/blood-cells
    "cats-vs-dogs": {"Cat": 12_500, "Dog": 12_500},  # Microsoft kagglecatsanddogs_5340.zip
}


@dataclass
class DatasetCheck:
    """What :func:`check_datasets` found for one dataset."""

    name: str
    present: bool
    scope: str | None  # "full" or "sample" when present
    counts: dict
    detail: str  # one line for the report


def _scope(name: str, counts: dict) -> str:
    full = FULL_SIZE[name]
    return "full" if all(counts.get(part, 0) >= n for part, n in full.items()) else "sample"


def _describe(name: str, counts: dict, scope: str) -> str:
    full = FULL_SIZE[name]
    if scope == "full":
        return "full dataset: " + ", ".join(f"{counts[p]:,} {p}" for p in full)
    parts = []
    for part, n in full.items():
        got = counts.get(part, 0)
        parts.append(f"{got:,} {part} (complete)" if got >= n else f"{got:,} of {n:,} {part}")
    return "sample: " + ", ".join(parts)


def _count_images(folder: Path) -> int:
    from . import data

    return sum(1 for p in folder.rglob("*") if p.suffix.lower() in data.IMAGE_EXTENSIONS and p.is_file())


def _counts(name: str) -> dict:
    """Images per split (or class) of a dataset that :func:`cnnkit.data.status` reports as present."""
    from . import data

    if name == "fashion-mnist":
        (x_train, _), (x_test, _) = data.load_fashion_mnist()
        return {"train": len(x_train), "test": len(x_test)}
    if name == "cifar-10":
        (x_train, _), (x_test, _) = data.load_cifar10()
        return {"train": len(x_train), "test": len(x_test)}
    if name == "blood-cells":
        images = data.ensure_blood_cells()
        return {split: _count_images(images / split) if (images / split).is_dir() else 0
                for split in data.BLOOD_CELL_SPLITS}
    pets = data.ensure_cats_vs_dogs()
    return {c: _count_images(pets / c) for c in ("Cat", "Dog")}


def check_datasets() -> list[DatasetCheck]:
    """Each dataset's presence, full or sample, and counts; never downloads."""
    from . import data

    out = []
    for name, (present, detail) in data.status().items():
        if not present:
            out.append(DatasetCheck(name, False, None, {}, detail))
            continue
        try:
            counts = _counts(name)
        except Exception as err:  # a damaged file: report it, the other datasets are still checked
            out.append(DatasetCheck(name, False, None, {}, f"present but unreadable: {type(err).__name__}: {err}"))
            continue
        if not any(counts.values()):
            out.append(DatasetCheck(name, False, None, counts, "the folders are there but hold no images"))
            continue
        scope = _scope(name, counts)
        out.append(DatasetCheck(name, True, scope, counts, _describe(name, counts, scope)))
    return out


def missing_root_message() -> str | None:
    """One line if the data root does not exist (say whether ``CNNKIT_DATA`` put it there), else None."""
    from .config import DATA_ENV, data_root

    root = data_root()
    if root.is_dir():
        return None
    env = os.environ.get(DATA_ENV, "").strip()
    if root.exists():
        return f"The data root {root} is not a folder."
    if not env:
        return (f"The data root {root} does not exist yet: run  python -m cnnkit download all  to create it "
                f"and fetch the datasets, or set {DATA_ENV} to a folder that has them.")
    hint = "a typo?"
    if not Path(env).expanduser().is_absolute():
        hint = f"{env!r} is relative to the working directory {Path.cwd()}; use an absolute path"
    return f"{DATA_ENV} points to {root}, which does not exist ({hint})."


def run(file=None) -> int:
    """Print the report; return the exit status (0: all datasets there, 1: something missing)."""
    from .config import env_report
    from .quiet import import_tensorflow

    out = file or sys.stdout
    import_tensorflow()  # before env_report, so that TensorFlow's start-up notices stay out of the report
    info = env_report(file=out)
    versions = check_versions(info["python"], info["tensorflow"], info["keras"])
    print(f"\nVersions (tested: {', '.join(f'{n} {a} to {b}' if a != b else f'{n} {a}' for n, (a, b) in TESTED.items())}):",
          file=out)
    for c in versions:
        mark = {"ok": "ok     ", "warning": "WARNING", "problem": "PROBLEM"}[c.status]
        print(f"  {mark} {c.name:<11} {c.version}" + (f": {c.message}" if c.message else ""), file=out)
    bad_versions = any(c.status == "problem" for c in versions)
    print("\nDatasets:", file=out)
    problem = missing_root_message()
    if problem:
        print(f"  {problem}", file=out)
        return 1
    checks = check_datasets()
    for c in checks:
        mark = "ok     " if c.present else "MISSING"
        print(f"  {mark} {c.name:<14} {c.detail}", file=out)
    missing = [c.name for c in checks if not c.present]
    if missing:
        print(f"\n{len(missing)} dataset(s) missing or unreadable. Online, a notebook downloads what it needs when "
              "first used; before a workshop, or to work offline, run  python -m cnnkit download all.", file=out)
        return 1
    if bad_versions:
        print("\nThe versions marked PROBLEM cannot run the course: do what their line says, then run  "
              "python -m cnnkit doctor  again.", file=out)
        return 1
    if any(c.scope == "sample" for c in checks):
        print("\nThe notebooks run on a sample too (CI uses the offline pack's), but what a model trained on a "
              "sample scores is not comparable with results on the full dataset.", file=out)
    return 0
