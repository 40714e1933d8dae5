"""The course datasets, read from the data root and downloaded there when missing, and the pipelines that feed them.

One module per job; everything public is available as ``cnnkit.data.<name>``:

* datasets, each module holding its loader, class names and quirks: :mod:`.fashion_mnist`
  (:func:`load_fashion_mnist`), :mod:`.cifar10` (:func:`load_cifar10`), :mod:`.blood_cells`
  (:func:`blood_cells`, and what makes that set leak: :class:`SmearMatcher`...), :mod:`.cats_vs_dogs`
  (:func:`cats_vs_dogs`, and notebook 06's split, :func:`cats_vs_dogs_split`). Array datasets come as
  ``((x_train, y_train), (x_test, y_test))`` like ``keras.datasets``, but NHWC and with 1-D labels; folder
  datasets as streaming ``tf.data`` pipelines;
* :mod:`.pipeline`: ``tf.data`` from image folders (:func:`image_folder`), file lists (:func:`from_paths`)
  and arrays (:func:`from_arrays`);
* :mod:`.splits`: balanced subsets and seeded train/validation splits, by label or by group;
* :mod:`.duplicates`: perceptual hashes that find near-identical images across splits;
* :mod:`.common`: the missing-data error and the download checks (downloads themselves: :mod:`cnnkit.fetch`).

When a dataset is missing and cannot be downloaded, a :class:`DataNotFoundError` says which dataset,
where cnnkit looked and how to fix it. ``CNNKIT_OFFLINE=1`` forbids any download attempt.
"""

from __future__ import annotations

from ..config import data_root
from .blood_cells import (
    BLOOD_CELL_CLASSES,
    BLOOD_CELL_SPLITS,
    Matches,
    SmearMatcher,
    blood_cell_originals,
    blood_cells,
    ensure_blood_cells,
    generator_positions,
    stained_cell,
)
from .blood_cells import find_images as _find_blood_images
from .cats_vs_dogs import (
    CATS_VS_DOGS_CLASSES,
    PetSplit,
    cats_vs_dogs,
    cats_vs_dogs_split,
    ensure_cats_vs_dogs,
)
from .cats_vs_dogs import find_pets as _find_pets
from .cifar10 import CIFAR10_CLASSES, cifar10_provenance, ensure_cifar10, load_cifar10, read_cifar_batch
from .cifar10 import FILES as _CIFAR_FILES
from .cifar10 import folder as _cifar_dir
from .common import OFFLINE_ENV, DataNotFoundError, offline
from .duplicates import FLIP_NAMES, ahash, dhash, hamming_matrix, hash_images, load_image, nearest_hamming
from .fashion_mnist import FASHION_MNIST_CLASSES, ensure_fashion_mnist, load_fashion_mnist
from .fashion_mnist import FILES as _FASHION_FILES
from .pipeline import (
    IMAGE_EXTENSIONS,
    SHUFFLE_BUFFER,
    FolderIndex,
    check_image,
    from_arrays,
    from_paths,
    image_folder,
    index_folder,
    split_pipelines,
)
from .splits import balanced_indices, shared_groups, split_indices

__all__ = [
    "DATASETS", "ENSURE", "status", "DataNotFoundError", "offline", "OFFLINE_ENV",
    "FASHION_MNIST_CLASSES", "ensure_fashion_mnist", "load_fashion_mnist",
    "CIFAR10_CLASSES", "ensure_cifar10", "load_cifar10", "read_cifar_batch", "cifar10_provenance",
    "BLOOD_CELL_CLASSES", "BLOOD_CELL_SPLITS", "ensure_blood_cells", "blood_cells", "blood_cell_originals",
    "generator_positions", "stained_cell", "Matches", "SmearMatcher",
    "CATS_VS_DOGS_CLASSES", "ensure_cats_vs_dogs", "cats_vs_dogs", "cats_vs_dogs_split", "PetSplit",
    "IMAGE_EXTENSIONS", "SHUFFLE_BUFFER", "FolderIndex", "check_image", "index_folder", "from_paths", "split_pipelines", "from_arrays",
    "image_folder",
    "balanced_indices", "split_indices", "shared_groups",
    "FLIP_NAMES", "load_image", "dhash", "ahash", "hash_images", "hamming_matrix", "nearest_hamming",
]

# --------------------------------------------------------------------------------------------------
# Registry used by `python -m cnnkit download|doctor`

DATASETS = {
    "fashion-mnist": "Fashion-MNIST: 70,000 28x28 greyscale clothing images, 10 classes (30 MB)",
    "cifar-10": "CIFAR-10: 60,000 32x32 colour images, 10 classes (163 MB)",
    "blood-cells": "Blood Cell Images (Kaggle): 12,500 white-blood-cell JPEGs, 4 classes (~110 MB)",
    "cats-vs-dogs": "Microsoft PetImages: ~25,000 cat and dog photos (787 MB)",
}

ENSURE = {
    "fashion-mnist": ensure_fashion_mnist,
    "cifar-10": ensure_cifar10,
    "blood-cells": ensure_blood_cells,
    "cats-vs-dogs": ensure_cats_vs_dogs,
}


def status() -> dict:
    """For each dataset: ``(present, detail)`` without downloading or reading anything.

    Whether a present dataset is the full one or a sample is for ``python -m cnnkit doctor`` to say.
    """
    root = data_root()
    out = {}
    fm = [n for n in _FASHION_FILES if not (root / "fashion-mnist" / n).is_file()]
    out["fashion-mnist"] = (not fm, "4 official files" if not fm else f"missing {', '.join(fm)}")
    cf = [n for n in _CIFAR_FILES if not (_cifar_dir() / n).is_file()]
    out["cifar-10"] = (not cf, f"all {len(_CIFAR_FILES)} files of cifar-10-batches-py" if not cf
                       else f"missing {', '.join(cf)}")
    blood = _find_blood_images(root / "blood-cells")
    if blood is None:
        out["blood-cells"] = (False, "no dataset2-master/images")
    else:
        counts = {s: sum(1 for _ in (blood / s).rglob("*.jp*g")) if (blood / s).is_dir() else 0
                  for s in BLOOD_CELL_SPLITS}
        out["blood-cells"] = (all(counts.values()), ", ".join(f"{s} {n:,}" for s, n in counts.items()))
    pets = _find_pets(root / "cats-vs-dogs")
    if pets is None:
        out["cats-vs-dogs"] = (False, "no PetImages/Cat and PetImages/Dog")
    else:
        counts = {c: sum(1 for p in (pets / c).iterdir() if p.suffix.lower() == ".jpg") for c in ("Cat", "Dog")}
        out["cats-vs-dogs"] = (True, ", ".join(f"{c} {n:,}" for c, n in counts.items()))
    return out
