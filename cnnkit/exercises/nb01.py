"""Checkers for notebook 01 (pixels and convolution).

Each checker computes the right answer itself (with :mod:`cnnkit.ops` or the formula) and prints one
sentence saying whether the learner's answer is right and, if not, what differs; it never prints the
expected value.
"""

from __future__ import annotations

import numpy as np

from .. import ops
from . import Check, as_array, check_array, check_int, quietly, report, text_of, typename

# Exercise 1: Conv2D(16 filters, 5x5 kernel) on an RGB image
EX1_FILTERS, EX1_KERNEL, EX1_CHANNELS = 16, 5, 3
# Exercise 4: a 32x32 CIFAR-10 image through a 5x5 kernel with stride 2
EX4_SIZE, EX4_KERNEL, EX4_STRIDE = 32, 5, 2


def check_conv_params(answer) -> Check:
    """Exercise 1: the number of parameters of ``Conv2D(16, (5, 5))`` on an RGB (3-channel) input."""
    k, c, f = EX1_KERNEL, EX1_CHANNELS, EX1_FILTERS
    expected = k * k * c * f + f
    name = "the parameter count"
    if isinstance(answer, (int, np.integer)) and not isinstance(answer, bool):
        if int(answer) == k * k * f + f:
            return report(False, f"{name} is too small: each filter spans all input channels of the image.")
        if int(answer) == k * k * c * f:
            return report(False, f"{name} is too small: did you forget the biases (one per filter)?")
        if int(answer) == k * k * c * f + f * c:
            return report(False, f"{name} is too large: there is one bias per filter, not per channel.")
    return check_int(answer, expected, name=name)


def check_my_conv2d(my_conv2d) -> Check:
    """Exercise 2: a hand-written 'valid', stride-1 cross-correlation of a 2-D image with a 2-D kernel."""
    if not callable(my_conv2d):
        return report(False, f"my_conv2d should be a function, but it is a {typename(my_conv2d)}.")
    rng = np.random.default_rng(1)
    cases = [
        (np.array([[10, 10, 10, 0, 0, 0]] * 6, dtype=float), np.array([[1, 0, -1]] * 3, dtype=float)),
        (rng.integers(0, 10, size=(5, 7)).astype(float), rng.integers(-3, 4, size=(3, 3)).astype(float)),
        (rng.normal(size=(6, 5)), rng.normal(size=(2, 4))),
    ]
    for image, kernel in cases:
        try:
            got = my_conv2d(image.copy(), kernel.copy())
        except Exception as err:  # report the learner's error in one sentence
            return report(False, f"my_conv2d raised {type(err).__name__} on a {image.shape} image with a "
                                f"{kernel.shape} kernel: {err}")
        expected = ops.conv2d(image, kernel)
        name = f"my_conv2d on a {image.shape} image with a {kernel.shape} kernel"
        arr = as_array(got)
        if arr is not None and arr.shape != expected.shape:
            return report(False, f"{name} returned shape {arr.shape}, expected {expected.shape}: the kernel should "
                                "visit only the positions where it lies entirely inside the image, moving one "
                                "pixel at a time (H - kh + 1 rows, W - kw + 1 columns).")
        if arr is not None and not np.allclose(arr, expected):
            if np.allclose(arr, ops.conv2d(image, kernel[::-1, ::-1])):
                return report(False, "my_conv2d uses the kernel upside down and left-right reversed (rotated by "
                                    "180°); multiply each patch by the kernel as it is, patch[a, b] * kernel[a, b].")
        result = quietly(check_array, got, expected, name=name)
        if not result:
            return report(False, text_of(result))
    return report(True, f"Correct: my_conv2d matches a conv layer's computation on {len(cases)} test images.")


def check_horizontal_edge_kernel(kernel) -> Check:
    """Exercise 3: a 3x3 kernel that is 0 on flat regions and vertical edges, > 0 on bright-above-dark edges."""
    arr = as_array(kernel)
    if arr is None:
        return report(False, f"your kernel should be an array of numbers, but it is a {typename(kernel)}.")
    if arr.shape != (3, 3):
        return report(False, f"your kernel has shape {arr.shape}; the exercise asks for a 3x3 kernel.")
    arr = arr.astype(np.float64)
    if not np.all(np.isfinite(arr)):
        return report(False, "your kernel contains NaN or infinite values.")
    scale = max(float(np.abs(arr).max()), 1e-12)
    flat = ops.conv2d(np.full((5, 5), 7.0), arr)
    if np.abs(flat).max() > 1e-6 * scale * 7:
        return report(False, "your kernel responds to a flat, uniform region: its weights should sum to zero.")
    top_bright = np.repeat(np.array([10, 10, 10, 0, 0, 0], dtype=float)[:, None], 6, axis=1)
    vertical = ops.conv2d(top_bright.T, arr)
    if np.abs(vertical).max() > 1e-6 * scale * 10:
        return report(False, "your kernel also responds to vertical edges (left/right changes): make each "
                            "column of weights sum to zero.")
    response = ops.conv2d(top_bright, arr)
    if response.max() <= 0:
        sign = "negative" if response.min() < 0 else "zero"
        return report(False, f"your kernel gives a {sign} response where a bright region lies above a dark one; "
                            "it should be positive there.")
    if response.min() < -1e-6 * scale * 10:
        return report(False, "your kernel gives negative values somewhere along a bright-above-dark edge; "
                            "make it positive at every row that crosses the edge.")
    return report(True, "Correct: your kernel ignores flat regions and vertical edges and responds positively "
                       "to a bright-above-dark horizontal edge.")


def check_output_sizes(valid_size, same_size) -> Check:
    """Exercise 4: output height of a 32x32 input, 5x5 kernel, stride 2, with 'valid' and with 'same'."""
    n, k, s = EX4_SIZE, EX4_KERNEL, EX4_STRIDE
    for answer, padding in ((valid_size, "valid"), (same_size, "same")):
        result = quietly(check_int, answer, ops.output_size(n, k, s, padding), name=f"the '{padding}' output size")
        if not result:
            return report(False, text_of(result))
    return report(True, "Correct: both output sizes are right.")
