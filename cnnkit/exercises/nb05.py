"""Checkers for notebook 05 (CIFAR-10 with data augmentation).

Each checker computes the right answer itself and prints one sentence (see :mod:`cnnkit.exercises`).
"""

from __future__ import annotations

import math

import numpy as np

from . import as_array, check_array, check_int, check_recall, quietly, report, text_of

__all__ = ["pad_and_crop", "check_pad_and_crop", "conv_params", "dense_params", "article_params",
           "check_same_padding_params", "warmup_cosine", "check_lr_at_epochs",
           "check_recall"]  # exercise 4: the shared recall checker


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


def _crop_with(image, top, left, pad, mode):
    padded = np.pad(np.asarray(image), ((pad, pad), (pad, pad), (0, 0)), mode=mode)
    h, w = np.asarray(image).shape[:2]
    return padded[top:top + h, left:left + w]


def check_pad_and_crop(crop, image, top: int, left: int, pad: int = 4):
    """Exercise 1: the pad-and-crop shift of ``image`` at window ``(top, left)``, as ``uint8``."""
    expected = pad_and_crop(image, top, left, pad)
    result = quietly(check_array, crop, expected, name="crop")
    arr = as_array(crop)
    if not result:
        if arr is not None and arr.shape == expected.shape:
            if np.array_equal(arr, _crop_with(image, top, left, pad, "reflect")):
                return report(False, 'crop used mode="reflect", which does not repeat the edge pixel (d c b | a b c d); '
                                    'the task asks for mode="symmetric" (d c b a | a b c d), like Keras\'s "reflect".')
            if top != left and np.array_equal(arr, pad_and_crop(image, left, top, pad)):
                return report(False, "crop looks like TOP and LEFT are swapped: the first index of the padded "
                                    "array is the row (TOP), the second the column (LEFT).")
        return report(False, text_of(result))
    if arr.dtype != np.uint8:
        return report(False, f"crop has the right values but dtype {arr.dtype}; the task asks for uint8, like x_val[0] "
                            "(slice the padded uint8 array, without converting it).")
    return report(True, text_of(result))


def conv_params(kernel: int, c_in: int, c_out: int) -> int:
    """Weights plus biases of a ``kernel x kernel`` Conv2D from ``c_in`` to ``c_out`` channels."""
    return (kernel * kernel * c_in + 1) * c_out


def dense_params(n_in: int, n_out: int) -> int:
    """Weights plus biases of a ``Dense`` layer from ``n_in`` inputs to ``n_out`` units."""
    return (n_in + 1) * n_out


def article_params(padding: str = "valid", size: int = 32, channels: int = 3, num_classes: int = 10) -> int:
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
    name = "the parameter count with padding='same'"
    if not isinstance(answer, bool) and isinstance(answer, (int, np.integer)):
        if int(answer) == article_params("valid"):
            return report(False, f"{name} equals the count of the model above, which uses padding='valid'; with "
                                "'same' the feature maps stay larger, so the flattened vector is longer.")
        conv_total = article_params("same") - dense_params(4 * 4 * 128, 128) - dense_params(128, 10)
        if int(answer) == conv_total + dense_params(8 * 8 * 128, 128) + dense_params(128, 10):
            return report(False, f"{name} has a flattened length for only two poolings: the third max-pool halves "
                                "the height and width once more before Flatten.")
    return check_int(answer, article_params("same"), name=name)


def warmup_cosine(epoch, peak: float, warmup_epochs: float, epochs: float):
    """Learning rate at (fractional) ``epoch``: linear from 0 to ``peak``, then half a cosine down to 0."""
    epoch = np.asarray(epoch, dtype=np.float64)
    rise = peak * epoch / warmup_epochs if warmup_epochs else np.full_like(epoch, peak)
    done = np.clip((epoch - warmup_epochs) / (epochs - warmup_epochs), 0.0, 1.0)
    fall = peak * 0.5 * (1.0 + np.cos(math.pi * done))
    return np.where(epoch < warmup_epochs, rise, fall)


def check_lr_at_epochs(answer, peak: float, warmup_epochs: int, epochs: int):
    """Exercise 3: the learning rate at the start of epochs 0, 1, ..., ``epochs`` (``epochs + 1`` values)."""
    e = np.arange(epochs + 1, dtype=np.float64)
    expected = warmup_cosine(e, peak, warmup_epochs, epochs)
    name = "lr_per_epoch"
    arr = as_array(answer)
    if arr is not None and arr.ndim == 1 and len(arr) == epochs and np.allclose(
            arr, expected[:-1], atol=1e-6, rtol=1e-4):
        return report(False, f"{name} stops one epoch early: one value per epoch start, including the start of "
                            "epoch R9_EPOCHS (the end of training), so R9_EPOCHS + 1 values.")
    if arr is not None and arr.shape == expected.shape and not np.allclose(arr, expected, atol=1e-6, rtol=1e-4):
        warm = e < warmup_epochs
        done = np.clip((e - warmup_epochs) / (epochs - warmup_epochs), 0.0, 1.0)
        no_half = np.where(warm, expected, peak * (1.0 + np.cos(math.pi * done)))
        over_all = np.where(warm, expected, peak * 0.5 * (1.0 + np.cos(math.pi * (e - warmup_epochs) / epochs)))
        if np.allclose(arr, no_half, atol=1e-6, rtol=1e-4):
            return report(False, f"{name} is too large after the warm-up: the cosine part needs the factor ½, "
                                "so that it starts at PEAK_LR and ends at 0.")
        if np.allclose(arr, over_all, atol=1e-6, rtol=1e-4):
            return report(False, f"{name} does not reach 0 at the end: the cosine runs over the epochs after the "
                                "warm-up, R9_EPOCHS − R9_WARMUP, not over R9_EPOCHS.")
    return check_array(answer, expected, name=name, atol=1e-6, rtol=1e-4)
