"""Cats vs dogs: Microsoft's PetImages photos (the Asirra set of Kaggle's "Dogs vs. Cats"), any size, two classes.

``<data root>/cats-vs-dogs/PetImages/{Cat,Dog}/*.jpg``, downloaded from Microsoft (a public Kaggle copy as
fallback) when missing. The full archive holds files that are not decodable images (an empty
``Cat/666.jpg``, ``Thumbs.db`` thumbnail caches): :func:`cats_vs_dogs` skips and lists them, deleting nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import fetch
from ..config import data_root
from .common import DataNotFoundError, download_root, kaggle_download
from .pipeline import image_folder, index_folder
from .splits import split_indices

CATS_VS_DOGS_CLASSES = ["Cat", "Dog"]  # label 0 and label 1
# Microsoft publishes no checksum for this zip; every member's CRC-32 inside it is checked instead.
URL = (
    "https://download.microsoft.com/download/3/E/1/3E1C3F21-ECDB-4869-8368-6DEBA77B919F/"
    "kagglecatsanddogs_5340.zip"
)
KAGGLE_MIRROR = "bhavikjikadara/dog-and-cat-classification-dataset"


def find_pets(base: Path) -> Path | None:
    """The ``PetImages`` folder (with ``Cat/`` and ``Dog/``) under ``base``, or None."""
    if (base / "PetImages" / "Cat").is_dir() and (base / "PetImages" / "Dog").is_dir():
        return base / "PetImages"
    for found in sorted(base.rglob("PetImages")) if base.is_dir() else []:
        if (found / "Cat").is_dir() and (found / "Dog").is_dir():
            return found
    return None


def ensure_cats_vs_dogs() -> Path:
    """Return the ``PetImages`` folder (``Cat/``, ``Dog/``), downloading Microsoft's archive if needed."""
    base = data_root() / "cats-vs-dogs"
    found = find_pets(base)
    if found is not None:
        return found
    if base.exists() and any(p for p in base.iterdir() if not p.name.startswith(".")):
        raise DataNotFoundError("cats-vs-dogs", base, ["PetImages/Cat", "PetImages/Dog"],
                                reason="the folder exists but has no PetImages/Cat and PetImages/Dog inside")
    root = download_root("cats-vs-dogs", base, ["PetImages/Cat", "PetImages/Dog"])
    errors = []
    archive = root / "kagglecatsanddogs_5340.zip"
    try:
        fetch.download(URL, archive, None)
        fetch.extract(archive, base)
    except Exception as err:
        errors.append(f"Microsoft archive: {err}")
        try:  # the Microsoft link has broken before; a public Kaggle copy of the same zip's contents
            kaggle_download(KAGGLE_MIRROR, base, find_pets, "PetImages/Cat and PetImages/Dog")
        except Exception as err2:
            errors.append(f"Kaggle mirror: {err2}")
            raise DataNotFoundError("cats-vs-dogs", base, ["PetImages/Cat", "PetImages/Dog"],
                                    reason="; ".join(errors)) from None
    return find_pets(base)


def cats_vs_dogs(image_size=(180, 180), batch_size: int | None = 32, label_mode="binary", **kwargs):
    """The PetImages photos via :func:`image_folder`: ``class_names == ["Cat", "Dog"]``, so label 1 is Dog.

    The full Microsoft archive contains some files that are not decodable images; they are skipped and
    listed in ``ds.skipped`` (nothing is deleted).
    """
    kwargs.setdefault("class_names", CATS_VS_DOGS_CLASSES)
    return image_folder(ensure_cats_vs_dogs(), image_size=image_size, batch_size=batch_size,
                        label_mode=label_mode, **kwargs)


@dataclass
class PetSplit:
    """What :func:`cats_vs_dogs_split` returns: every photo used, its label, and three disjoint index arrays."""

    paths: np.ndarray       # file paths (str)
    labels: np.ndarray      # 0 = Cat, 1 = Dog
    train: np.ndarray       # indices into paths
    validation: np.ndarray
    test: np.ndarray
    skipped: list           # (path, reason) of files that do not decode
    class_names: tuple = tuple(CATS_VS_DOGS_CLASSES)

    def files(self, split: str) -> list:
        """The paths of ``"train"``, ``"validation"`` or ``"test"``, in index order."""
        if split not in ("train", "validation", "test"):
            raise ValueError(f"split must be 'train', 'validation' or 'test', got {split!r}")
        return [str(p) for p in self.paths[getattr(self, split)]]

    def fingerprint(self, split: str) -> str:
        """A short SHA-256 of the split's file names (``Cat/123.jpg``...), the same wherever the data root is:
        two runs with the same fingerprint used the same photos."""
        import hashlib

        names = sorted("/".join(Path(p).parts[-2:]) for p in self.files(split))
        return hashlib.sha256("\n".join(names).encode()).hexdigest()[:16]


def cats_vs_dogs_split(limit_per_class: int | None = None, seed: int = 42, test_fraction: float = 0.2,
                       validation_fraction: float = 0.2) -> PetSplit:
    """Notebook 06's train / validation / test split of the PetImages photos (notebook 07 reuses it).

    Every readable photo (or a seeded sample of ``limit_per_class`` per class, :func:`index_folder`), then a
    seeded stratified split: ``test_fraction`` of them for test, ``validation_fraction`` of the rest for
    validation, the remainder for training (:func:`split_indices`). The defaults are notebook 06's settings,
    so two notebooks calling this with the same ``limit_per_class`` get the same photos in each split.
    A ``limit_per_class`` at least as large as a class leaves that class whole: on the offline pack (500
    per class) ``limit_per_class=500`` gives exactly the split of ``None``.
    """
    index = index_folder(ensure_cats_vs_dogs(), class_names=CATS_VS_DOGS_CLASSES, limit_per_class=limit_per_class,
                         seed=seed)
    paths, labels = np.array(index.paths), np.array(index.labels)
    trainval, test = split_indices(labels, test_fraction, seed=seed)
    train_pos, val_pos = split_indices(labels[trainval], validation_fraction, seed=seed)
    return PetSplit(paths, labels, trainval[train_pos], trainval[val_pos], test, list(index.skipped))
