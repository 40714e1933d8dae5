"""Input pipelines: ``tf.data`` datasets from image folders, file lists and in-memory arrays.

* :func:`image_folder` reads any ``root/<class>/<image>`` tree like
  ``keras.utils.image_dataset_from_directory`` (same classes, labels, decoding and resizing), but skips
  files it cannot decode and lists them in ``ds.skipped``, converts greyscale and RGBA images, and splits
  off a stratified, seeded validation set;
* :func:`index_folder` and :func:`check_image` are its first step: list the files and check each decodes;
* :func:`from_paths` builds the dataset from image paths and labels (decode, resize, cache, shuffle, batch,
  prefetch);
* :func:`from_arrays` does the same for images already in memory (``x`` and ``y`` NumPy arrays), with
  optional augmentation in the pipeline.

Images stay 0-255 (``float32``, or ``uint8`` with ``dtype="uint8"``); the course's models rescale them.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .splits import split_indices

__all__ = ["IMAGE_EXTENSIONS", "SHUFFLE_BUFFER", "FolderIndex", "check_image", "index_folder", "from_paths", "split_pipelines",
           "from_arrays", "image_folder"]

IMAGE_EXTENSIONS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")  # the same allowlist as Keras
SHUFFLE_BUFFER = 10_000  # decoded images that from_paths(..., cache=..., shuffle=True) shuffles among, per epoch


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

    ``shuffle=True`` shuffles anew every epoch, seeded by ``seed``: without a cache, all the paths before
    decoding; with a cache, the decoded images after it, in a buffer of ``SHUFFLE_BUFFER`` images. A
    longer list is then also shuffled once before decoding, so that a list sorted by class is mixed from
    the first batch of every epoch on.
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
    if shuffle and not cache:  # shuffling the paths is cheap: all of them, anew every epoch
        ds = ds.shuffle(max(1, len(paths)), seed=seed, reshuffle_each_iteration=True)
    if shuffle and cache and len(paths) > SHUFFLE_BUFFER:
        # The decoded images are shuffled after the cache in a buffer of SHUFFLE_BUFFER images. Over a longer
        # list sorted by class (as index_folder returns it) that buffer would start every epoch with the first
        # classes only, so the paths are shuffled once, seeded, before they are decoded and cached.
        ds = ds.shuffle(len(paths), seed=seed, reshuffle_each_iteration=False)
    # Files were checked before (index_folder), so the length stays known and Keras can show progress.
    ds = ds.map(load, num_parallel_calls=tf.data.AUTOTUNE)
    if cache:
        ds = ds.cache(cache if isinstance(cache, str) else "")
        if shuffle:  # anew every epoch; a list no longer than the buffer is shuffled completely
            ds = ds.shuffle(min(max(1, len(paths)), SHUFFLE_BUFFER), seed=seed, reshuffle_each_iteration=True)
    if batch_size is not None:
        ds = ds.batch(batch_size)
    ds = ds.prefetch(tf.data.AUTOTUNE)
    ds.class_names = list(class_names)
    ds.file_paths = paths
    return ds


def split_pipelines(paths, labels, class_names, splits: dict, *, shuffle=("train",), **kwargs) -> dict:
    """One :func:`from_paths` dataset per split of the same images, with the same settings.

    Args:
        paths, labels: all the images' paths and integer labels.
        class_names: passed to :func:`from_paths`.
        splits: ``{name: indices into paths}``, e.g. ``{"train": train_idx, "val": val_idx}``.
        shuffle: the names of the splits to shuffle (the training split); the others keep their order.
        **kwargs: the rest of :func:`from_paths`'s settings (``image_size``, ``batch_size``, ``seed``, ...).

    Returns:
        ``{name: dataset}`` in the order of ``splits``.
    """
    unknown = set(shuffle) - set(splits)
    if unknown:
        raise ValueError(f"shuffle names splits that are not there: {sorted(unknown)}; splits: {list(splits)}")
    paths, labels = np.asarray([str(p) for p in paths]), np.asarray(labels)
    return {name: from_paths(paths[np.asarray(idx, dtype=int)], labels[np.asarray(idx, dtype=int)], class_names,
                             shuffle=name in shuffle, **kwargs)
            for name, idx in splits.items()}


def from_arrays(x, y, batch_size: int | None = 32, *, shuffle: bool = False, seed: int | None = None, augment=None,
                drop_remainder: bool = False, cache: bool = True, num_parallel_calls=None):
    """A ``tf.data.Dataset`` of ``(images, labels)`` batches from arrays in memory, the images unchanged (e.g. uint8).

    The steps, in this order: ``from_tensor_slices``, ``cache`` (keeps the examples after the first pass),
    ``shuffle`` (over all examples, anew every epoch), ``batch``, ``augment`` (applied to each batch with
    ``training=True``), ``prefetch`` (prepares the next batch while the model works on this one).

    Args:
        x: images, ``(N, H, W, C)``; y: labels, ``(N,)`` or ``(N, k)``.
        batch_size: examples per batch; None for single examples.
        shuffle: shuffle (for a training set); validation and test sets keep their order, so predictions
            line up with ``y``.
        seed: seed of the shuffle (the same seed, the same order every run).
        augment: a Keras layer or model (e.g. :func:`cnnkit.models.augmentation`) run on each batch here, in
            the input pipeline, instead of inside the model.
        drop_remainder: drop a last, smaller batch.
        cache: cache the examples in memory after the first pass.
        num_parallel_calls: threads for ``augment``: None runs it in one thread, so that a rerun with the same
            seeds gives the same images; ``tf.data.AUTOTUNE`` is faster but draws random numbers in a
            varying order.

    Returns:
        The dataset; ``len(ds)`` is the number of batches.
    """
    import tensorflow as tf

    x, y = np.asarray(x), np.asarray(y)
    if len(x) != len(y):
        raise ValueError(f"{len(x)} images but {len(y)} labels")
    if batch_size is not None and (int(batch_size) != batch_size or batch_size < 1):
        raise ValueError(f"batch_size must be a positive whole number or None, got {batch_size!r}")
    ds = tf.data.Dataset.from_tensor_slices((x, y))
    if cache:
        ds = ds.cache()
    if shuffle:
        ds = ds.shuffle(max(1, len(x)), seed=seed, reshuffle_each_iteration=True)
    if batch_size is not None:
        ds = ds.batch(batch_size, drop_remainder=drop_remainder)
    if augment is not None:
        ds = ds.map(lambda images, labels: (augment(images, training=True), labels),
                    num_parallel_calls=num_parallel_calls)
    return ds.prefetch(tf.data.AUTOTUNE)


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
