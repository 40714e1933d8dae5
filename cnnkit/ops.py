"""NumPy reference implementations of what a CNN layer computes: convolution, pooling, activations.

These are the from-scratch versions the first two notebooks build by hand and then check against
TensorFlow and Keras. They compute the same numbers as:

* :func:`conv2d`: ``tf.nn.conv2d`` / ``keras.layers.Conv2D`` on one channels-last image, i.e. a 2-D
  **cross-correlation** (the kernel is not flipped), with ``"valid"`` or ``"same"`` padding and any stride;
* :func:`pool2d`: ``keras.layers.MaxPooling2D`` and ``AveragePooling2D`` (``"min"`` is the negated
  max-pool of the negated input; Keras has no min pooling);
* :func:`relu`, :func:`leaky_relu`, :func:`sigmoid`, :func:`tanh`, :func:`softmax`: ``keras.activations``;
* :func:`grey`: ``tf.image.rgb_to_grayscale`` (the luminance of an RGB image).

Shapes: an image is ``(H, W)`` (one channel) or ``(H, W, C)`` (channels last). A kernel is ``(kh, kw)``
(one input channel, one filter) or ``(kh, kw, C_in, C_out)`` (the layout of ``Conv2D.kernel``).
Everything is vectorised with :func:`numpy.lib.stride_tricks.sliding_window_view`; there are no Python
loops over pixels.

"Same" padding follows TensorFlow: along an axis of length ``n`` with kernel ``k`` and stride ``s`` the
output has ``ceil(n / s)`` values and ``pad_total = max((ceil(n / s) - 1) * s + k - n, 0)`` zeros are
added, ``pad_total // 2`` before and the rest after: whenever ``pad_total`` is odd, the extra zero goes at
the end. At stride 1 ``pad_total = kernel - 1``, so that happens exactly for even kernels; at larger strides
it depends on ``n`` too (``n=28, k=3, s=2`` pads ``(0, 1)``; ``n=32, k=4, s=2`` pads ``(1, 1)``).
"""

from __future__ import annotations

import numbers

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

__all__ = [
    "conv2d", "pool2d", "output_size", "same_padding",
    "relu", "leaky_relu", "sigmoid", "tanh", "softmax", "grey",
]

PADDINGS = ("valid", "same")
POOL_MODES = ("max", "avg", "min")


# --------------------------------------------------------------------------------------------------
# Argument checks


def _positive_int(value, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{what} must be a positive integer, got {value!r}")
    if value < 1:
        raise ValueError(f"{what} must be a positive integer, got {value!r}")
    return int(value)


def _pair(value, what: str) -> tuple[int, int]:
    """An int or a pair of ints, as a pair of positive ints."""
    if isinstance(value, (tuple, list, np.ndarray)):
        if len(value) != 2:
            raise ValueError(f"{what} must be an int or a pair (rows, columns), got {value!r}")
        return _positive_int(value[0], what), _positive_int(value[1], what)
    v = _positive_int(value, what)
    return v, v


def _padding(padding) -> str:
    if not isinstance(padding, str) or padding.lower() not in PADDINGS:
        raise ValueError(f"padding must be 'valid' or 'same', got {padding!r}")
    return padding.lower()


def _float_array(x, what: str) -> np.ndarray:
    arr = np.asarray(x)
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise ValueError(f"{what} must be an array of numbers, got dtype {arr.dtype}")
    if not np.issubdtype(arr.dtype, np.floating):
        arr = arr.astype(np.float64)
    return arr


# --------------------------------------------------------------------------------------------------
# Sizes


def output_size(n, kernel, stride=1, padding="valid") -> int:
    """Length of a convolution or pooling output along one axis of length ``n``.

    ``"valid"`` (no padding): ``(n - kernel) // stride + 1``; the kernel must fit (``kernel <= n``).
    ``"same"`` (TensorFlow): ``ceil(n / stride)``, whatever the kernel size.
    """
    n = _positive_int(n, "n (the input length)")
    k = _positive_int(kernel, "kernel (the window length)")
    s = _positive_int(stride, "stride")
    if _padding(padding) == "same":
        return -(-n // s)
    if k > n:
        raise ValueError(f"with padding='valid' the kernel ({k}) cannot be larger than the input ({n})")
    return (n - k) // s + 1


def same_padding(n, kernel, stride=1) -> tuple[int, int]:
    """``(before, after)``: the zeros TensorFlow's ``"same"`` padding adds along an axis of length ``n``.

    The total is ``max((ceil(n / stride) - 1) * stride + kernel - n, 0)``; an odd total puts the extra zero
    after (at the end).
    """
    n = _positive_int(n, "n (the input length)")
    k = _positive_int(kernel, "kernel (the window length)")
    s = _positive_int(stride, "stride")
    total = max((-(-n // s) - 1) * s + k - n, 0)
    return total // 2, total - total // 2


def _pad_and_windows(x3, kh, kw, sh, sw, padding, fill):
    """Windows ``(H', W', C, kh, kw)`` of the ``(H, W, C)`` array ``x3`` after padding with ``fill``."""
    h, w = x3.shape[:2]
    if padding == "valid":
        if kh > h or kw > w:
            raise ValueError(f"with padding='valid' the window ({kh}x{kw}) cannot be larger than the input "
                             f"({h}x{w}); use padding='same' or a smaller window")
        xp = x3
    else:
        (top, bottom), (left, right) = same_padding(h, kh, sh), same_padding(w, kw, sw)
        xp = np.pad(x3, ((top, bottom), (left, right), (0, 0)), constant_values=fill)
    oh, ow = output_size(h, kh, sh, padding), output_size(w, kw, sw, padding)
    windows = sliding_window_view(xp, (kh, kw), axis=(0, 1))[::sh, ::sw]
    return windows[:oh, :ow], xp


# --------------------------------------------------------------------------------------------------
# Convolution


def conv2d(x, kernel, stride=1, padding="valid") -> np.ndarray:
    """2-D cross-correlation of one image with one or more filters, like ``tf.nn.conv2d`` (no bias).

    ``out[i, j, d] = sum over (a, b, c) of x_padded[i*sh + a, j*sw + b, c] * kernel[a, b, c, d]``

    Args:
        x: ``(H, W)`` or ``(H, W, C_in)``.
        kernel: ``(kh, kw)`` (one input channel, one filter) or ``(kh, kw, C_in, C_out)``.
        stride: an int or ``(rows, columns)``.
        padding: ``"valid"`` (no padding) or ``"same"`` (TensorFlow's zero padding, output ``ceil(n / s)``).

    Returns:
        ``(H', W')`` when ``x`` and ``kernel`` are both 2-D; otherwise ``(H', W', C_out)``
        (a 2-D kernel counts as one filter, a 2-D image as one channel).
    """
    x = _float_array(x, "x")
    kernel = _float_array(kernel, "kernel")
    if x.ndim not in (2, 3):
        raise ValueError(f"x must be an image of shape (H, W) or (H, W, C), got shape {x.shape}")
    if kernel.ndim not in (2, 4):
        raise ValueError(f"kernel must have shape (kh, kw) or (kh, kw, C_in, C_out), got shape {kernel.shape}")
    if 0 in x.shape or 0 in kernel.shape:
        raise ValueError(f"x {x.shape} and kernel {kernel.shape} must not have an axis of length 0")
    x3 = x[:, :, np.newaxis] if x.ndim == 2 else x
    k4 = kernel[:, :, np.newaxis, np.newaxis] if kernel.ndim == 2 else kernel
    if x3.shape[2] != k4.shape[2]:
        raise ValueError(f"channel mismatch: x has {x3.shape[2]} channel(s) but the kernel expects "
                         f"{k4.shape[2]} (kernel shape {kernel.shape})")
    sh, sw = _pair(stride, "stride")
    padding = _padding(padding)
    kh, kw = k4.shape[:2]
    windows, _ = _pad_and_windows(x3, kh, kw, sh, sw, padding, 0.0)
    # windows: (H', W', C_in, kh, kw); k4: (kh, kw, C_in, C_out) -> (H', W', C_out)
    out = np.tensordot(windows, k4, axes=([3, 4, 2], [0, 1, 2]))
    if x.ndim == 2 and kernel.ndim == 2:
        return out[:, :, 0]
    return out


# --------------------------------------------------------------------------------------------------
# Pooling


def pool2d(x, size=2, stride=None, mode="max", padding="valid") -> np.ndarray:
    """Max, average or min pooling of one image, channel by channel, like Keras's pooling layers.

    Args:
        x: ``(H, W)`` or ``(H, W, C)``.
        size: the window, an int or ``(rows, columns)``.
        stride: an int or a pair; ``None`` means ``size`` (non-overlapping windows, the Keras default).
        mode: ``"max"`` (``MaxPooling2D``), ``"avg"`` (``AveragePooling2D``) or ``"min"``
            (``-max_pool(-x)``; not a Keras layer).
        padding: ``"valid"`` or ``"same"``. With ``"same"``, padded positions are ignored: max pooling never
            picks them and average pooling divides by the number of real values in the window, as Keras does.

    Returns:
        The same rank as ``x``: ``(H', W')`` or ``(H', W', C)``.
    """
    x = _float_array(x, "x")
    if x.ndim not in (2, 3):
        raise ValueError(f"x must be an image of shape (H, W) or (H, W, C), got shape {x.shape}")
    if 0 in x.shape:
        raise ValueError(f"x must not have an axis of length 0, got shape {x.shape}")
    if not isinstance(mode, str) or mode.lower() not in POOL_MODES:
        raise ValueError(f"mode must be one of {POOL_MODES}, got {mode!r}")
    mode = mode.lower()
    ph, pw = _pair(size, "size")
    sh, sw = (ph, pw) if stride is None else _pair(stride, "stride")
    padding = _padding(padding)
    if mode == "min":
        return -pool2d(-x, (ph, pw), (sh, sw), "max", padding)
    x3 = x[:, :, np.newaxis] if x.ndim == 2 else x
    if mode == "max":
        windows, _ = _pad_and_windows(x3, ph, pw, sh, sw, padding, -np.inf)
        out = windows.max(axis=(3, 4))
    else:
        windows, _ = _pad_and_windows(x3, ph, pw, sh, sw, padding, 0.0)
        ones = np.ones(x3.shape[:2] + (1,), dtype=x3.dtype)
        counts, _ = _pad_and_windows(ones, ph, pw, sh, sw, padding, 0.0)
        out = windows.sum(axis=(3, 4)) / counts.sum(axis=(3, 4))
    return out[:, :, 0] if x.ndim == 2 else out


# --------------------------------------------------------------------------------------------------
# Activations (element-wise, like keras.activations)


def _exp_no_underflow(a: np.ndarray) -> np.ndarray:
    """``exp(a)`` for ``a <= 0``, giving exactly 0 where the result would underflow (no FP warning)."""
    limit = np.log(np.finfo(a.dtype).tiny)  # below this exp() leaves the normal range
    small = a < limit
    return np.where(small, 0.0, np.exp(np.where(small, 0.0, a))).astype(a.dtype, copy=False)


def relu(x) -> np.ndarray:
    """``max(x, 0)``."""
    x = _float_array(x, "x")
    return np.maximum(x, 0)


def leaky_relu(x, negative_slope=0.2) -> np.ndarray:
    """``x`` for ``x >= 0``, ``negative_slope * x`` otherwise.

    The default slope, 0.2, is that of ``keras.activations.leaky_relu`` (and ``activation="leaky_relu"``);
    the layer ``keras.layers.LeakyReLU`` defaults to 0.3.
    """
    x = _float_array(x, "x")
    return np.where(x >= 0, x, negative_slope * x).astype(x.dtype, copy=False)


def sigmoid(x) -> np.ndarray:
    """``1 / (1 + exp(-x))``, computed without overflow: ``exp`` only ever sees ``-|x|``."""
    x = _float_array(x, "x")
    z = _exp_no_underflow(-np.abs(x))  # in [0, 1]
    return np.where(x >= 0, 1.0 / (1.0 + z), z / (1.0 + z)).astype(x.dtype, copy=False)


def tanh(x) -> np.ndarray:
    """Hyperbolic tangent, ``(exp(x) - exp(-x)) / (exp(x) + exp(-x))``."""
    x = _float_array(x, "x")
    return np.tanh(x)


def softmax(x, axis=-1) -> np.ndarray:
    """``exp(x) / sum(exp(x))`` along ``axis``; the maximum is subtracted first, so nothing overflows."""
    x = _float_array(x, "x")
    if x.ndim == 0:
        raise ValueError("softmax needs at least one axis; got a scalar")
    shifted = x - np.max(x, axis=axis, keepdims=True)
    e = _exp_no_underflow(shifted)
    return e / np.sum(e, axis=axis, keepdims=True)


# --------------------------------------------------------------------------------------------------
# Colour


def grey(rgb) -> np.ndarray:
    """Luminance of an RGB image, ``0.299 R + 0.587 G + 0.114 B`` (ITU-R BT.601, as ``tf.image.rgb_to_grayscale``).

    Args:
        rgb: ``(..., 3)``, channels last, any value range.

    Returns:
        ``(...)`` in the same range, as float64 (the channel axis is gone).
    """
    rgb = _float_array(rgb, "rgb")
    if rgb.ndim == 0 or rgb.shape[-1] != 3:
        raise ValueError(f"rgb must have 3 channels on its last axis, got shape {rgb.shape}")
    return rgb.astype(np.float64) @ np.array([0.299, 0.587, 0.114])
