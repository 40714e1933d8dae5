"""cnnkit.evaluate: accuracy intervals, per-class rates, confusions and confident mistakes."""

import math

import numpy as np
import pytest
from sklearn.metrics import confusion_matrix, precision_score, recall_score

from cnnkit import evaluate

CM = np.array([[50, 3, 7],
               [10, 30, 0],
               [1, 12, 40]])


def test_accuracy_interval_is_the_normal_approximation():
    low, high = evaluate.accuracy_interval(0.9, 10_000)
    half = 1.96 * math.sqrt(0.9 * 0.1 / 10_000)
    assert (low, high) == pytest.approx((0.9 - half, 0.9 + half))
    assert evaluate.accuracy_interval(0.9, 100)[1] - evaluate.accuracy_interval(0.9, 100)[0] > high - low
    low99, high99 = evaluate.accuracy_interval(0.9, 10_000, z=2.58)
    assert low99 < low and high99 > high


def test_accuracy_interval_stays_inside_0_and_1_and_rejects_bad_input():
    assert evaluate.accuracy_interval(1.0, 50) == (1.0, 1.0)
    low, high = evaluate.accuracy_interval(0.99, 20)
    assert 0.0 <= low and high == 1.0
    for acc, n in [(91.2, 100), (-0.1, 100), (0.5, 0), (0.5, 2.5)]:
        with pytest.raises(ValueError):
            evaluate.accuracy_interval(acc, n)


def test_group_bootstrap_ci_accounts_for_groups():
    rng = np.random.default_rng(0)
    n = 400
    independent = rng.random(n) < 0.8
    acc, low, high = evaluate.group_bootstrap_ci(independent, np.arange(n), seed=1)
    assert acc == pytest.approx(independent.mean()) and low < acc < high
    # the same outcomes, but in 10 groups of 40 identical copies: far less evidence, a wider interval
    grouped_outcome = np.repeat(rng.random(10) < 0.8, 40)
    acc_g, low_g, high_g = evaluate.group_bootstrap_ci(grouped_outcome, np.repeat(np.arange(10), 40), seed=1)
    assert acc_g == pytest.approx(grouped_outcome.mean())
    assert high_g - low_g > 2 * (high - low)
    assert evaluate.group_bootstrap_ci(grouped_outcome, np.repeat(np.arange(10), 40), seed=1) == (acc_g, low_g, high_g)
    assert evaluate.group_bootstrap_ci([1, 1, 1], [0, 1, 2]) == (1.0, 1.0, 1.0)
    with pytest.raises(ValueError):
        evaluate.group_bootstrap_ci([], [])
    with pytest.raises(ValueError):
        evaluate.group_bootstrap_ci([1, 0], [0])


def test_per_class_recall_and_precision_agree_with_sklearn():
    rng = np.random.default_rng(2)
    y = rng.integers(0, 4, 300)
    pred = np.where(rng.random(300) < 0.6, y, rng.integers(0, 4, 300))
    cm = confusion_matrix(y, pred, labels=range(4))
    np.testing.assert_allclose(evaluate.per_class_recall(cm), recall_score(y, pred, average=None))
    np.testing.assert_allclose(evaluate.per_class_precision(cm), precision_score(y, pred, average=None))


def test_per_class_rates_with_empty_rows_and_columns():
    cm = np.array([[5, 0, 1], [0, 0, 0], [2, 0, 4]])  # class 1: no example, never predicted
    np.testing.assert_allclose(evaluate.per_class_recall(cm), [5 / 6, 0, 4 / 6])
    np.testing.assert_allclose(evaluate.per_class_precision(cm), [5 / 7, 0, 4 / 5])
    with pytest.raises(ValueError, match="square"):
        evaluate.per_class_recall(np.ones((2, 3)))


def test_confused_pairs_adds_both_directions():
    pairs = evaluate.confused_pairs(CM)
    assert pairs == [(0, 1, 13), (1, 2, 12), (0, 2, 8)]
    assert evaluate.confused_pairs(CM, top=1) == [(0, 1, 13)]
    assert evaluate.confused_pairs(np.diag([3, 4])) == []  # nothing confused


def test_top_confusions_are_directional():
    assert evaluate.top_confusions(CM, top=2) == [(2, 1, 12), (1, 0, 10)]
    assert evaluate.top_confusions(np.diag([3, 4])) == []
    assert evaluate.top_confusions(np.array([[1, 2], [2, 1]]), top=1) == [(0, 1, 2)]  # ties: row-major order


def test_predicted_classes_softmax_and_sigmoid():
    pred, conf = evaluate.predicted_classes([[0.2, 0.8], [0.6, 0.4]])
    assert pred.tolist() == [1, 0] and conf.tolist() == pytest.approx([0.8, 0.6])
    pred, conf = evaluate.predicted_classes(np.array([[0.9], [0.3], [0.5]]))
    assert pred.tolist() == [1, 0, 0] and conf.tolist() == pytest.approx([0.9, 0.7, 0.5])
    pred, _ = evaluate.predicted_classes([0.9, 0.3], threshold=0.95)
    assert pred.tolist() == [0, 0]
    with pytest.raises(ValueError):
        evaluate.predicted_classes(np.zeros((2, 2, 2)))


def test_confident_mistakes_most_confident_first():
    y = np.array([0, 1, 2, 0, 1])
    probs = np.array([[0.9, 0.05, 0.05],   # right
                      [0.7, 0.2, 0.1],     # wrong, 0.7
                      [0.1, 0.85, 0.05],   # wrong, 0.85
                      [0.4, 0.35, 0.25],   # right
                      [0.2, 0.2, 0.6]])    # wrong, 0.6
    assert evaluate.confident_mistakes(y, probs).tolist() == [2, 1, 4]
    assert evaluate.confident_mistakes(y, probs, n=2).tolist() == [2, 1]
    binary = evaluate.confident_mistakes(np.array([[1], [0], [1], [0]]), np.array([0.1, 0.8, 0.45, 0.2]))
    assert binary.tolist() == [0, 1, 2]  # P(wrong class): 0.9, 0.8, 0.55
    with pytest.raises(ValueError, match="labels"):
        evaluate.confident_mistakes([0, 1], probs)
