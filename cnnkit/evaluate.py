"""Evaluate a classifier: how exact an accuracy is, per-class rates, which classes are confused, which mistakes to look at.

Inputs are NumPy arrays: true labels, predicted probabilities (``model.predict`` output: ``(N, C)`` softmax rows,
or ``(N,)``/``(N, 1)`` sigmoid outputs for a binary model) and confusion matrices as
``sklearn.metrics.confusion_matrix`` returns them (rows = true class, columns = predicted class).
Functions return numbers or indices; :mod:`cnnkit.plots` draws them.

* :func:`accuracy_interval`: a 95% interval for an accuracy measured on ``n`` independent examples;
* :func:`group_bootstrap_ci`: the same when the examples come in groups (copies of one original);
* :func:`per_class_recall`, :func:`per_class_precision`: read off a confusion matrix;
* :func:`confused_pairs`, :func:`top_confusions`: the classes a model mixes up most;
* :func:`predicted_classes`, :func:`confident_mistakes`: predictions, and the wrong ones the model was surest of.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["accuracy_interval", "group_bootstrap_ci", "per_class_recall", "per_class_precision",
           "confused_pairs", "top_confusions", "predicted_classes", "confident_mistakes"]


def accuracy_interval(accuracy: float, n: int, z: float = 1.96) -> tuple[float, float]:
    """The normal-approximation interval ``accuracy ± z * sqrt(accuracy * (1 - accuracy) / n)``.

    Args:
        accuracy: the measured accuracy, a fraction in [0, 1].
        n: the number of independent test examples it was measured on.
        z: 1.96 for a 95% interval, 2.58 for 99%.

    Returns:
        ``(low, high)``, clipped to [0, 1]. The approximation is poor for accuracies within a few
        ``1 / n`` of 0 or 1, and it assumes independent examples (see :func:`group_bootstrap_ci`).
    """
    accuracy = float(accuracy)
    if not 0.0 <= accuracy <= 1.0:
        raise ValueError(f"accuracy must be a fraction between 0 and 1, got {accuracy!r}")
    if int(n) != n or n < 1:
        raise ValueError(f"n must be a positive whole number of examples, got {n!r}")
    half = z * math.sqrt(accuracy * (1 - accuracy) / n)
    return max(0.0, accuracy - half), min(1.0, accuracy + half)


def group_bootstrap_ci(correct, groups, n_boot: int = 2000, level: float = 0.95, seed: int = 0):
    """Accuracy and its bootstrap interval when the test examples come in groups (copies of one original).

    Whole groups are resampled with replacement, because copies of one original are not independent
    tests: 2,487 images of 71 cells carry far less evidence than 2,487 cells.

    Args:
        correct: one bool (or 0/1) per example: was it classified correctly?
        groups: one group id per example (e.g. the index of its source image).
        n_boot: number of bootstrap resamples.
        level: coverage of the interval (0.95: the middle 95% of the resampled accuracies).
        seed: seed of the resampling.

    Returns:
        ``(accuracy, low, high)`` as floats.
    """
    correct = np.asarray(correct, dtype=float)
    groups = np.asarray(groups)
    if correct.shape != groups.shape or correct.ndim != 1 or correct.size == 0:
        raise ValueError("correct and groups must be non-empty 1-D arrays of the same length")
    _, inverse = np.unique(groups, return_inverse=True)
    hits = np.bincount(inverse, weights=correct)
    sizes = np.bincount(inverse).astype(float)
    rng = np.random.default_rng(seed)
    pick = rng.integers(0, len(hits), size=(n_boot, len(hits)))
    boot = hits[pick].sum(axis=1) / sizes[pick].sum(axis=1)
    alpha = (1 - level) / 2
    low, high = np.quantile(boot, [alpha, 1 - alpha])
    return float(correct.mean()), float(low), float(high)


def _square(cm) -> np.ndarray:
    cm = np.asarray(cm)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1]:
        raise ValueError(f"a confusion matrix must be square (classes x classes), got shape {cm.shape}")
    return cm


def per_class_recall(cm) -> np.ndarray:
    """Recall of each class: its diagonal count divided by its row total (the examples truly of that class).

    Args:
        cm: a confusion matrix, rows = true class, columns = predicted class.

    Returns:
        A float array with one value per class; 0 for a class with no examples (scikit-learn's
        ``zero_division=0``).
    """
    cm = _square(cm).astype(np.float64)
    support = cm.sum(axis=1)
    return np.divide(np.diag(cm), support, out=np.zeros_like(support), where=support > 0)


def per_class_precision(cm) -> np.ndarray:
    """Precision of each class: its diagonal count divided by its column total (the examples predicted as it).

    Args:
        cm: a confusion matrix, rows = true class, columns = predicted class.

    Returns:
        A float array with one value per class; 0 for a class that is never predicted.
    """
    cm = _square(cm).astype(np.float64)
    predicted = cm.sum(axis=0)
    return np.divide(np.diag(cm), predicted, out=np.zeros_like(predicted), where=predicted > 0)


def confused_pairs(cm, top: int | None = None) -> list[tuple[int, int, int]]:
    """Pairs of classes ranked by how often they are mistaken for each other, in either direction.

    Args:
        cm: a confusion matrix, rows = true class, columns = predicted class.
        top: how many pairs to return (all pairs with at least one confusion when None).

    Returns:
        ``[(i, j, count), ...]`` with ``i < j`` and ``count = cm[i, j] + cm[j, i]``, largest count first
        (ties in class order). Pairs never confused are left out.
    """
    cm = _square(cm)
    k = cm.shape[0]
    pairs = [(i, j, int(cm[i, j] + cm[j, i])) for i in range(k) for j in range(i + 1, k)]
    pairs = sorted((p for p in pairs if p[2] > 0), key=lambda p: -p[2])
    return pairs if top is None else pairs[:top]


def top_confusions(cm, top: int = 3) -> list[tuple[int, int, int]]:
    """The largest off-diagonal cells of a confusion matrix: ``true`` class predicted as ``predicted``.

    Args:
        cm: a confusion matrix, rows = true class, columns = predicted class.
        top: how many cells to return.

    Returns:
        ``[(true, predicted, count), ...]``, largest count first (ties in row-major order); cells with a
        count of 0 are left out.
    """
    cm = _square(cm)
    off = cm.copy()
    np.fill_diagonal(off, 0)
    order = np.argsort(-off, axis=None, kind="stable")[:top]
    cells = [tuple(int(v) for v in np.unravel_index(flat, off.shape)) for flat in order]
    return [(i, j, int(off[i, j])) for i, j in cells if off[i, j] > 0]


def predicted_classes(probs, threshold: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """The predicted class of each example, and the probability the model gave it.

    Args:
        probs: ``(N, C)`` class probabilities (softmax), or ``(N,)``/``(N, 1)`` probabilities of class 1
            (one sigmoid unit).
        threshold: for one sigmoid unit, class 1 is predicted when the probability is above it.

    Returns:
        ``(pred, confidence)``: integer classes and, for each, the probability of the predicted class.
    """
    probs = np.asarray(probs, dtype=np.float64)
    if probs.ndim == 2 and probs.shape[1] == 1:
        probs = probs[:, 0]
    if probs.ndim == 1:
        pred = (probs > threshold).astype(int)
        return pred, np.where(pred == 1, probs, 1.0 - probs)
    if probs.ndim != 2:
        raise ValueError(f"probs must be (N, classes) or (N,), got shape {probs.shape}")
    pred = probs.argmax(axis=1)
    return pred, probs[np.arange(len(probs)), pred]


def confident_mistakes(y_true, probs, n: int | None = None, threshold: float = 0.5) -> np.ndarray:
    """Indices of the misclassified examples, those the model gave the highest probability first.

    Args:
        y_true: the true class of each example (integers; a ``(N, 1)`` column is accepted).
        probs: predicted probabilities, as for :func:`predicted_classes`.
        n: how many indices to return (all mistakes when None).
        threshold: decision threshold for one sigmoid unit.

    Returns:
        An integer array of at most ``n`` indices into ``y_true``.
    """
    y_true = np.asarray(y_true).reshape(-1)
    pred, confidence = predicted_classes(probs, threshold)
    if len(pred) != len(y_true):
        raise ValueError(f"{len(y_true)} labels but {len(pred)} predictions")
    wrong = np.flatnonzero(pred != y_true)
    ranked = wrong[np.argsort(-confidence[wrong])]
    return ranked if n is None else ranked[:n]
