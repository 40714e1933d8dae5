"""Near-duplicate images: perceptual hashes, and the Hamming distances between them.

A perceptual hash summarises how an image looks in a few bits, so that re-encoded, resized or slightly
shifted copies of one photo get hashes that differ in few bits (a small Hamming distance). Use it to find
copies across a train/test split; it does not find copies rotated by 20 degrees (see
:class:`cnnkit.data.SmearMatcher` for the blood cells).

* :func:`load_image`: any image (path, PIL image, array, tensor) as a float32 array, optionally resized;
* :func:`dhash`, :func:`ahash`, :func:`hash_images`: difference and average hashes (NumPy + Pillow);
* :func:`hamming_matrix`, :func:`nearest_hamming`: distances between two sets of hashes.
"""

from __future__ import annotations

import numpy as np

__all__ = ["FLIP_NAMES", "load_image", "dhash", "ahash", "hash_images", "hamming_matrix", "nearest_hamming"]

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
