"""Checkers for notebook 04 (LeNet on Fashion-MNIST).

Each checker computes the right answer itself from its inputs and prints one sentence; it never
prints the expected values.
"""

from __future__ import annotations

import numpy as np

from . import Check, _as_array, _done, check_array, check_int

__all__ = ["check_one_hot", "check_classic_lenet_params", "check_recall", "check_left_half_fraction",
           "classic_lenet_params", "left_half_fraction"]


def check_one_hot(answer, labels, num_classes: int = 10) -> Check:
    """Exercise 1: ``answer`` is the one-hot encoding of the integer ``labels`` with ``num_classes`` columns."""
    labels = np.asarray(labels).astype(int).reshape(-1)
    expected = np.eye(num_classes)[labels]
    arr = _as_array(answer)
    if arr is not None and arr.ndim == 2 and arr.shape[0] == len(labels) and arr.shape[1] != num_classes:
        return _done(False, f"one_hot has {arr.shape[1]} columns, but there must be one column per class: "
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
    """Exercise 2: the parameter count of the classic LeNet-5 layout written in Keras."""
    if hasattr(answer, "item") and np.ndim(answer) == 0:
        answer = answer.item()
    is_int = isinstance(answer, int) and not isinstance(answer, bool)
    if is_int and answer == 107_786:
        return _done(False, "classic_params is the count of the source's model ('same' padding on 28x28, "
                            "so Flatten gives 7x7x16); redo it for a 32x32 input and 'valid' convolutions.")
    if is_int and answer == 60_000:
        return _done(False, "classic_params is the 1998 paper's own total (sparse C3 table, trainable "
                            "subsampling); the exercise asks for the Keras layout with ordinary layers.")
    return check_int(answer, classic_lenet_params(), name="classic_params")


def check_recall(answer, cm) -> Check:
    """Exercise 3: per-class recall from a confusion matrix ``cm`` (rows = true class, columns = predicted)."""
    cm = np.asarray(cm, dtype=np.float64)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1]:
        raise ValueError(f"cm must be a square matrix, got shape {cm.shape}")
    with np.errstate(divide="ignore", invalid="ignore"):
        expected = np.nan_to_num(np.diag(cm) / cm.sum(axis=1))
        precision = np.nan_to_num(np.diag(cm) / cm.sum(axis=0))
    arr = _as_array(answer)
    if (arr is not None and arr.shape == expected.shape and not np.allclose(arr, expected, atol=1e-6)
            and np.allclose(arr, precision, atol=1e-6)):
        return _done(False, "recall looks like precision: it divides by the column (predicted) totals; "
                            "recall divides by how many examples truly belong to each class.")
    return check_array(answer, expected, name="recall", atol=1e-6)


def left_half_fraction(images, labels, num_classes: int = 10) -> np.ndarray:
    """For each class, the share of all its pixel intensity that lies in the left half of the image."""
    images = np.asarray(images, dtype=np.float64)
    if images.ndim == 4:
        images = images[..., 0]
    labels = np.asarray(labels).reshape(-1)
    half = images.shape[2] // 2
    out = np.zeros(num_classes)
    for c in range(num_classes):
        cls = images[labels == c]
        out[c] = cls[:, :, :half].sum() / cls.sum()
    return out


def check_left_half_fraction(answer, images, labels, num_classes: int = 10) -> Check:
    """Exercise 4: per class, the fraction of the class-mean image's intensity in its left half (columns < W/2)."""
    expected = left_half_fraction(images, labels, num_classes)
    arr = _as_array(answer)
    if (arr is not None and arr.shape == expected.shape and not np.allclose(arr, expected, atol=1e-4)
            and np.allclose(arr, 1 - expected, atol=1e-4)):
        return _done(False, "left_fraction looks like the right half's share: the left half is the first "
                            "W/2 columns (the last axis of a (H, W) image).")
    return check_array(answer, expected, name="left_fraction", atol=1e-4, rtol=1e-4)
