"""Checkers for notebook 04 (LeNet on Fashion-MNIST).

Each checker computes the right answer itself from its inputs and prints one sentence; it never
prints the expected values.
"""

from __future__ import annotations

import numpy as np

from . import Check, as_array, check_array, check_int, check_recall, report  # check_recall: exercise 3

__all__ = ["check_one_hot", "check_classic_lenet_params", "check_recall", "check_left_half_fraction",
           "classic_lenet_params", "left_half_fraction", "mean_of_image_shares"]


def check_one_hot(answer, labels, num_classes: int = 10) -> Check:
    """Exercise 2: ``answer`` is the one-hot encoding of the integer ``labels`` with ``num_classes`` columns."""
    labels = np.asarray(labels).astype(int).reshape(-1)
    expected = np.eye(num_classes)[labels]
    arr = as_array(answer)
    if arr is not None and arr.ndim == 2 and arr.shape[0] == len(labels) and arr.shape[1] != num_classes:
        return report(False, f"one_hot has {arr.shape[1]} columns, but there must be one column per class: "
                            "pass num_classes (to_categorical otherwise infers it from the largest label).")
    return check_array(answer, expected, name="one_hot")


def classic_lenet_params() -> int:
    """Parameters of the classic LeNet-5 layout in Keras (32x32x1 input, 'valid' 5x5 convolutions,
    2x2 pooling, dense 120-84-10; every C3 filter sees all six maps)."""
    c1 = (5 * 5 * 1 + 1) * 6
    c3 = (5 * 5 * 6 + 1) * 16
    side = ((32 - 4) // 2 - 4) // 2  # 32 -> 28 -> 14 -> 10 -> 5
    f5 = (side * side * 16 + 1) * 120
    f6 = (120 + 1) * 84
    out = (84 + 1) * 10
    return c1 + c3 + f5 + f6 + out


def check_classic_lenet_params(answer) -> Check:
    """Exercise 1: the parameter count of the classic LeNet-5 layout written in Keras."""
    if hasattr(answer, "item") and np.ndim(answer) == 0:
        answer = answer.item()
    is_int = isinstance(answer, int) and not isinstance(answer, bool)
    if is_int and answer == 107_786:
        return report(False, "classic_params is the count of the source's model ('same' padding on 28x28, "
                            "so Flatten gives 7x7x16); redo it for a 32x32 input and 'valid' convolutions.")
    if is_int and answer == 60_000:
        return report(False, "classic_params is the 1998 paper's own total (sparse C3 table, trainable "
                            "subsampling); the exercise asks for the Keras layout with ordinary layers.")
    return check_int(answer, classic_lenet_params(), name="classic_params")




def _images_2d(images) -> np.ndarray:
    images = np.asarray(images, dtype=np.float64)
    return images[..., 0] if images.ndim == 4 else images


def left_half_fraction(images, labels, num_classes: int = 10, columns: int | None = None,
                       axis: int = 2) -> np.ndarray:
    """For each class, the share of all its pixel intensity (summed over all the class's images first) that
    lies in the first ``columns`` columns (default: half the width). ``axis=1`` takes rows instead."""
    images = _images_2d(images)
    labels = np.asarray(labels).reshape(-1)
    if columns is None:
        columns = images.shape[axis] // 2
    out = np.zeros(num_classes)
    for c in range(num_classes):
        cls = images[labels == c]
        part = cls[:, :, :columns] if axis == 2 else cls[:, :columns, :]
        out[c] = part.sum() / cls.sum()
    return out


def mean_of_image_shares(images, labels, num_classes: int = 10) -> np.ndarray:
    """The other reading of exercise 4: each image's own left-half share, averaged over the class
    (all-black images, whose share is undefined, are skipped)."""
    images = _images_2d(images)
    labels = np.asarray(labels).reshape(-1)
    half = images.shape[2] // 2
    totals = images.sum(axis=(1, 2))
    with np.errstate(divide="ignore", invalid="ignore"):
        shares = images[:, :, :half].sum(axis=(1, 2)) / totals
    return np.array([np.nanmean(shares[(labels == c) & (totals > 0)]) if np.any((labels == c) & (totals > 0))
                     else np.nan for c in range(num_classes)])


def check_left_half_fraction(answer, images, labels, num_classes: int = 10) -> Check:
    """Exercise 4: per class, the share of the class's summed intensity in the left half (columns < W/2).

    Targeted hints for the usual slips: the right half, rows instead of columns, a slice one column too
    short or too long, and the mean of the per-image shares instead of the share of the class's sum.
    """
    expected = left_half_fraction(images, labels, num_classes)
    arr = as_array(answer)
    if arr is not None and arr.shape == expected.shape and np.all(np.isfinite(arr)) \
            and not np.allclose(arr, expected, atol=1e-4, rtol=1e-4):
        width = _images_2d(images).shape[2]
        half = width // 2

        def like(alternative):
            alternative = np.asarray(alternative, dtype=np.float64)
            return np.all(np.isfinite(alternative)) and np.allclose(arr, alternative, atol=1e-4, rtol=1e-4)

        if like(1 - expected):
            return report(False, "left_fraction looks like the right half's share: the left half is the first "
                                "W/2 columns (the last axis of a (H, W) image).")
        if like(left_half_fraction(images, labels, num_classes, axis=1)):
            return report(False, "left_fraction looks like the share of the top half (rows): columns are the "
                                "last axis of a (H, W) image, so slice the last axis.")
        for cols in (half - 1, half + 1):
            if like(left_half_fraction(images, labels, num_classes, columns=cols)):
                return report(False, f"left_fraction counts {cols} columns as the left half instead of {half} "
                                    f"(W/2 for W = {width}): a slice's end index is excluded, so [:k] takes "
                                    "columns 0 to k - 1.")
        if like(mean_of_image_shares(images, labels, num_classes)):
            return report(False, "left_fraction looks like the average of each image's own share: sum the "
                                "intensity over all images of a class first, then take the left half's "
                                "share of that sum.")
    return check_array(answer, expected, name="left_fraction", atol=1e-4, rtol=1e-4)
