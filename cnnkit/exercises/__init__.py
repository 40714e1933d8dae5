"""Exercise checkers.

Each notebook's checkers live in ``cnnkit.exercises.nbXX``. A checker compares a learner's answer with
the right one and prints one sentence: ``✓`` and what was checked, or ``✗`` and what differs (type,
shape, how many values, sign, direction), never the expected values themselves.

A checker returns a :class:`Check`, which is truthy when the answer is right. With
``CNNKIT_STRICT_CHECKS=1`` (set by the test suite) a wrong answer raises :class:`ExerciseFailed`, so a
broken solution in a notebook fails CI.

The building blocks, public for the per-notebook modules and for new checkers:

* :func:`check_array`, :func:`check_number`, :func:`check_int`, :func:`check_choice`: compare an answer
  with the expected value and say what differs;
* :func:`report`: print a sentence as a :class:`Check` (and raise in strict mode when it is wrong);
* :func:`quietly`, :func:`text_of`: run a building block without printing, to report once in one's own words;
* :func:`as_array`, :func:`typename`: read an answer as numbers, and name its type in a message;
* :func:`check_recall`: the one recall checker (notebooks 03 and 05 re-export it);
* :func:`short_run`, :func:`layers_of`, :func:`input_shape`: for checkers of exercises that build a model, a pipeline or a
  callback: train a few steps and see whether the loss falls; list a model's layers, nested ones included;
* :func:`error_clause`: an exception raised by the learner's code as a clause for a checker's sentence (a layer
  created but never called on a tensor is named as such, not as Keras's raw ValueError).
"""

from __future__ import annotations

import os
import re

import numpy as np

from ..evaluate import per_class_recall

STRICT_ENV = "CNNKIT_STRICT_CHECKS"


class ExerciseFailed(AssertionError):
    """Raised for a wrong answer in strict mode (CI)."""


class Check:
    """The outcome of a checker: ``ok`` and a one-sentence ``message``; truthy when right."""

    def __init__(self, ok: bool, message: str):
        self.ok, self.message = bool(ok), message

    def __bool__(self):
        return self.ok

    def __repr__(self):
        return self.message

    def _ipython_display_(self):
        """Jupyter shows nothing more: the checker has already printed the message once."""


def report(ok: bool, message: str, quiet: bool = False) -> Check:
    """The outcome of a check as a :class:`Check`: ``message`` after a tick or a cross.

    Args:
        ok: whether the answer is right.
        message: one sentence: what was checked, or what differs (never the expected value).
        quiet: do not print the sentence.

    Returns:
        The :class:`Check`. In strict mode (``CNNKIT_STRICT_CHECKS=1``) a wrong answer raises
        :class:`ExerciseFailed` instead.
    """
    result = Check(ok, ("✓ " if ok else "✗ ") + message)
    if not quiet:
        print(result.message)
    if not ok and os.environ.get(STRICT_ENV, "").strip() in {"1", "true", "yes"}:
        raise ExerciseFailed(result.message)
    return result


def as_array(answer):
    """The answer as a NumPy array (tensors are converted; bfloat16 becomes float32), or None when it is not
    array-like numbers."""
    if hasattr(answer, "numpy") and callable(answer.numpy):  # tf.Tensor, keras tensors
        answer = answer.numpy()
    if isinstance(answer, (str, bytes, dict, set)) or answer is None:
        return None
    try:
        arr = np.asarray(answer)
    except (ValueError, TypeError):
        return None
    if arr.dtype.kind == "V" and arr.dtype.name.startswith(("bfloat", "float")):
        arr = arr.astype(np.float32)  # bfloat16 and float8 (ml_dtypes), e.g. from a mixed-precision model
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        return None
    return arr


def typename(x) -> str:
    """The name of ``x``'s type, for a message such as "it is a str"."""
    return type(x).__name__


def check_array(answer, expected, *, name: str = "your answer", atol: float = 1e-5, rtol: float = 1e-5,
                quiet: bool = False) -> Check:
    """Compare an array answer with the expected array: type, shape, then values (sign, transpose)."""
    expected = np.asarray(expected)
    arr = as_array(answer)
    if arr is None:
        return report(False, f"{name} should be an array of numbers (a NumPy array), but it is a {typename(answer)}.",
                     quiet)
    if arr.shape != expected.shape:
        hint = ""
        if arr.size == expected.size:
            hint = " (the same number of values: a reshape or transpose away?)"
        elif arr.ndim == expected.ndim:
            hint = " (the same number of axes, but a different length along some axis)"
        return report(False, f"{name} has shape {arr.shape}, expected {expected.shape}{hint}.", quiet)
    arr = arr.astype(np.float64)
    exp = expected.astype(np.float64)
    if not np.all(np.isfinite(arr)):
        return report(False, f"{name} contains NaN or infinite values.", quiet)
    if np.allclose(arr, exp, atol=atol, rtol=rtol):
        return report(True, f"Correct: {name} has the right shape {arr.shape} and values.", quiet)
    close = np.isclose(arr, exp, atol=atol, rtol=rtol)
    wrong = int((~close).sum())
    if np.any(exp != 0) and np.allclose(arr, -exp, atol=atol, rtol=rtol):
        return report(False, f"{name} has the right size but every value has the wrong sign.", quiet)
    if arr.ndim >= 2 and arr.shape[0] == arr.shape[1] and np.allclose(np.swapaxes(arr, 0, 1), exp, atol=atol,
                                                                       rtol=rtol):
        return report(False, f"{name} looks transposed: rows and columns are swapped.", quiet)
    if np.any(exp != 0) and np.allclose(arr[::-1, ...] if arr.ndim else arr, exp, atol=atol, rtol=rtol):
        return report(False, f"{name} looks flipped upside down.", quiet)
    first = tuple(int(i) for i in np.argwhere(~close)[0])
    where = f"the first at index {first}" if first else "the value is off"
    return report(False, f"{name} has the right shape, but {wrong} of {arr.size} values differ ({where}).", quiet)


def check_number(answer, expected, *, name: str = "your answer", rel: float = 1e-6, abs_tol: float = 1e-9,
                 quiet: bool = False) -> Check:
    """Compare a real number: type, then value (says whether the answer is too large or too small)."""
    if hasattr(answer, "item") and np.ndim(answer) == 0:
        answer = answer.item()
    if isinstance(answer, bool) or not isinstance(answer, (int, float)):
        return report(False, f"{name} should be a number, but it is a {typename(answer)}.", quiet)
    if not np.isfinite(answer):
        return report(False, f"{name} is {answer}, not a finite number.", quiet)
    if abs(answer - expected) <= max(abs_tol, rel * abs(expected)):
        return report(True, f"Correct: {name} is right.", quiet)
    direction = "too large" if answer > expected else "too small"
    return report(False, f"{name} is {direction}.", quiet)


def check_int(answer, expected: int, *, name: str = "your answer", quiet: bool = False) -> Check:
    """Compare a whole number exactly (a count, a size, a number of parameters)."""
    if hasattr(answer, "item") and np.ndim(answer) == 0:
        answer = answer.item()
    if isinstance(answer, float) and answer.is_integer():
        answer = int(answer)
    if isinstance(answer, bool) or not isinstance(answer, int):
        return report(False, f"{name} should be a whole number (int), but it is a {typename(answer)}.", quiet)
    if answer == expected:
        return report(True, f"Correct: {name} is right.", quiet)
    direction = "too large" if answer > expected else "too small"
    return report(False, f"{name} is {direction}.", quiet)


def check_choice(answer, expected, options, *, name: str = "your answer", quiet: bool = False) -> Check:
    """Compare a choice among ``options`` (strings compared case-insensitively)."""
    norm = (lambda v: v.strip().lower()) if isinstance(expected, str) else (lambda v: v)
    if isinstance(expected, str) and not isinstance(answer, str):
        return report(False, f"{name} should be one of {list(options)} (a string), but it is a {typename(answer)}.",
                     quiet)
    if norm(answer) not in [norm(o) for o in options]:
        return report(False, f"{name} must be one of {list(options)}.", quiet)
    if norm(answer) == norm(expected):
        return report(True, f"Correct: {name} is right.", quiet)
    return report(False, f"{name} is not the right choice; reread the section above and try again.", quiet)


def quietly(check, *args, **kwargs) -> Check:
    """Run a building-block checker without printing, even in strict mode, so the caller reports once."""
    try:
        return check(*args, quiet=True, **kwargs)
    except ExerciseFailed as err:
        return Check(False, str(err))


def text_of(check: Check) -> str:
    """A Check's sentence without its leading tick or cross."""
    return check.message[2:]


def check_recall(answer, cm) -> Check:
    """Per-class recall from a confusion matrix ``cm`` (rows = true class, columns = predicted).

    Names two usual slips before comparing: precision instead of recall (dividing by the column totals,
    which gives NaN for a class that is never predicted), and recall in percent.
    """
    cm = np.asarray(cm, dtype=np.float64)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1]:
        raise ValueError(f"cm must be a square matrix, got shape {cm.shape}")
    expected = per_class_recall(cm)  # 0 for a class without examples
    arr = as_array(answer)
    if arr is not None and arr.shape == expected.shape:
        arr = arr.astype(np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            recall = np.diag(cm) / cm.sum(axis=1)
            precision = np.diag(cm) / cm.sum(axis=0)
        if (np.allclose(arr, precision, atol=1e-6, equal_nan=True)
                and not np.allclose(arr, recall, atol=1e-6, equal_nan=True)):
            why = (" (zero for a class that is never predicted, hence NaN)" if np.isnan(precision).any() else "")
            return report(False, f"recall looks like precision: it divides by the predicted totals, the column "
                                 f"sums{why}; recall divides by how many examples truly belong to each class.")
        if expected.any() and np.allclose(arr, 100 * expected, atol=1e-4):
            return report(False, "recall looks like a percentage: give it as a fraction between 0 and 1.")
    return check_array(answer, expected, name="recall", atol=1e-6)


def layers_of(model) -> list:
    """The layers of a Keras model in order, the layers of nested models (such as a ``keras.Sequential``
    of augmentation layers inside a model) in their place; ``InputLayer`` left out."""
    import keras

    found = []
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            found.extend(layers_of(layer))
        elif not isinstance(layer, keras.layers.InputLayer):
            found.append(layer)
    return found


def input_shape(model):
    """A Keras model's input shape as a tuple, or None when it has none yet (a ``keras.Sequential`` without
    ``keras.Input``)."""
    try:
        shape = model.input_shape
    except (AttributeError, ValueError):
        return None
    return tuple(shape) if isinstance(shape, (tuple, list)) and not isinstance(shape[0], (tuple, list)) else None


# How Keras 3 shows a layer object in its errors: "<Conv2D name=conv2d, built=False>"
_LAYER_IN_ERROR = re.compile(r"<(\w+) name=([\w./-]+), built=\w+>")
# Keras's errors when a layer object stands where a tensor belongs: passed to another layer, or as a model's output
_LAYER_NOT_TENSOR = ("Only input tensors may be passed as positional arguments", "must be KerasTensors")


def error_clause(err: BaseException) -> str:
    """An exception raised by the learner's code, as a clause to follow "raised" in a checker's sentence.

    A layer that was created but never called on a tensor (``x = layers.Conv2D(6, 5)`` instead of
    ``x = layers.Conv2D(6, 5)(x)``) makes Keras raise a ValueError about positional arguments or
    KerasTensors when the next layer or ``keras.Model`` receives the layer object; that case is named in plain
    words, with the layer. Any other error gives its type and the first line of its message.
    """
    text = str(err)
    layer = _LAYER_IN_ERROR.search(text)
    if isinstance(err, ValueError) and layer and any(key in text for key in _LAYER_NOT_TENSOR):
        kind, name = layer.groups()
        return (f"a ValueError because the {kind} layer '{name}' was created but never called on a tensor: a "
                "layer computes nothing until it is called on the previous layer's output, x = layer(x)")
    first_line = (text.strip().splitlines() or [""])[0]
    return f"{type(err).__name__} ({first_line[:160]})"


def short_run(model, x, y, steps: int, fall: float = 0.0) -> tuple:
    """Train a compiled ``model`` for ``steps`` steps on the one batch ``(x, y)``, as a checker's proof that
    it trains: its loss must fall by more than the fraction ``fall`` of where it started.

    Each step is ``model.train_on_batch``, which returns the loss of the batch before that step's update; a
    last call measures it after ``steps`` updates (and updates once more, which does not matter here).

    Returns:
        ``(before, after, problem)``: the loss before the first update and after the last, and ``None`` when
        it fell enough; otherwise ``problem`` is a clause for a checker's sentence ("the loss did not fall
        ...", "training raised ...", "the loss became nan ..."), and ``before``/``after`` are None when
        training failed.
    """
    losses = []
    for _ in range(steps + 1):
        model.reset_metrics()  # train_on_batch reports a running mean over calls unless the metrics are reset
        try:
            logs = model.train_on_batch(x, y, return_dict=True)
        except Exception as err:  # the learner's model may raise anything
            return None, None, f"training raised {error_clause(err)}"
        loss = float(logs["loss"])
        if not np.isfinite(loss):
            return None, None, f"the loss became {loss} during training"
        losses.append(loss)
    before, after = losses[0], losses[-1]
    if not after < (1 - fall) * before:
        return before, after, f"the loss did not fall as training should make it: {before:.3f} before, {after:.3f} " \
                              f"after {steps} steps"
    return before, after, None
