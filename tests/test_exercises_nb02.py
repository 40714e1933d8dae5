"""The checkers of notebook 02: right answers pass; wrong shapes, values and types get a message that
names the difference without revealing the expected value; strict mode (CI) raises."""

import numpy as np
import pytest

from cnnkit.exercises import ExerciseFailed, nb02


def _values_not_in(message, values):
    for v in np.ravel(values):
        text = f"{v:g}"
        if len(text) > 1:  # single digits occur in ordinary words and shapes
            assert text not in message


# Exercise 1 -------------------------------------------------------------------------------------


def _avg(grid):
    return grid.reshape(3, 2, 3, 2).mean(axis=(1, 3))


def test_exercise_grid_is_fixed():
    assert nb02.exercise_grid().shape == (6, 6)
    assert np.array_equal(nb02.exercise_grid(), nb02.exercise_grid())


def test_avg_pool_right(lenient, capsys):
    assert nb02.check_avg_pool(_avg(nb02.exercise_grid()))
    assert nb02.check_avg_pool(_avg(nb02.exercise_grid()).tolist())
    assert "✓" in capsys.readouterr().out


@pytest.mark.parametrize("make,words", [
    (lambda g: g.reshape(3, 2, 3, 2).max(axis=(1, 3)), "maximum of each window"),
    (lambda g: g.reshape(3, 2, 3, 2).min(axis=(1, 3)), "minimum of each window"),
    (lambda g: g.reshape(3, 2, 3, 2).sum(axis=(1, 3)), "sum of each window"),
    (lambda g: g.reshape(2, 3, 2, 3).mean(axis=(1, 3)), "grid.reshape(2, 3, 2, 3).mean(axis=(1, 3))"),
    (lambda g: g.reshape(3, 2, 3, 2).mean(axis=(0, 2)), "which axes have length 2"),
    (lambda g: g.reshape(3, 2, 3, 2).mean(axis=(1, 2)), "axes (1, 2) are not the two axes inside"),
    (lambda g: g.reshape(3, 3, 2, 2).mean(axis=(2, 3)), "does not put each 2x2 window"),
    (lambda g: g.reshape(3, 2, 3, 2).mean(axis=1), "along one axis only"),
    (lambda g: _avg(g).T, "transposed"),
    (lambda g: g[::2, ::2], "values differ"),
    (lambda g: _avg(g).ravel(), "has shape (9,)"),
    (lambda g: np.zeros((3, 4)), "has shape (3, 4)"),
    (lambda g: "3x3", "array of numbers"),
    (lambda g: None, "array of numbers"),
])
def test_avg_pool_wrong(lenient, make, words):
    result = nb02.check_avg_pool(make(nb02.exercise_grid()))
    assert not result and words in result.message, result.message
    _values_not_in(result.message, _avg(nb02.exercise_grid()))
    assert "padding" not in result.message and "stride" not in result.message  # no conv-layer hint here


def test_avg_pool_strict_raises():
    with pytest.raises(ExerciseFailed, match="maximum"):
        nb02.check_avg_pool(nb02.exercise_grid().reshape(3, 2, 3, 2).max(axis=(1, 3)))


# Exercise 2 -------------------------------------------------------------------------------------


def test_combined_linear_right(lenient):
    w1, b1, w2, b2 = nb02.exercise_layers()
    assert np.all(b1 != 0) and np.all(b2 != 0) and np.all(b1 @ w2 != 0)  # forgetting a bias never passes
    assert nb02.check_combined_linear(w1 @ w2, b1 @ w2 + b2)
    x = np.random.default_rng(0).normal(size=(5, 4))
    np.testing.assert_allclose((x @ w1 + b1) @ w2 + b2, x @ (w1 @ w2) + (b1 @ w2 + b2))


def test_combined_linear_wrong(lenient):
    w1, b1, w2, b2 = nb02.exercise_layers()
    w, b = w1 @ w2, b1 @ w2 + b2
    cases = [
        ((w.T, b), "transposed"),
        ((w1, b), "W has shape (4, 3), expected (4, 2): one row per input value"),
        ((w + 1, b), "values differ"),
        ((w, b2), "leaves out the first layer's bias"),
        ((w, b1 @ w2), "leaves out the second layer's bias"),
        ((w, b1 + 0), "the first bias must pass through W2"),
        ((w, b + 1), "W is right; b has the right shape, but 2 of 2 values differ"),
        ((w, b[None]), "b has shape (1, 2), expected (2,)"),
        (("W", b), "array of numbers"),
        ((w, None), "array of numbers"),
    ]
    for (answer_w, answer_b), words in cases:
        result = nb02.check_combined_linear(answer_w, answer_b)
        assert not result and words in result.message, (words, result.message)
        assert "but b has the right shape, but" not in result.message  # one clause per sentence
        assert "padding" not in result.message and "stride" not in result.message
        _values_not_in(result.message, np.concatenate([w.ravel(), b]))


def test_combined_linear_strict_raises():
    w1, b1, w2, b2 = nb02.exercise_layers()
    with pytest.raises(ExerciseFailed, match="transposed"):
        nb02.check_combined_linear((w1 @ w2).T, b1 @ w2 + b2)


# Exercise 3 -------------------------------------------------------------------------------------


def _stable(z):
    e = np.exp(z - np.max(z))
    return e / e.sum()


def _naive(z):
    e = np.exp(z)
    return e / e.sum()


def test_stable_softmax_right(lenient):
    assert nb02.check_stable_softmax(_stable)


def test_stable_softmax_wrong(lenient):
    cases = [
        (_naive, "overflows"),
        (lambda z: _stable(z)[:-1], "one probability per score"),
        (lambda z: np.exp(z - z.max()), "do not sum to 1"),
        (lambda z: _stable(2 * z), "values differ"),
        (lambda z: "probabilities", "array of numbers"),
        (np.ones(3), "should be a function"),
    ]
    for fn, words in cases:
        result = nb02.check_stable_softmax(fn)
        assert not result and words in result.message, (words, result.message)

    def broken(z):
        raise NotImplementedError("todo")

    result = nb02.check_stable_softmax(broken)
    assert not result and "raised NotImplementedError" in result.message


def test_stable_softmax_strict_raises():
    with pytest.raises(ExerciseFailed, match="overflows"):
        nb02.check_stable_softmax(_naive)


# Exercise 4 -------------------------------------------------------------------------------------

RIGHT_TOTAL = (3 * 3 * 1 * 8 + 8) + (14 * 14 * 8 * 10 + 10)


def test_total_params_right(lenient):
    assert nb02.check_total_params(RIGHT_TOTAL)
    assert nb02.check_total_params(np.int32(RIGHT_TOTAL))


def test_total_params_matches_keras():
    import keras
    from keras import layers

    model = keras.Sequential([keras.Input((28, 28, 1)), layers.Conv2D(8, 3, padding="same"), layers.MaxPooling2D(2),
                              layers.Flatten(), layers.Dense(10)])
    assert model.count_params() == RIGHT_TOTAL


@pytest.mark.parametrize("answer,words", [
    (80 + 28 * 28 * 8 * 10 + 10, "pooling layer shrinks"),
    (14 * 14 * 8 * 10 + 10, "add the convolution"),
    (72 + 14 * 14 * 8 * 10, "biases"),
    (100, "too small"),
    (10**7, "too large"),
    ("15770", "whole number"),
    (None, "whole number"),
])
def test_total_params_wrong(lenient, answer, words):
    result = nb02.check_total_params(answer)
    assert not result and words in result.message
    assert str(RIGHT_TOTAL) not in result.message and f"{RIGHT_TOTAL:,}" not in result.message


def test_total_params_strict_raises():
    with pytest.raises(ExerciseFailed, match="too large"):
        nb02.check_total_params(10**7)
