"""Checkers of notebook 03: right answers pass, wrong shape / value / type fail with a useful message
that never contains the expected values, and strict mode (CI) raises."""

import numpy as np
import pytest

from cnnkit.exercises import ExerciseFailed, nb03

CM = np.array([[8, 2, 0, 1], [1, 6, 1, 0], [4, 3, 9, 2], [0, 0, 1, 7]])  # row and column totals differ
SIMPLE = np.array([5, 5, 9, 12, 40, 3])
TRAIN = np.array([1, 2, 5, 7, 9, 9, 100])


def _no_leak(res, *values):
    for v in values:
        assert str(v) not in res.message and f"{v:,}" not in res.message


# ---------------------------------------------------------------- Exercise 2: shared smears

def test_shared_count_helper():
    assert nb03.shared_count(SIMPLE, TRAIN) == 3  # 5, 5 and 9
    assert nb03.shared_count([], TRAIN) == 0


def test_shared_count_right(lenient):
    assert nb03.check_shared_count(3, SIMPLE, TRAIN)
    assert nb03.check_shared_count(np.int64(3), SIMPLE, TRAIN)


def test_shared_count_distinct_smears_is_named(lenient):
    res = nb03.check_shared_count(2, SIMPLE, TRAIN)  # 2 distinct smears (5 and 9), 3 images
    assert not res and "distinct" in res.message and "images" in res.message


def test_shared_count_reversed_isin_is_named(lenient):
    query, train = np.array([5, 9, 40]), np.array([5, 5, 5, 9, 1])  # images: 2 the right way, 4 reversed
    assert nb03.shared_count(query, train) == 2 and nb03.shared_count(train, query) == 4
    assert nb03.check_shared_count(2, query, train)
    res = nb03.check_shared_count(int(np.isin(train, query).sum()), query, train)
    assert not res and "np.isin" in res.message and "wrong way round" in res.message
    _no_leak(res, 2)


def test_shared_count_wrong_value(lenient):
    res = nb03.check_shared_count(4, SIMPLE, TRAIN)
    assert not res and "too large" in res.message
    _no_leak(res, 3)


def test_shared_count_wrong_type(lenient):
    res = nb03.check_shared_count(np.isin(SIMPLE, TRAIN), SIMPLE, TRAIN)  # the mask, not its sum
    assert not res and "whole number" in res.message and "ndarray" in res.message


def test_shared_count_strict_raises(strict):
    with pytest.raises(ExerciseFailed):
        nb03.check_shared_count(0, SIMPLE, TRAIN)


# ---------------------------------------------------------------- Exercise 1: float32 bytes

def test_array_bytes():
    assert nb03.array_bytes(12_500, 200, 200, 3, 4) == 6_000_000_000
    assert nb03.array_bytes(2, 3, 4, 1, 1) == 24


def test_float32_bytes_right(lenient):
    assert nb03.check_float32_bytes(12_500 * 200 * 200 * 3 * 4)
    assert nb03.check_float32_bytes(2 * 10 * 10 * 3 * 4, n_images=2, height=10, width=10)


@pytest.mark.parametrize("answer, phrase", [
    (1_500_000_000, "uint8"),
    (12_000_000_000, "float64"),
    (2_000_000_000, "colour channels"),
    (6_000, "MB or GB"),
    (6, "MB or GB"),
])
def test_float32_bytes_named_mistakes(lenient, answer, phrase):
    res = nb03.check_float32_bytes(answer)
    assert not res and phrase in res.message
    _no_leak(res, 6_000_000_000)


def test_float32_bytes_wrong_value(lenient):
    res = nb03.check_float32_bytes(5_999_999_999)
    assert not res and "too small" in res.message
    _no_leak(res, 6_000_000_000)


def test_float32_bytes_rejects_a_float(lenient):
    res = nb03.check_float32_bytes(6e9)  # right value, but the task asks for an int
    assert not res and "int" in res.message and "float" in res.message
    _no_leak(res, 6_000_000_000)


def test_float32_bytes_wrong_type(lenient):
    res = nb03.check_float32_bytes("6 GB")
    assert not res and "whole number" in res.message and "str" in res.message


def test_float32_bytes_strict_raises(strict):
    with pytest.raises(ExerciseFailed):
        nb03.check_float32_bytes(1)


# ---------------------------------------------------------------- Exercise 3: dense parameters

def test_article_dense_params_matches_keras():
    from cnnkit import models

    for size in (200, 64):
        model = models.article_blood_cells(input_shape=(size, size, 3))
        dense = [layer for layer in model.layers if layer.name.startswith("dense")][0]
        assert dense.count_params() == nb03.article_dense_params(size)
    assert nb03.article_dense_params(200) == 10_240_128


def test_dense_params_right(lenient):
    assert nb03.check_article_dense_params(10_240_128)
    assert nb03.check_article_dense_params(nb03.article_dense_params(64), image_size=64)


def test_dense_params_missing_biases(lenient):
    res = nb03.check_article_dense_params(10_240_000)
    assert not res and "bias" in res.message
    _no_leak(res, 10_240_128)


def test_dense_params_one_pooling_forgotten(lenient):
    res = nb03.check_article_dense_params(nb03.article_dense_params(400))
    assert not res and "halves" in res.message


def test_dense_params_wrong_value(lenient):
    res = nb03.check_article_dense_params(10_250_788)  # the whole model's count
    assert not res and "too large" in res.message
    _no_leak(res, 10_240_128)


def test_dense_params_wrong_type(lenient):
    res = nb03.check_article_dense_params([10_240_128])
    assert not res and "whole number" in res.message and "list" in res.message


def test_dense_params_strict_raises(strict):
    with pytest.raises(ExerciseFailed):
        nb03.check_article_dense_params(0)


# ---------------------------------------------------------------- Exercise 4: recall

def test_recall_is_the_shared_checker():
    from cnnkit import exercises

    assert nb03.check_recall is exercises.check_recall  # tested in test_exercises.py
