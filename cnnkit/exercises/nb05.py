"""Checkers for notebook 05 (CIFAR-10 with data augmentation).

Each checker computes the right answer itself and prints one sentence (see :mod:`cnnkit.exercises`).
"""

from __future__ import annotations

import math

import numpy as np

from . import check_array, check_int


def pad_and_crop(image, top: int, left: int, pad: int = 4) -> np.ndarray:
    """Mirror-pad an ``(H, W, C)`` image by ``pad`` pixels, then cut the ``(H, W)`` window at ``(top, left)``.

    NumPy's ``mode="symmetric"`` repeats the edge pixel (``d c b a | a b c d``), which is what Keras's
    ``fill_mode="reflect"`` does and what the course uses. (Page's cifar10-fast uses NumPy's
    ``mode="reflect"``, ``d c b | a b c d``, without the edge repeat.) ``top = left = pad`` gives the
    image back unchanged.
    """
    image = np.asarray(image)
    h, w = image.shape[:2]
    if not (0 <= top <= 2 * pad and 0 <= left <= 2 * pad):
        raise ValueError(f"top and left must lie in 0..{2 * pad}, got {top}, {left}")
    padded = np.pad(image, ((pad, pad), (pad, pad), (0, 0)), mode="symmetric")
    return padded[top:top + h, left:left + w]


def check_pad_and_crop(crop, image, top: int, left: int, pad: int = 4):
    """Exercise 1: the pad-and-crop shift of ``image`` at window ``(top, left)``."""
    return check_array(crop, pad_and_crop(image, top, left, pad), name="crop")


def conv_params(kernel: int, c_in: int, c_out: int) -> int:
    """Weights plus biases of a ``kernel x kernel`` Conv2D from ``c_in`` to ``c_out`` channels."""
    return (kernel * kernel * c_in + 1) * c_out


def dense_params(n_in: int, n_out: int) -> int:
    return (n_in + 1) * n_out


def seed_params(padding: str = "valid", size: int = 32, channels: int = 3, num_classes: int = 10) -> int:
    """Parameters of the source article's CNN (conv 32-64-128, each 3x3 + max-pool 2, dense 128, output)."""
    total, c_in = 0, channels
    for c_out in (32, 64, 128):
        total += conv_params(3, c_in, c_out)
        if padding == "valid":
            size -= 2  # a 3x3 valid convolution loses one pixel on each side
        size //= 2  # 2x2 max-pool, stride 2, rounding down
        c_in = c_out
    return total + dense_params(size * size * c_in, 128) + dense_params(128, num_classes)


def check_same_padding_params(answer):
    """Exercise 2: the source model's parameter count with ``padding="same"`` in all three convolutions."""
    return check_int(answer, seed_params("same"), name="the parameter count with padding='same'")


def warmup_cosine(epoch, peak: float, warmup_epochs: float, epochs: float):
    """Learning rate at (fractional) ``epoch``: linear from 0 to ``peak``, then half a cosine down to 0."""
    epoch = np.asarray(epoch, dtype=np.float64)
    rise = peak * epoch / warmup_epochs if warmup_epochs else np.full_like(epoch, peak)
    done = np.clip((epoch - warmup_epochs) / (epochs - warmup_epochs), 0.0, 1.0)
    fall = peak * 0.5 * (1.0 + np.cos(math.pi * done))
    return np.where(epoch < warmup_epochs, rise, fall)


def check_lr_at_epochs(answer, peak: float, warmup_epochs: int, epochs: int):
    """Exercise 3: the learning rate at the start of epochs 0, 1, ..., ``epochs`` (``epochs + 1`` values)."""
    expected = warmup_cosine(np.arange(epochs + 1), peak, warmup_epochs, epochs)
    return check_array(answer, expected, name="the learning rates", atol=1e-6, rtol=1e-4)


def recall_per_class(cm) -> np.ndarray:
    """Recall of each class from a confusion matrix whose rows are the true classes."""
    cm = np.asarray(cm, dtype=np.float64)
    support = cm.sum(axis=1)
    return np.divide(np.diag(cm), support, out=np.zeros_like(support), where=support > 0)


def check_recall(answer, cm):
    """Exercise 4: per-class recall read off the confusion matrix ``cm`` (rows = true classes)."""
    return check_array(answer, recall_per_class(cm), name="recall", atol=1e-6)
