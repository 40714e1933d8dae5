"""``python -m cnnkit doctor``: is this machine ready for the course?

It prints the environment report (versions, GPU, data root, mode), then, for each dataset, whether it is
in the data root and whether it is the **full** dataset or a **sample** of it (such as the offline data
pack's), with counts. Nothing is downloaded. The exit status is 0 when all four datasets are there and
readable, 1 otherwise (also when the data root itself does not exist), so a workshop can use it as its
pre-flight check.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

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
    env_report(file=out)
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
    if any(c.scope == "sample" for c in checks):
        print("\nThe notebooks run on a sample too (CI uses the offline pack's), but what a model trained on a "
              "sample scores is not comparable with results on the full dataset.", file=out)
    return 0
