"""Cats vs dogs: Microsoft's PetImages photos (the Asirra set of Kaggle's "Dogs vs. Cats"), any size, two classes.

``<data root>/cats-vs-dogs/PetImages/{Cat,Dog}/*.jpg``, downloaded from Microsoft (a public Kaggle copy as
fallback) when missing. The full archive holds files that are not decodable images (an empty
``Cat/666.jpg``, ``Thumbs.db`` thumbnail caches): :func:`cats_vs_dogs` skips and lists them, deleting nothing.
"""

from __future__ import annotations

from pathlib import Path

from .. import fetch
from ..config import data_root
from .common import DataNotFoundError, download_root, kaggle_download
from .pipeline import image_folder

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
