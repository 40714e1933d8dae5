"""Measure leakage between image sets, and split by source so that it cannot happen.

A data set built by augmenting a few originals (rotations, flips, shifts of the same photo) leaks when
two copies of one original land on both sides of a split: the model is then tested on a picture it has
already seen, slightly rotated. This module finds such copies and builds splits that keep them together.

* Perceptual hashes (NumPy + Pillow): :func:`dhash`, :func:`ahash`, :func:`hash_images`,
  :func:`hamming_matrix`, :func:`nearest_hamming`. They find near-identical images (re-encoded, resized,
  slightly shifted), not copies rotated by 20 degrees.
* Source matching for the blood-cell images: :class:`SmearMatcher` compares a patch centred on the
  white blood cell (the large purple nucleus) with every original smear, over flips and rotations, and
  returns the most similar original and its correlation. :func:`blood_cell_originals` lists the
  originals and their labels; :func:`generator_positions` reads the position that Keras's
  ``ImageDataGenerator`` wrote into each augmented file name.
* Splits: :func:`stratified_group_split`, :func:`shared_groups`.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

FLIP_NAMES = ("none", "horizontal", "vertical", "both")


# --------------------------------------------------------------------------------------------------
# Loading


def load_image(image, size=None, mode: str = "RGB") -> np.ndarray:
    """An image (path, PIL image or array) as a float32 array, optionally resized to ``size=(width, height)``.

    JPEGs are decoded at reduced resolution when that is enough (Pillow's ``draft``), which is several
    times faster than a full decode followed by a resize.
    """
    from PIL import Image

    if hasattr(image, "numpy") and callable(image.numpy):  # a TensorFlow tensor
        image = image.numpy()
    if isinstance(image, np.ndarray):
        arr = np.clip(np.asarray(image, dtype=np.float64), 0, 255).round().astype(np.uint8)
        if arr.ndim == 3 and arr.shape[2] == 1:
            arr = arr[..., 0]
        if arr.ndim not in (2, 3):
            raise ValueError(f"an image array must be (H, W) or (H, W, C), got shape {image.shape}")
        img = Image.fromarray(arr)
    elif isinstance(image, Image.Image):
        img = image
    else:
        img = Image.open(image)
    if size is not None and getattr(img, "format", None) == "JPEG":
        img.draft(mode, tuple(size))
    img = img.convert(mode)
    if size is not None and img.size != tuple(size):
        img = img.resize(tuple(size), Image.BILINEAR)
    return np.asarray(img, dtype=np.float32)


# --------------------------------------------------------------------------------------------------
# Perceptual hashes


def dhash(image, hash_size: int = 8) -> np.ndarray:
    """Difference hash: shrink to ``hash_size x (hash_size + 1)`` grey pixels, compare each with its right neighbour.

    Returns ``hash_size**2`` booleans (64 bits by default). Visually similar images have hashes that
    differ in few bits (a small Hamming distance); resizing, re-encoding and brightness changes barely
    change it, but rotations and flips do.
    """
    small = load_image(image, size=(hash_size + 1, hash_size), mode="L")
    return _dhash_bits(small)


def _dhash_bits(small: np.ndarray) -> np.ndarray:
    return (small[..., 1:] > small[..., :-1]).reshape(*small.shape[:-2], -1)


def ahash(image, hash_size: int = 8) -> np.ndarray:
    """Average hash: shrink to ``hash_size x hash_size`` grey pixels, one bit per pixel: brighter than the mean?"""
    small = load_image(image, size=(hash_size, hash_size), mode="L")
    return (small > small.mean()).reshape(-1)


def _flip_variants(small: np.ndarray) -> np.ndarray:
    """The four flips of a 2-D array (none, horizontal, vertical, both), stacked on a new first axis."""
    return np.stack([small, small[:, ::-1], small[::-1, :], small[::-1, ::-1]])


def hash_images(images, kind: str = "dhash", hash_size: int = 8, flips: bool = False) -> np.ndarray:
    """Hashes of many images (paths, PIL images or arrays) as booleans: ``(N, bits)``.

    With ``flips=True`` the result is ``(N, 4, bits)``: the hashes of each image flipped in the four
    ways of :data:`FLIP_NAMES`, computed on the shrunken image. Use it for the reference set, so that a
    query matches a flipped copy too (:func:`nearest_hamming` takes the minimum over the variants).
    """
    if kind not in {"dhash", "ahash"}:
        raise ValueError(f"kind must be 'dhash' or 'ahash', got {kind!r}")
    size = (hash_size + 1, hash_size) if kind == "dhash" else (hash_size, hash_size)
    out = []
    for image in images:
        small = load_image(image, size=size, mode="L")
        variants = _flip_variants(small) if flips else small[np.newaxis]
        if kind == "dhash":
            bits = _dhash_bits(variants)
        else:
            bits = (variants > variants.mean(axis=(1, 2), keepdims=True)).reshape(len(variants), -1)
        out.append(bits if flips else bits[0])
    if not out:
        return np.zeros((0, 4, hash_size * hash_size) if flips else (0, hash_size * hash_size), dtype=bool)
    return np.stack(out)


_POPCOUNT = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)


def _popcount(x: np.ndarray) -> np.ndarray:
    if hasattr(np, "bitwise_count"):  # NumPy >= 2.0
        return np.bitwise_count(x)
    return _POPCOUNT[x]


def hamming_matrix(a, b, chunk: int = 512) -> np.ndarray:
    """Hamming distances (number of differing bits) between every hash in ``a`` and every hash in ``b``.

    ``a`` is ``(N, bits)`` and ``b`` is ``(M, bits)`` booleans; the result is ``(N, M)`` integers.
    """
    a, b = np.asarray(a, dtype=bool), np.asarray(b, dtype=bool)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise ValueError(f"hashes must be (N, bits) and (M, bits) with the same bits; got {a.shape} and {b.shape}")
    pa, pb = np.packbits(a, axis=1), np.packbits(b, axis=1)
    out = np.empty((len(pa), len(pb)), dtype=np.int32)
    for start in range(0, len(pa), chunk):
        x = pa[start:start + chunk, None, :] ^ pb[None, :, :]
        out[start:start + chunk] = _popcount(x).sum(axis=2, dtype=np.int32)
    return out


def nearest_hamming(query, reference, exclude_self: bool = False):
    """For each query hash, the smallest Hamming distance to any reference hash, and that reference's index.

    ``reference`` is ``(M, bits)`` or ``(M, variants, bits)`` (from ``hash_images(..., flips=True)``);
    with variants the distance is the minimum over them. ``exclude_self`` ignores the diagonal (when
    ``query`` and ``reference`` are the same images).
    """
    query = np.asarray(query, dtype=bool)
    reference = np.asarray(reference, dtype=bool)
    if reference.ndim == 2:
        reference = reference[:, np.newaxis, :]
    m, v, bits = reference.shape
    dist = hamming_matrix(query, reference.reshape(m * v, bits)).reshape(len(query), m, v).min(axis=2)
    if exclude_self:
        if len(query) != m:
            raise ValueError("exclude_self needs the query and the reference to be the same images")
        np.fill_diagonal(dist, np.iinfo(dist.dtype).max)
    if m == 0:
        return np.full(len(query), np.iinfo(np.int32).max), np.full(len(query), -1)
    idx = dist.argmin(axis=1)
    return dist[np.arange(len(query)), idx], idx


# --------------------------------------------------------------------------------------------------
# The blood-cell originals and the augmented files' names


def blood_cell_originals(base=None):
    """Paths and labels of the original smear photos (``dataset-master/JPEGImages``) of the blood-cell set.

    ``base`` is the ``blood-cells`` folder of the data root (default); both the pack's single nesting
    and the Kaggle zip's double one (``dataset-master/dataset-master``) are accepted. Labels come from
    ``labels.csv`` (``""`` where the row is blank or missing; multi-label rows such as
    ``"NEUTROPHIL, EOSINOPHIL"`` are kept as written).
    """
    if base is None:
        from .config import data_root

        base = data_root() / "blood-cells"
    base = Path(base)
    for folder in (base / "dataset-master", base / "dataset-master" / "dataset-master"):
        if (folder / "JPEGImages").is_dir():
            break
    else:
        raise FileNotFoundError(
            f"No dataset-master/JPEGImages under {base}: the original smears come with the Kaggle "
            "'Blood Cell Images' download (python -m cnnkit download blood-cells)."
        )
    labels = {}
    csv_path = folder / "labels.csv"
    if csv_path.is_file():
        with open(csv_path, newline="", encoding="utf-8") as fh:
            for row in list(csv.reader(fh))[1:]:
                if len(row) >= 3 and row[1].strip().isdigit():
                    labels[int(row[1])] = row[2].strip()
    paths = sorted(p for p in (folder / "JPEGImages").iterdir() if p.suffix.lower() in {".jpg", ".jpeg"})
    out_labels = []
    for p in paths:
        digits = re.findall(r"\d+", p.stem)
        out_labels.append(labels.get(int(digits[-1]), "") if digits else "")
    return [str(p) for p in paths], out_labels


_GENERATOR_NAME = re.compile(r"^[^_]*_(\d+)_\d+\.\w+$")


def generator_positions(paths) -> np.ndarray:
    """The position ``i`` in file names ``<prefix>_<i>_<random>.<ext>`` written by ``ImageDataGenerator.flow``.

    With ``batch_size=1`` it is the position of the source image in that pass over the originals, so
    ``max + 1`` is how many originals the generator cycled through. -1 where the name does not fit.
    """
    out = []
    for p in paths:
        m = _GENERATOR_NAME.match(Path(p).name)
        out.append(int(m.group(1)) if m else -1)
    return np.array(out, dtype=np.int64)


# --------------------------------------------------------------------------------------------------
# Source matching


@dataclass
class Matches:
    """What :meth:`SmearMatcher.match` returns: for each image, the best original and its correlation."""

    source: np.ndarray  # index into SmearMatcher.paths
    score: np.ndarray   # correlation in [-1, 1]; 1 = identical patch
    angle: np.ndarray   # rotation (degrees) of the best-matching variant
    flip: np.ndarray    # index into FLIP_NAMES


class SmearMatcher:
    """Find the original smear that an augmented blood-cell image was made from.

    Each image is shrunk to ``size`` (80 x 60 pixels); the white blood cell is located as the largest
    purple region (blue minus green above ``threshold``); a disc of ``radius`` pixels centred on it is
    compared, after subtracting its mean and scaling to unit length, with the same disc cut from every
    original, flipped in the four ways and rotated by each of ``angles`` (degrees). Centring on the cell
    makes the comparison insensitive to shifts; flips and rotations are searched. The score is the
    correlation of the best variant, 1 for identical patches.
    """

    def __init__(self, paths, labels=None, *, size=(80, 60), radius: int = 28,
                 angles=tuple(range(-20, 21, 5)), threshold: float = 30.0):
        from scipy import ndimage

        originals = list(paths)
        # paths (or, for tests and small experiments, PIL images or arrays); .paths names them
        self.paths = [str(p) if isinstance(p, (str, Path)) else f"<image {i}>" for i, p in enumerate(originals)]
        self.labels = None if labels is None else np.asarray(labels, dtype=object)
        if self.labels is not None and len(self.labels) != len(self.paths):
            raise ValueError(f"{len(self.paths)} originals but {len(self.labels)} labels")
        if not self.paths:
            raise ValueError("SmearMatcher needs at least one original image")
        self.size, self.radius, self.threshold = tuple(size), int(radius), float(threshold)
        self.angles = np.array(list(angles), dtype=np.float32)
        yy, xx = np.mgrid[-self.radius:self.radius + 1, -self.radius:self.radius + 1]
        self._disc = (xx ** 2 + yy ** 2) <= self.radius ** 2
        # Offsets of the disc's pixels from its centre. The template of variant (angle, flip) samples the
        # original at centre + R(angle) @ F(flip) @ offset. The disc is symmetric, so the four flips of
        # one angle sample the same points in different orders: sample once per angle, then permute.
        offsets = np.stack([yy[self._disc], xx[self._disc]])  # (2, P) integers
        index = {(int(y), int(x)): k for k, (y, x) in enumerate(offsets.T)}
        flips = [np.array([index[(fy * int(y), fx * int(x))] for y, x in offsets.T])
                 for fy, fx in ((1, 1), (1, -1), (-1, 1), (-1, -1))]  # FLIP_NAMES order
        coords = []
        for angle in self.angles:
            t = np.deg2rad(float(angle))
            coords.append(np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]]) @ offsets)
        coords = np.concatenate(coords, axis=1)  # (2, angles * P)
        self.variants = len(self.angles) * 4
        n_px = offsets.shape[1]
        templates = np.empty((len(self.paths), self.variants, n_px), dtype=np.float32)
        for i, original in enumerate(originals):
            rgb = load_image(original, size=self.size)
            cy, cx = self.centre(rgb)
            values = ndimage.map_coordinates(rgb.mean(axis=2), coords + np.array([[cy], [cx]]), order=1,
                                             mode="constant", cval=np.nan).reshape(len(self.angles), n_px)
            templates[i] = self._normalise(values[:, np.stack(flips)].reshape(self.variants, n_px))
        self.templates = templates

    def centre(self, rgb: np.ndarray):
        """(row, column) of the white blood cell: centre of the largest purple region, or of the image."""
        from scipy import ndimage

        mask = (rgb[..., 2] - rgb[..., 1]) > self.threshold
        mask = ndimage.binary_closing(mask, iterations=2)
        labelled, n = ndimage.label(mask)
        if n == 0:
            return ((rgb.shape[0] - 1) / 2, (rgb.shape[1] - 1) / 2)
        sizes = ndimage.sum(mask, labelled, range(1, n + 1))
        return ndimage.center_of_mass(mask, labelled, int(np.argmax(sizes)) + 1)

    @staticmethod
    def _patch(grey: np.ndarray, centre, radius: int) -> np.ndarray:
        from scipy import ndimage

        ys = centre[0] + np.arange(-radius, radius + 1)
        xs = centre[1] + np.arange(-radius, radius + 1)
        grid = np.meshgrid(ys, xs, indexing="ij")
        return ndimage.map_coordinates(grey, grid, order=1, mode="constant", cval=np.nan)

    @staticmethod
    def _normalise(values: np.ndarray) -> np.ndarray:
        """Each row (or a 1-D vector) minus its mean, scaled to unit length.

        Pixels outside the image, and the black fill of rotated copies, carry no information: they are
        set to the mean of the others first, so that they add nothing to a correlation.
        """
        v = np.array(values, dtype=np.float32, ndmin=2)
        bad = ~np.isfinite(v) | (v < 25)
        good = (~bad).sum(axis=1, keepdims=True)
        fill = np.where(good > 0, np.where(bad, 0, v).sum(axis=1, keepdims=True) / np.maximum(good, 1), 0)
        v = np.where(bad, fill, v)
        v -= v.mean(axis=1, keepdims=True)
        v /= np.linalg.norm(v, axis=1, keepdims=True) + 1e-6
        return v if np.ndim(values) > 1 else v[0]

    def describe(self, image) -> np.ndarray:
        """The normalised disc around the white blood cell of one image (path, PIL image or RGB array)."""
        rgb = load_image(image, size=self.size)
        return self._normalise(self._patch(rgb.mean(axis=2), self.centre(rgb), self.radius)[self._disc])

    def match(self, images, labels=None) -> Matches:
        """The most similar original for each image (paths, PIL images or RGB arrays).

        With ``labels`` (one class name per image) and the originals' labels given to the constructor,
        only originals of the same class are candidates: faster, and no cross-class confusions.
        """
        images = list(images)
        if labels is not None and len(labels) != len(images):
            raise ValueError(f"{len(images)} images but {len(labels)} labels")
        n = len(images)
        source = np.full(n, -1, dtype=np.int64)
        score = np.full(n, -1.0, dtype=np.float32)
        angle = np.zeros(n, dtype=np.float32)
        flip = np.zeros(n, dtype=np.int64)
        if n == 0:
            return Matches(source, score, angle, flip)
        x = np.stack([self.describe(im) for im in images]).astype(np.float32)
        if labels is None or self.labels is None:
            groups = {None: np.arange(n)}
        else:
            labels = np.asarray(labels, dtype=object)
            groups = {lab: np.flatnonzero(labels == lab) for lab in dict.fromkeys(labels.tolist())}
        for lab, rows in groups.items():
            cand = np.arange(len(self.paths)) if lab is None else np.flatnonzero(self.labels == lab)
            if cand.size == 0:
                raise ValueError(f"no original is labelled {lab!r}")
            flat = self.templates[cand].reshape(len(cand) * self.variants, -1)
            for start in range(0, len(rows), 256):
                part = rows[start:start + 256]
                sims = x[part] @ flat.T
                best = sims.argmax(axis=1)
                cand_idx, variant = np.divmod(best, self.variants)
                source[part] = cand[cand_idx]
                score[part] = sims[np.arange(len(part)), best]
                angle[part] = self.angles[variant // 4]
                flip[part] = variant % 4
        return Matches(source, score, angle, flip)


# --------------------------------------------------------------------------------------------------
# Splits


def stratified_group_split(labels, groups, validation_split: float, seed: int):
    """Train/validation indices where no group is on both sides and each class keeps its share of groups.

    For every class, ``validation_split`` of its groups (at least one when it has two or more) go to
    validation, drawn with ``seed``. A group belongs to the class most of its members have. Returns
    sorted ``(train_idx, val_idx)``.
    """
    labels, groups = np.asarray(labels), np.asarray(groups)
    if labels.shape != groups.shape or labels.ndim != 1:
        raise ValueError(f"labels and groups must be 1-D and of the same length, got {labels.shape} and {groups.shape}")
    if not 0 < validation_split < 1:
        raise ValueError(f"validation_split must be between 0 and 1, got {validation_split!r}")
    rng = np.random.default_rng(seed)
    uniq, inverse = np.unique(groups, return_inverse=True)
    group_class = []
    for g in range(len(uniq)):
        vals, counts = np.unique(labels[inverse == g], return_counts=True)
        group_class.append(vals[np.argmax(counts)])
    group_class = np.array(group_class)
    val_groups = []
    for c in np.unique(group_class):
        members = np.flatnonzero(group_class == c)
        k = int(round(validation_split * len(members)))
        k = min(max(k, 1 if len(members) >= 2 else 0), len(members) - 1) if len(members) >= 2 else 0
        val_groups.extend(rng.choice(members, size=k, replace=False).tolist())
    is_val = np.isin(inverse, val_groups)
    return np.flatnonzero(~is_val), np.flatnonzero(is_val)


def shared_groups(groups_a, groups_b, min_count: int = 1) -> np.ndarray:
    """Groups that occur at least ``min_count`` times in ``groups_a`` and in ``groups_b`` (sorted)."""
    a_vals, a_counts = np.unique(np.asarray(groups_a), return_counts=True)
    b_vals, b_counts = np.unique(np.asarray(groups_b), return_counts=True)
    return np.intersect1d(a_vals[a_counts >= min_count], b_vals[b_counts >= min_count])
