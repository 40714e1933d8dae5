"""The Kaggle "Blood Cell Images" set: white blood cells of four types, and what makes it leak.

``<data root>/blood-cells/`` holds ``dataset2-master/images/{TRAIN,TEST,TEST_SIMPLE}/<class>/*.jpeg``
(320x240 augmented copies) and ``dataset-master/`` (the original 640x480 smears with ``labels.csv``), in
the pack's single nesting or the Kaggle zip's double one; downloaded with ``kagglehub`` when missing.

* :func:`blood_cells`: one split as a ``tf.data`` pipeline (:func:`cnnkit.data.image_folder`);
* :func:`blood_cell_originals`: the original smear photos and their labels;
* :func:`generator_positions`: the source position that Keras's ``ImageDataGenerator`` wrote into each
  augmented file's name;
* :func:`stained_cell`: the pixels of the white blood cell in one image (its largest purple region);
* :class:`SmearMatcher`: finds the original smear an augmented image was made from, by comparing a patch
  centred on the white blood cell (the large purple nucleus) with every original, over flips and
  rotations. TRAIN and TEST are augmented copies of a few hundred smears, so a random split of them leaks;
  the matcher's answer is the group to split by (:func:`cnnkit.data.split_indices` with ``groups``).
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..config import data_root
from .common import DataNotFoundError, download_root, kaggle_download
from .duplicates import load_image
from .pipeline import image_folder

BLOOD_CELL_CLASSES = ["EOSINOPHIL", "LYMPHOCYTE", "MONOCYTE", "NEUTROPHIL"]
BLOOD_CELL_SPLITS = ("TRAIN", "TEST", "TEST_SIMPLE")
KAGGLE_HANDLE = "paultimothymooney/blood-cells"

__all__ = ["BLOOD_CELL_CLASSES", "BLOOD_CELL_SPLITS", "find_images", "ensure_blood_cells", "blood_cells",
           "blood_cell_originals", "generator_positions", "stained_cell", "Matches", "SmearMatcher"]


# --------------------------------------------------------------------------------------------------
# The augmented images


def find_images(base: Path) -> Path | None:
    """The ``images`` folder under ``base`` in either nesting of the download, or None."""
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
    found = find_images(base)
    if found is not None:
        return found
    if base.exists() and any(base.iterdir()):
        raise DataNotFoundError("blood-cells", base, ["dataset2-master/images"],
                                reason="the folder exists but has no dataset2-master/images inside")
    download_root("blood-cells", base, ["dataset2-master/images"])
    try:
        kaggle_download(KAGGLE_HANDLE, base, find_images, "dataset2-master/images")
    except Exception as err:
        raise DataNotFoundError("blood-cells", base, ["dataset2-master/images"],
                                reason=f"Kaggle download failed: {err}") from None
    return find_images(base)


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
# The original smears, and the augmented files' names


def blood_cell_originals(base=None):
    """Paths and labels of the original smear photos (``dataset-master/JPEGImages``) of the blood-cell set.

    ``base`` is the ``blood-cells`` folder of the data root (default); both the pack's single nesting
    and the Kaggle zip's double one (``dataset-master/dataset-master``) are accepted. Labels come from
    ``labels.csv`` (``""`` where the row is blank or missing; multi-label rows such as
    ``"NEUTROPHIL, EOSINOPHIL"`` are kept as written).
    """
    if base is None:
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


def stained_cell(rgb, threshold: float = 30.0) -> np.ndarray:
    """Boolean mask of the white blood cell in one RGB image (height, width, 3; values 0-255).

    The stain colours the white cell's nucleus purple: blue exceeds green by more than ``threshold``. The
    purple pixels are joined by two rounds of binary closing, and the largest connected region is the cell;
    smaller specks (on red cells, at the border) are dropped. All False when no pixel is purple.

    A cell cut by the frame keeps its pixels on the frame: the closing runs on the mask extended by its own
    edge values (a cell continues past the frame), not on a mask surrounded by False, whose erosion would
    strip the two outermost rows and columns.
    """
    from scipy import ndimage

    rgb = np.asarray(rgb, dtype=np.float32)
    if rgb.ndim != 3 or rgb.shape[-1] != 3:
        raise ValueError(f"stained_cell takes one RGB image (height, width, 3), got shape {rgb.shape}")
    purple = (rgb[..., 2] - rgb[..., 1]) > threshold
    rounds = 2
    padded = np.pad(purple, rounds, mode="edge")  # each closing round reaches one pixel further
    mask = ndimage.binary_closing(padded, iterations=rounds)[rounds:-rounds, rounds:-rounds]
    labelled, n = ndimage.label(mask)
    if n == 0:
        return np.zeros(mask.shape, bool)
    sizes = ndimage.sum(mask, labelled, range(1, n + 1))
    return labelled == int(np.argmax(sizes)) + 1


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
        """(row, column) of the white blood cell: centre of the largest purple region (:func:`stained_cell`),
        or of the image."""
        from scipy import ndimage

        mask = stained_cell(rgb, self.threshold)
        if not mask.any():
            return ((rgb.shape[0] - 1) / 2, (rgb.shape[1] - 1) / 2)
        return ndimage.center_of_mass(mask)

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
