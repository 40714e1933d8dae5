"""Checkers for notebook 02 (pooling and activations).

Each checker computes the right answer itself (with :mod:`cnnkit.ops` or the formula) and prints one
sentence saying whether the learner's answer is right and, if not, what differs; it never prints the
expected value.
"""

from __future__ import annotations

import warnings

import numpy as np

from .. import ops
from . import Check, as_array, check_array, check_int, quietly, report, text_of, typename

# Exercise 4: Fashion-MNIST 28x28x1 -> Conv2D(8, 3x3, 'same') -> MaxPooling2D(2) -> Flatten -> Dense(10)
EX4_INPUT, EX4_FILTERS, EX4_KERNEL, EX4_POOL, EX4_CLASSES = (28, 28, 1), 8, 3, 2, 10


def exercise_grid() -> np.ndarray:
    """Exercise 1's input: a fixed 6x6 array of small whole numbers (float64)."""
    return np.random.default_rng(2024).integers(0, 10, size=(6, 6)).astype(np.float64)


def exercise_layers():
    """Exercise 2's two linear layers: ``(W1, b1, W2, b2)`` with shapes (4, 3), (3,), (3, 2), (2,).

    Every bias value is nonzero, and so is ``b1 @ W2``: leaving out either bias gives a wrong answer.
    """
    rng = np.random.default_rng(14)
    w1 = rng.integers(-3, 4, size=(4, 3)).astype(np.float64)
    b1 = rng.integers(-2, 3, size=3).astype(np.float64)
    w2 = rng.integers(-3, 4, size=(3, 2)).astype(np.float64)
    b2 = rng.integers(-2, 3, size=2).astype(np.float64)
    return w1, b1, w2, b2


# Exercise 1: the reshapes of the 6x6 grid a learner might try, and the axes they might average over
_RIGHT_RESHAPE, _RIGHT_AXES = (3, 2, 3, 2), (1, 3)
_RESHAPES = [(3, 2, 3, 2), (3, 3, 2, 2), (2, 2, 3, 3), (2, 3, 2, 3), (3, 2, 2, 3), (2, 3, 3, 2)]
_AXES = [(1, 3), (0, 2), (0, 1), (2, 3), (1, 2), (0, 3), (0,), (1,), (2,), (3,)]


def _wrong_reshape_hint(arr, grid):
    """A sentence for an answer that averages some reshape of ``grid`` over the wrong axes, or None."""
    for shape in _RESHAPES:
        for axes in _AXES:
            if (shape, axes) == (_RIGHT_RESHAPE, _RIGHT_AXES):
                continue
            candidate = grid.reshape(shape).mean(axis=axes)
            if candidate.shape != arr.shape or not np.allclose(candidate, arr):
                continue
            what = f"pooled looks like grid.reshape{shape}.mean(axis={axes if len(axes) > 1 else axes[0]})"
            if len(axes) == 1:
                return (f"{what}: that averages along one axis only; a 2x2 window spans two rows and two "
                        "columns, so average over two axes.")
            if shape == _RIGHT_RESHAPE:
                return (f"{what}: the reshape is right, but axes {axes} are not the two axes inside each 2x2 "
                        f"window. In an array of shape {shape}, which axes have length 2?")
            return (f"{what}: that reshape does not put each 2x2 window of grid on two axes of its own "
                    "(reshape fills the new axes in the grid's row order). Reshape to (3, 2, 3, 2) as the hint "
                    "says: (window row, row inside the window, window column, column inside the window).")
    return None


def check_avg_pool(pooled) -> Check:
    """Exercise 1: 2x2 average pooling (stride 2) of :func:`exercise_grid`."""
    grid = exercise_grid()
    expected = ops.pool2d(grid, 2, mode="avg")
    arr = as_array(pooled)
    if arr is not None and not (arr.shape == expected.shape and np.allclose(arr, expected)):
        if arr.shape == expected.shape:
            for mode in ("max", "min"):
                if np.allclose(arr, ops.pool2d(grid, 2, mode=mode)):
                    return report(False, f"pooled holds the {mode}imum of each window, not the average.")
            if np.allclose(arr, ops.pool2d(grid, 2, mode="avg") * 4):
                return report(False, "pooled holds the sum of each window; divide by the number of values in it.")
        hint = _wrong_reshape_hint(arr.astype(np.float64), grid)
        if hint:
            return report(False, hint)
        if arr.shape != expected.shape:
            extra = " (the same number of values: a reshape away?)" if arr.size == expected.size else ""
            return report(False, f"pooled has shape {arr.shape}, expected {expected.shape}: one average per 2x2 "
                                f"window of the 6x6 grid{extra}.")
    return check_array(pooled, expected, name="pooled")


def check_combined_linear(W, b) -> Check:
    """Exercise 2: the single layer ``x @ W + b`` equal to ``(x @ W1 + b1) @ W2 + b2``."""
    w1, b1, w2, b2 = exercise_layers()
    w_expected, b_expected = w1 @ w2, b1 @ w2 + b2
    arr = as_array(W)
    if arr is not None and arr.shape != w_expected.shape:
        if arr.shape == w_expected.T.shape and np.allclose(arr, w_expected.T):
            return report(False, "W is transposed: with row vectors x @ W, W has one row per input.")
        return report(False, f"W has shape {arr.shape}, expected {w_expected.shape}: one row per input value "
                            f"({w1.shape[0]}) and one column per output of the second layer ({w2.shape[1]}).")
    w_ok = quietly(check_array, W, w_expected, name="W")
    if not w_ok:
        return report(False, text_of(w_ok))
    arr = as_array(b)
    if arr is not None and arr.shape != b_expected.shape:
        if arr.shape == b1.shape:
            return report(False, f"W is right; b has shape {arr.shape}, the size of the first layer's output; the "
                                f"combined layer has {b2.size} outputs, so the first bias must pass through W2 too.")
        return report(False, f"W is right; b has shape {arr.shape}, expected {b_expected.shape}: one bias per "
                            "output.")
    b_ok = quietly(check_array, b, b_expected, name="b")
    if not b_ok:
        if arr is not None:
            if np.allclose(arr, b2):
                return report(False, "W is right, but b leaves out the first layer's bias (it passes through W2).")
            if np.allclose(arr, b1 @ w2):
                return report(False, "W is right, but b leaves out the second layer's bias.")
        return report(False, "W is right; " + text_of(b_ok))
    return report(True, "Correct: W and b make one linear layer that equals the two stacked ones.")


def check_stable_softmax(stable_softmax) -> Check:
    """Exercise 3: a softmax of a 1-D array that gives finite values, with no warning, for large inputs."""
    if not callable(stable_softmax):
        return report(False, f"stable_softmax should be a function, but it is a {typename(stable_softmax)}.")
    cases = [
        np.array([1.0, 2.0, 3.0]),
        np.array([1000.0, 0.0]),
        np.array([-1000.0, 0.0, 1000.0, 999.0]),
        np.array([-800.0, -801.0, -802.0]),
        np.random.default_rng(3).normal(size=10) * 5,
    ]
    for z in cases:
        try:
            with np.errstate(over="raise", invalid="raise", divide="raise"), warnings.catch_warnings():
                warnings.simplefilter("error", RuntimeWarning)
                got = stable_softmax(z.copy())
        except (FloatingPointError, RuntimeWarning) as err:
            return report(False, f"stable_softmax overflows or divides by zero on an input with values up to "
                                f"{z.max():g} ({type(err).__name__}); shift the inputs before exp.")
        except Exception as err:  # report the learner's error in one sentence
            return report(False, f"stable_softmax raised {type(err).__name__}: {err}")
        arr = as_array(got)
        if arr is not None and arr.shape != z.shape:
            return report(False, f"stable_softmax returned shape {arr.shape} for an input of shape {z.shape}; "
                                "it should return one probability per score.")
        if arr is not None and np.all(np.isfinite(arr)):
            if not np.isclose(arr.sum(), 1.0):
                return report(False, f"the outputs of stable_softmax for an input of {z.size} values do not sum to 1.")
        result = quietly(check_array, got, ops.softmax(z), name=f"stable_softmax of {z.size} values", atol=1e-8)
        if not result:
            return report(False, text_of(result))
    return report(True, f"Correct: stable_softmax is right and finite on {len(cases)} inputs, large ones included.")


def check_total_params(answer) -> Check:
    """Exercise 4: parameters of 28x28x1 -> Conv2D(8, 3x3, same) -> MaxPooling2D(2) -> Flatten -> Dense(10)."""
    h, w, c = EX4_INPUT
    f, k, p, n = EX4_FILTERS, EX4_KERNEL, EX4_POOL, EX4_CLASSES
    conv = k * k * c * f + f
    dense = (h // p) * (w // p) * f * n + n
    name = "the parameter count"
    if isinstance(answer, (int, np.integer)) and not isinstance(answer, bool):
        if int(answer) == conv + h * w * f * n + n:
            return report(False, f"{name} is too large: the pooling layer shrinks the maps before Flatten.")
        if int(answer) == dense:
            return report(False, f"{name} is too small: add the convolution layer's parameters.")
        if int(answer) == conv + dense - n - f:
            return report(False, f"{name} is too small: did you forget the biases?")
    return check_int(answer, conv + dense, name=name)
