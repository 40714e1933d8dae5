"""CIFAR-10 (Krizhevsky, 2009): 60,000 32x32 colour photos in 10 classes.

Read from the official "python version" batches in ``<data root>/cifar-10/cifar-10-batches-py/``, made
there from the official archive (checked by SHA-256) when missing. Any number of images per batch is
accepted, so the offline pack's sample loads too (:func:`cifar10_provenance` says which kind it is).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np

from .. import fetch
from ..config import data_root
from .common import DataNotFoundError, download_root
from .splits import balanced_indices

CIFAR10_CLASSES = [
    "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck",
]
URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
SHA256 = "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce"  # also pinned by keras.datasets.cifar10
FILES = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch", "batches.meta"]


def folder() -> Path:
    """Where the batches belong: ``<data root>/cifar-10/cifar-10-batches-py``."""
    return data_root() / "cifar-10" / "cifar-10-batches-py"


def ensure_cifar10() -> Path:
    """Return ``cifar-10/cifar-10-batches-py``, downloading and extracting the official archive if needed."""
    where = folder()
    missing = [name for name in FILES if not (where / name).is_file()]
    if not missing:
        return where
    if where.exists():  # partly filled: never overwrite what is there
        raise DataNotFoundError(
            "cifar-10", where, missing,
            reason="the folder exists but is incomplete; move it aside and run the download again",
        )
    download_root("cifar-10", where, missing)
    archive = where.parent / "cifar-10-python.tar.gz"
    try:
        fetch.download(URL, archive, SHA256)
        staging = fetch.extract(archive, where.parent / ".cifar-10-python.extracted")
        os.replace(staging / "cifar-10-batches-py", where)
        shutil.rmtree(staging)
    except (fetch.DownloadError, OSError) as err:
        raise DataNotFoundError("cifar-10", where, missing, reason=str(err)) from None
    return where


def read_cifar_batch(path):
    """One CIFAR ``data_batch_*``/``test_batch`` file as uint8 images ``(N, 32, 32, 3)`` and labels ``(N,)``.

    Accepts any number of images per batch; reads with an unpickler that cannot run code.
    """
    batch = fetch.load_pickle(path)
    if not isinstance(batch, dict) or b"data" not in batch or b"labels" not in batch:
        raise ValueError(f"{path} is not a CIFAR-10 batch (no 'data' and 'labels' entries).")
    data = np.asarray(batch[b"data"], dtype=np.uint8)
    labels = np.asarray(batch[b"labels"], dtype=np.uint8)
    if data.ndim != 2 or data.shape[1] != 3072 or len(data) != len(labels):
        raise ValueError(f"{path}: data of shape {data.shape} with {len(labels)} labels; expected (N, 3072).")
    return data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1).copy(), labels


def load_cifar10(limit: int | None = None):
    """CIFAR-10 as ``((x_train, y_train), (x_test, y_test))``: x uint8 ``(N, 32, 32, 3)``, y uint8 ``(N,)``.

    Labels are 1-D (Keras's loader gives ``(N, 1)``); names in :data:`CIFAR10_CLASSES`. ``limit`` caps
    each split at that many examples, the same number from every class.
    """
    where = ensure_cifar10()
    parts = [read_cifar_batch(where / f"data_batch_{i}") for i in range(1, 6)]
    x_train = np.concatenate([p[0] for p in parts])
    y_train = np.concatenate([p[1] for p in parts])
    x_test, y_test = read_cifar_batch(where / "test_batch")
    keep_train = balanced_indices(y_train, limit, 10)
    keep_test = balanced_indices(y_test, limit, 10)
    return (x_train[keep_train], y_train[keep_train]), (x_test[keep_test], y_test[keep_test])


def cifar10_provenance() -> str:
    """Describe the CIFAR-10 files in the data root: sizes, and whether the pixels are the official ones.

    The offline pack's pickles are rebuilt from JPEGs (quality 75), so their pixels are lossy; their
    ``filenames`` entries end in ``.jpg``, while the official ones end in ``.png``.
    """
    where = ensure_cifar10()
    train = sum(len(fetch.load_pickle(where / f"data_batch_{i}")[b"labels"]) for i in range(1, 6))
    test_batch = fetch.load_pickle(where / "test_batch")
    names = test_batch.get(b"filenames") or [b""]
    kind = "lossy, rebuilt from JPEGs" if bytes(names[0]).endswith(b".jpg") else "official pixels"
    size = "full set" if (train, len(test_batch[b"labels"])) == (50_000, 10_000) else "sample"
    return f"CIFAR-10 {train:,}/{len(test_batch[b'labels']):,} ({size}; {kind})"
