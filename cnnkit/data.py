"""The course datasets, read from the data root and downloaded there when missing.

Array datasets (like ``keras.datasets.*.load_data()``, but NHWC and with 1-D labels):

* :func:`load_fashion_mnist` -> ``((x_train, y_train), (x_test, y_test))``, x uint8 ``(N, 28, 28, 1)``
* :func:`load_cifar10` -> the same, x uint8 ``(N, 32, 32, 3)``

Folder datasets (``tf.data`` pipelines that stream from disk):

* :func:`image_folder` reads any ``root/<class>/<image>`` tree, skipping files it cannot decode
* :func:`blood_cells` and :func:`cats_vs_dogs` apply it to the course's two folder datasets

When a dataset is missing and cannot be downloaded, a :class:`DataNotFoundError` says which dataset,
where cnnkit looked and how to fix it. ``CNNKIT_OFFLINE=1`` forbids any download attempt.
"""

from __future__ import annotations

import gzip
import os
import shutil
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import fetch
from .config import DATA_ENV, data_root

OFFLINE_ENV = "CNNKIT_OFFLINE"

FASHION_MNIST_CLASSES = [
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
]
CIFAR10_CLASSES = [
    "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck",
]
BLOOD_CELL_CLASSES = ["EOSINOPHIL", "LYMPHOCYTE", "MONOCYTE", "NEUTROPHIL"]
BLOOD_CELL_SPLITS = ("TRAIN", "TEST", "TEST_SIMPLE")

# Official files and their SHA-256 (Fashion-MNIST: the files Zalando publishes, whose MD5s they list;
# CIFAR-10: the SHA-256 of cifar-10-python.tar.gz, also pinned by keras.datasets.cifar10).
_FASHION_FILES = {
    "train-images-idx3-ubyte.gz": "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
    "train-labels-idx1-ubyte.gz": "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
    "t10k-images-idx3-ubyte.gz": "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
    "t10k-labels-idx1-ubyte.gz": "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
}
_FASHION_MIRRORS = [
    "https://storage.googleapis.com/tensorflow/tf-keras-datasets/",
    "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
]
_CIFAR_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
_CIFAR_SHA256 = "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce"
_CIFAR_FILES = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch", "batches.meta"]
_BLOOD_KAGGLE = "paultimothymooney/blood-cells"
# Microsoft publishes no checksum for this zip; every member's CRC-32 inside it is checked instead.
_PETS_URL = (
    "https://download.microsoft.com/download/3/E/1/3E1C3F21-ECDB-4869-8368-6DEBA77B919F/"
    "kagglecatsanddogs_5340.zip"
)
_PETS_KAGGLE_MIRROR = "bhavikjikadara/dog-and-cat-classification-dataset"

IMAGE_EXTENSIONS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")  # the same allowlist as Keras

DATASETS = {
    "fashion-mnist": "Fashion-MNIST: 70,000 28x28 greyscale clothing images, 10 classes (30 MB)",
    "cifar-10": "CIFAR-10: 60,000 32x32 colour images, 10 classes (163 MB)",
    "blood-cells": "Blood Cell Images (Kaggle): 12,500 white-blood-cell JPEGs, 4 classes (~110 MB)",
    "cats-vs-dogs": "Microsoft PetImages: ~25,000 cat and dog photos (787 MB)",
}


class DataNotFoundError(FileNotFoundError):
    """A dataset is not in the data root and could not be downloaded."""

    def __init__(self, dataset: str, folder, missing=(), reason: str = ""):
        self.dataset, self.folder, self.missing, self.reason = dataset, Path(folder), list(missing), reason
        lines = [f"The {dataset} dataset is not available.", f"  Looked in: {self.folder}"]
        if self.missing:
            shown = ", ".join(str(m) for m in self.missing[:6]) + (" ..." if len(self.missing) > 6 else "")
            lines.append(f"  Missing:   {shown}")
        if reason:
            lines.append(f"  Download:  {reason}")
        online = (f"  * with internet: unset {OFFLINE_ENV} (it forbids downloads) where you start Python or "
                  f"Jupyter, then run  python -m cnnkit download {dataset};" if offline() else
                  f"  * with internet: run  python -m cnnkit download {dataset}  (or just rerun this cell);")
        lines += [
            "How to fix it:",
            online,
            f"  * offline: set {DATA_ENV} to a folder that holds {dataset}/ (e.g. a USB copy of the data",
            "    root), in the shell before starting Jupyter, or with os.environ before importing cnnkit.",
        ]
        super().__init__("\n".join(lines))

    def __str__(self):  # FileNotFoundError would otherwise format (errno, strerror)
        return self.args[0]


def offline() -> bool:
    return os.environ.get(OFFLINE_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


def _root_for_download(dataset: str, folder: Path, missing) -> Path:
    """The data root, checked to be usable for a download of ``missing`` into ``folder``."""
    root = data_root()
    env = os.environ.get(DATA_ENV, "").strip()
    if env and not root.exists():
        hint = " (a typo?)"
        if not Path(env).expanduser().is_absolute():
            hint = (f"; {env!r} is a relative path, taken from the working directory {Path.cwd()} "
                    "(a notebook runs in its own folder): use an absolute path")
        raise DataNotFoundError(dataset, folder, missing, reason=f"{DATA_ENV} points to {root}, which does not exist{hint}")
    if offline():
        raise DataNotFoundError(dataset, folder, missing, reason=f"{OFFLINE_ENV}=1 forbids downloads")
    return root


# --------------------------------------------------------------------------------------------------
# Fashion-MNIST


def _fashion_dir() -> Path:
    return data_root() / "fashion-mnist"


def ensure_fashion_mnist() -> Path:
    """Return the folder holding the four Fashion-MNIST files, downloading the missing ones."""
    folder = _fashion_dir()
    missing = [name for name in _FASHION_FILES if not (folder / name).is_file()]
    if not missing:
        return folder
    _root_for_download("fashion-mnist", folder, missing)
    errors = []
    for name in missing:
        for base in _FASHION_MIRRORS:
            try:
                fetch.download(base + name, folder / name, _FASHION_FILES[name])
                break
            except fetch.DownloadError as err:
                errors.append(str(err))
        else:
            raise DataNotFoundError("fashion-mnist", folder, missing, reason=errors[-1])
    return folder


def _read_idx(path: Path, magic: int) -> np.ndarray:
    with gzip.open(path, "rb") as fh:
        raw = fh.read()
    got = int.from_bytes(raw[:4], "big")
    if got != magic:
        raise ValueError(f"{path} is not an IDX file of the expected kind (magic {got}, expected {magic}).")
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(dims)):
        raise ValueError(f"{path} is truncated: {data.size} values for shape {tuple(dims)}.")
    return data.reshape(dims)


def balanced_indices(labels, limit: int | None, num_classes: int | None = None) -> np.ndarray:
    """Indices of at most ``limit`` examples, spread evenly over the classes, in their original order.

    Each class gets ``limit // num_classes`` examples (the first ones), the first ``limit % num_classes``
    classes one more; a class with too few examples gives all it has.
    """
    labels = np.asarray(labels).reshape(-1)
    if limit is None or limit >= labels.size:
        return np.arange(labels.size)
    if not isinstance(limit, (int, np.integer)) or limit < 1:
        raise ValueError(f"limit must be a positive int or None, got {limit!r}")
    classes = np.arange(num_classes) if num_classes else np.unique(labels)
    quota, extra = divmod(int(limit), len(classes))
    chosen = [np.flatnonzero(labels == c)[: quota + (i < extra)] for i, c in enumerate(classes)]
    return np.sort(np.concatenate(chosen))


def load_fashion_mnist(limit: int | None = None):
    """Fashion-MNIST as ``((x_train, y_train), (x_test, y_test))``.

    ``x`` is uint8 ``(N, 28, 28, 1)`` (NHWC; Keras's loader gives ``(N, 28, 28)``), ``y`` uint8 ``(N,)``
    with values 0-9 (names in :data:`FASHION_MNIST_CLASSES`). ``limit`` caps each split at that many
    examples, the same number from every class.
    """
    folder = ensure_fashion_mnist()
    out = []
    for prefix in ("train", "t10k"):
        x = _read_idx(folder / f"{prefix}-images-idx3-ubyte.gz", 2051)[..., np.newaxis]
        y = _read_idx(folder / f"{prefix}-labels-idx1-ubyte.gz", 2049)
        if len(x) != len(y):
            raise ValueError(f"{folder}: {len(x)} {prefix} images but {len(y)} labels.")
        keep = balanced_indices(y, limit, 10)
        out.append((x[keep], y[keep]))
    return tuple(out)


# --------------------------------------------------------------------------------------------------
# CIFAR-10


def _cifar_dir() -> Path:
    return data_root() / "cifar-10" / "cifar-10-batches-py"


def ensure_cifar10() -> Path:
    """Return ``cifar-10/cifar-10-batches-py``, downloading and extracting the official archive if needed."""
    folder = _cifar_dir()
    missing = [name for name in _CIFAR_FILES if not (folder / name).is_file()]
    if not missing:
        return folder
    if folder.exists():  # partly filled: never overwrite what is there
        raise DataNotFoundError(
            "cifar-10", folder, missing,
            reason="the folder exists but is incomplete; move it aside and run the download again",
        )
    _root_for_download("cifar-10", folder, missing)
    archive = folder.parent / "cifar-10-python.tar.gz"
    try:
        fetch.download(_CIFAR_URL, archive, _CIFAR_SHA256)
        staging = fetch.extract(archive, folder.parent / ".cifar-10-python.extracted")
        os.replace(staging / "cifar-10-batches-py", folder)
        shutil.rmtree(staging)
    except (fetch.DownloadError, OSError) as err:
        raise DataNotFoundError("cifar-10", folder, missing, reason=str(err)) from None
    return folder


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
    folder = ensure_cifar10()
    parts = [read_cifar_batch(folder / f"data_batch_{i}") for i in range(1, 6)]
    x_train = np.concatenate([p[0] for p in parts])
    y_train = np.concatenate([p[1] for p in parts])
    x_test, y_test = read_cifar_batch(folder / "test_batch")
    keep_train = balanced_indices(y_train, limit, 10)
    keep_test = balanced_indices(y_test, limit, 10)
    return (x_train[keep_train], y_train[keep_train]), (x_test[keep_test], y_test[keep_test])


def cifar10_provenance() -> str:
    """Describe the CIFAR-10 files in the data root: sizes, and whether the pixels are the official ones.

    The offline pack's pickles are rebuilt from JPEGs (quality 75), so their pixels are lossy; their
    ``filenames`` entries end in ``.jpg``, while the official ones end in ``.png``.
    """
    folder = ensure_cifar10()
    train = sum(len(fetch.load_pickle(folder / f"data_batch_{i}")[b"labels"]) for i in range(1, 6))
    test_batch = fetch.load_pickle(folder / "test_batch")
    names = test_batch.get(b"filenames") or [b""]
    kind = "lossy, rebuilt from JPEGs" if bytes(names[0]).endswith(b".jpg") else "official pixels"
    size = "full set" if (train, len(test_batch[b"labels"])) == (50_000, 10_000) else "sample"
    return f"CIFAR-10 {train:,}/{len(test_batch[b'labels']):,} ({size}; {kind})"


# --------------------------------------------------------------------------------------------------
# Image folders


@dataclass
class FolderIndex:
    """What :func:`index_folder` found: usable files with labels, and skipped files with reasons."""

    root: Path
    class_names: list
    paths: list = field(default_factory=list)
    labels: list = field(default_factory=list)
    skipped: list = field(default_factory=list)  # (path, reason)


_MAGIC = {b"\xff\xd8\xff": "JPEG", b"\x89PNG": "PNG", b"GIF8": "GIF", b"BM": "BMP"}
_check_cache: dict = {}


def check_image(path) -> str | None:
    """None if ``path`` is an image TensorFlow can decode, else the reason it is not (a short phrase)."""
    path = Path(path)
    try:
        st = path.stat()
    except OSError as err:
        return f"unreadable ({err.strerror})"
    key = (str(path), st.st_size, st.st_mtime_ns)
    if key in _check_cache:
        return _check_cache[key]
    reason = _check_image_uncached(path, st.st_size)
    _check_cache[key] = reason
    return reason


def _check_image_uncached(path: Path, size: int) -> str | None:
    if path.name.startswith("."):
        return "hidden file"
    if path.suffix.lower() not in IMAGE_EXTENSIONS:
        return "not an image file (extension)"
    if size == 0:
        return "empty file"
    with open(path, "rb") as fh:
        head = fh.read(8)
    kind = next((k for magic, k in _MAGIC.items() if head.startswith(magic)), None)
    if kind is None:
        return "not an image (unknown content)"
    from PIL import Image

    try:
        with Image.open(path) as img:
            if kind == "JPEG":
                img.draft("RGB", (max(1, img.width // 8), max(1, img.height // 8)))
            img.load()
    except Exception as err:  # PIL raises many kinds: OSError, SyntaxError, ValueError...
        return f"cannot be decoded ({type(err).__name__}: {err})"
    return None


def index_folder(path, class_names=None, limit_per_class: int | None = None, seed: int | None = None,
                 workers: int = 8) -> FolderIndex:
    """List ``path/<class>/**/<image>`` and check each file decodes; nothing on disk is changed.

    Classes are the sorted subfolder names (hidden ones ignored), or ``class_names`` in that order.
    ``limit_per_class`` keeps a seeded random sample of that many usable images per class.
    """
    root = Path(path)
    if not root.is_dir():
        raise FileNotFoundError(f"Image folder not found: {root}")
    subdirs = sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if class_names is None:
        class_names = subdirs
        if not class_names:
            raise ValueError(
                f"{root} has no class subfolders. Expected one folder per class: {root}/<class>/<image>."
            )
    else:
        class_names = list(class_names)
        absent = [c for c in class_names if c not in subdirs]
        if absent:
            raise ValueError(f"{root} has no subfolder for class(es) {absent}; it has {subdirs}.")
    candidates = []
    for label, name in enumerate(class_names):
        files = []
        for dirpath, dirnames, filenames in os.walk(root / name):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            files += [Path(dirpath) / f for f in sorted(filenames)]
        candidates.append((label, name, files))
    all_files = [f for _, _, files in candidates for f in files]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        reasons = dict(zip(all_files, pool.map(check_image, all_files)))
    index = FolderIndex(root=root, class_names=class_names)
    rng = np.random.default_rng(0 if seed is None else seed)
    for label, name, files in candidates:
        good = [f for f in files if reasons[f] is None]
        index.skipped += [(str(f), reasons[f]) for f in files if reasons[f] is not None]
        if not good:
            raise ValueError(
                f"Class folder {root / name} holds no readable image"
                + (f" ({len(files)} file(s) skipped)." if files else " (it is empty).")
            )
        if limit_per_class is not None and len(good) > limit_per_class:
            good = [good[i] for i in sorted(rng.choice(len(good), limit_per_class, replace=False))]
        index.paths += [str(f) for f in good]
        index.labels += [label] * len(good)
    return index


def from_paths(paths, labels, class_names, image_size=(256, 256), batch_size: int | None = 32, *,
               label_mode: str | None = "int", color_mode: str = "rgb", shuffle: bool = True,
               seed: int | None = None, interpolation: str = "bilinear", crop_to_aspect_ratio: bool = False,
               dtype: str = "float32", cache=False):
    """A ``tf.data.Dataset`` of ``(images, labels)`` from image paths and integer labels.

    Decoding and resizing are those of ``keras.utils.image_dataset_from_directory``
    (``tf.io.decode_image``, then ``tf.image.resize``), so both give the same pixels. ``cache=True``
    keeps decoded images in memory after the first epoch (or pass a file name to cache on disk).
    """
    import tensorflow as tf

    if label_mode not in {"int", "categorical", "binary", None}:
        raise ValueError(f"label_mode must be 'int', 'categorical', 'binary' or None, got {label_mode!r}")
    channels = {"rgb": 3, "grayscale": 1, "rgba": 4}.get(color_mode)
    if channels is None:
        raise ValueError(f"color_mode must be 'rgb', 'grayscale' or 'rgba', got {color_mode!r}")
    if dtype not in {"float32", "uint8"}:
        raise ValueError(f"dtype must be 'float32' or 'uint8', got {dtype!r}")
    num_classes = len(class_names)
    if label_mode == "binary" and num_classes != 2:
        raise ValueError(f"label_mode='binary' needs exactly 2 classes, found {num_classes}: {class_names}")
    height, width = int(image_size[0]), int(image_size[1])
    paths = [str(p) for p in paths]
    labels = np.asarray(labels, dtype=np.int32)
    if len(paths) != len(labels):
        raise ValueError(f"{len(paths)} paths but {len(labels)} labels")

    def load(path, label):
        img = tf.io.decode_image(tf.io.read_file(path), channels=channels, expand_animations=False)
        if crop_to_aspect_ratio:
            import keras

            img = keras.preprocessing.image.smart_resize(img, (height, width), interpolation=interpolation)
        else:
            img = tf.image.resize(img, (height, width), method=interpolation)
        img.set_shape((height, width, channels))
        if dtype == "uint8":
            img = tf.cast(tf.clip_by_value(tf.round(img), 0, 255), tf.uint8)
        if label_mode is None:
            return img
        if label_mode == "categorical":
            return img, tf.one_hot(label, num_classes)
        if label_mode == "binary":
            return img, tf.cast(tf.expand_dims(label, -1), tf.float32)
        return img, label

    ds = tf.data.Dataset.from_tensor_slices((paths, labels))
    if shuffle and not cache:
        ds = ds.shuffle(max(1, len(paths)), seed=seed, reshuffle_each_iteration=True)
    # Files were checked before (index_folder), so the length stays known and Keras can show progress.
    ds = ds.map(load, num_parallel_calls=tf.data.AUTOTUNE)
    if cache:
        ds = ds.cache(cache if isinstance(cache, str) else "")
        if shuffle:
            ds = ds.shuffle(min(max(1, len(paths)), 10_000), seed=seed, reshuffle_each_iteration=True)
    if batch_size is not None:
        ds = ds.batch(batch_size)
    ds = ds.prefetch(tf.data.AUTOTUNE)
    ds.class_names = list(class_names)
    ds.file_paths = paths
    return ds


def split_indices(labels, validation_split: float, seed: int | None, groups=None):
    """Seeded train/validation indices: stratified by label, or by ``groups`` so no group is on both sides."""
    from sklearn.model_selection import GroupShuffleSplit, train_test_split

    labels = np.asarray(labels)
    if not 0 < validation_split < 1:
        raise ValueError(f"validation_split must be between 0 and 1, got {validation_split!r}")
    idx = np.arange(len(labels))
    if groups is not None:
        splitter = GroupShuffleSplit(n_splits=1, test_size=validation_split, random_state=seed)
        train, val = next(splitter.split(idx, labels, groups=np.asarray(groups)))
        return np.sort(train), np.sort(val)
    counts = np.bincount(labels) if labels.size else np.array([])
    stratify = labels if counts.size and counts[counts > 0].min() >= 2 else None
    train, val = train_test_split(idx, test_size=validation_split, random_state=seed, stratify=stratify)
    return np.sort(train), np.sort(val)


def image_folder(path, image_size=(256, 256), batch_size: int | None = 32, *, label_mode="int",
                 class_names=None, color_mode="rgb", validation_split=None, subset=None, seed=None,
                 shuffle=True, interpolation="bilinear", crop_to_aspect_ratio=False, limit_per_class=None,
                 dtype="float32", cache=False, verbose=True):
    """Read a ``path/<class>/<image>`` folder as a streaming ``tf.data.Dataset`` of ``(images, labels)``.

    Like ``keras.utils.image_dataset_from_directory`` (same class order, labels, decoding and resizing,
    and a ``class_names`` attribute), plus:

    * files that cannot be decoded (corrupt or truncated JPEGs, ``.DS_Store``, text files, empty files)
      are skipped and listed in ``ds.skipped`` as ``(path, reason)``; nothing on disk is changed;
    * greyscale and RGBA images among RGB ones are converted to ``color_mode``;
    * ``validation_split`` is stratified by class and seeded; ``subset`` is ``"training"``,
      ``"validation"`` or ``"both"`` (then a ``(train, val)`` pair is returned);
    * ``limit_per_class`` keeps a seeded sample per class (reduced mode), ``cache`` caches decoded images.

    An empty class folder, or a folder with no class subfolders, raises a ``ValueError`` that says so.
    """
    if (validation_split is None) != (subset is None):
        raise ValueError("Pass validation_split and subset together (subset: 'training', 'validation' or 'both').")
    if subset not in {None, "training", "validation", "both"}:
        raise ValueError(f"subset must be 'training', 'validation' or 'both', got {subset!r}")
    if validation_split is not None and seed is None:
        raise ValueError("A validation split needs a seed, so that training and validation never overlap.")
    index = index_folder(path, class_names=class_names, limit_per_class=limit_per_class, seed=seed)
    common = dict(image_size=image_size, batch_size=batch_size, label_mode=label_mode, color_mode=color_mode,
                  seed=seed, interpolation=interpolation, crop_to_aspect_ratio=crop_to_aspect_ratio,
                  dtype=dtype, cache=cache)
    paths, labels = np.array(index.paths), np.array(index.labels)
    if verbose:
        msg = f"Found {len(paths)} images in {len(index.class_names)} classes in {index.root}"
        if index.skipped:
            msg += f"; skipped {len(index.skipped)} unreadable file(s) (listed in .skipped)"
        print(msg + ".")
    if validation_split is None:
        parts = {"all": np.arange(len(paths))}
    else:
        train, val = split_indices(labels, validation_split, seed)
        parts = {"training": train, "validation": val}
    out = {}
    for name, idx in parts.items():
        ds = from_paths(paths[idx], labels[idx], index.class_names,
                        shuffle=shuffle if name != "validation" else False, **common)
        ds.skipped = list(index.skipped)
        out[name] = ds
        if verbose and name != "all":
            print(f"  {name}: {len(idx)} images")
    if validation_split is None:
        return out["all"]
    if subset == "both":
        return out["training"], out["validation"]
    return out[subset]


# --------------------------------------------------------------------------------------------------
# Blood cells (Kaggle "Blood Cell Images")


def _find_blood_images(base: Path) -> Path | None:
    for candidate in (base / "dataset2-master" / "images", base / "dataset2-master" / "dataset2-master" / "images"):
        if candidate.is_dir():
            return candidate
    return None


def ensure_blood_cells() -> Path:
    """Return the blood-cell ``images`` folder (holding TRAIN, TEST, TEST_SIMPLE), downloading if needed.

    Accepts the pack's single nesting (``dataset2-master/images``) and the Kaggle zip's double one
    (``dataset2-master/dataset2-master/images``).
    """
    base = data_root() / "blood-cells"
    found = _find_blood_images(base)
    if found is not None:
        return found
    if base.exists() and any(base.iterdir()):
        raise DataNotFoundError("blood-cells", base, ["dataset2-master/images"],
                                reason="the folder exists but has no dataset2-master/images inside")
    _root_for_download("blood-cells", base, ["dataset2-master/images"])
    try:
        _kaggle_into(_BLOOD_KAGGLE, base, _find_blood_images, "dataset2-master/images")
    except Exception as err:
        raise DataNotFoundError("blood-cells", base, ["dataset2-master/images"],
                                reason=f"Kaggle download failed: {err}") from None
    return _find_blood_images(base)


def _kaggle_into(handle: str, base: Path, find, expected: str) -> None:
    """Download a public Kaggle dataset with kagglehub into a temporary folder beside ``base``, check that
    ``find`` locates the data in it, then move it to ``base`` (which is absent or empty). On any failure the
    temporary folder is removed and nothing else is touched."""
    import kagglehub

    base.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(fetch._mkdtemp(base.parent, f".{base.name}.download-"))
    try:
        kagglehub.dataset_download(handle, output_dir=str(staging))
        if find(staging) is None:
            raise fetch.DownloadError(f"the Kaggle download of {handle} has no {expected}")
        if not base.exists():
            os.replace(staging, base)
            return
        for entry in staging.iterdir():
            os.replace(entry, base / entry.name)
        staging.rmdir()
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def blood_cells(split: str = "TRAIN", image_size=(200, 200), batch_size: int | None = 32, **kwargs):
    """One split (``"TRAIN"``, ``"TEST"`` or ``"TEST_SIMPLE"``) of the blood-cell images via :func:`image_folder`.

    The four classes are always in the order of :data:`BLOOD_CELL_CLASSES`, whatever a split holds.
    Other keyword arguments (``validation_split``, ``subset``, ``seed``, ``limit_per_class``...) go to
    :func:`image_folder`.
    """
    if split not in BLOOD_CELL_SPLITS:
        raise ValueError(f"split must be one of {BLOOD_CELL_SPLITS}, got {split!r}")
    kwargs.setdefault("class_names", BLOOD_CELL_CLASSES)
    return image_folder(ensure_blood_cells() / split, image_size=image_size, batch_size=batch_size, **kwargs)


# --------------------------------------------------------------------------------------------------
# Cats vs dogs (Microsoft PetImages)


def _find_pets(base: Path) -> Path | None:
    if (base / "PetImages" / "Cat").is_dir() and (base / "PetImages" / "Dog").is_dir():
        return base / "PetImages"
    for found in sorted(base.rglob("PetImages")) if base.is_dir() else []:
        if (found / "Cat").is_dir() and (found / "Dog").is_dir():
            return found
    return None


def ensure_cats_vs_dogs() -> Path:
    """Return the ``PetImages`` folder (``Cat/``, ``Dog/``), downloading Microsoft's archive if needed."""
    base = data_root() / "cats-vs-dogs"
    found = _find_pets(base)
    if found is not None:
        return found
    if base.exists() and any(p for p in base.iterdir() if not p.name.startswith(".")):
        raise DataNotFoundError("cats-vs-dogs", base, ["PetImages/Cat", "PetImages/Dog"],
                                reason="the folder exists but has no PetImages/Cat and PetImages/Dog inside")
    root = _root_for_download("cats-vs-dogs", base, ["PetImages/Cat", "PetImages/Dog"])
    errors = []
    archive = root / "kagglecatsanddogs_5340.zip"
    try:
        fetch.download(_PETS_URL, archive, None)
        fetch.extract(archive, base)
    except Exception as err:
        errors.append(f"Microsoft archive: {err}")
        try:  # the Microsoft link has broken before; a public Kaggle copy of the same zip's contents
            _kaggle_into(_PETS_KAGGLE_MIRROR, base, _find_pets, "PetImages/Cat and PetImages/Dog")
        except Exception as err2:
            errors.append(f"Kaggle mirror: {err2}")
            raise DataNotFoundError("cats-vs-dogs", base, ["PetImages/Cat", "PetImages/Dog"],
                                    reason="; ".join(errors)) from None
    return _find_pets(base)


def cats_vs_dogs(image_size=(180, 180), batch_size: int | None = 32, label_mode="binary", **kwargs):
    """The PetImages photos via :func:`image_folder`: ``class_names == ["Cat", "Dog"]``, so label 1 is Dog.

    The full Microsoft archive contains some files that are not decodable images; they are skipped and
    listed in ``ds.skipped`` (nothing is deleted).
    """
    kwargs.setdefault("class_names", ["Cat", "Dog"])
    return image_folder(ensure_cats_vs_dogs(), image_size=image_size, batch_size=batch_size,
                        label_mode=label_mode, **kwargs)


# --------------------------------------------------------------------------------------------------
# Registry used by `python -m cnnkit download|doctor`

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
    out["cifar-10"] = (not cf, f"all {len(_CIFAR_FILES)} files of cifar-10-batches-py" if not cf else f"missing {', '.join(cf)}")
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
