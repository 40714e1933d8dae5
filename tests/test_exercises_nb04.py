"""Checkers of notebook 04: right answers pass, wrong shape / value / type fail with a useful message
that never contains the expected values, and strict mode (CI) raises."""

import numpy as np
import pytest

from cnnkit.exercises import ExerciseFailed, nb04

LABELS = np.array([3, 0, 2, 1, 3])
CM = np.array([[8, 2, 0], [1, 6, 1], [4, 3, 9]])  # row and column totals differ


def _images():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(40, 6, 6, 1), dtype=np.uint8)
    labels = np.arange(40) % 4
    images[labels == 1, :, 3:] = 0  # class 1 lives in the left half only
    return images, labels


# ---------------------------------------------------------------- Exercise 1: one-hot labels

def test_one_hot_right(lenient):
    assert nb04.check_one_hot(np.eye(10)[LABELS], LABELS, 10)


def test_one_hot_too_few_columns_names_num_classes(lenient, capsys):
    import keras

    inferred = keras.utils.to_categorical(LABELS)  # width 4, inferred from the largest label
    res = nb04.check_one_hot(inferred, LABELS, 10)
    assert not res
    assert "num_classes" in res.message and "4 columns" in res.message


def test_one_hot_wrong_shape(lenient):
    res = nb04.check_one_hot(np.eye(10)[LABELS].T, LABELS, 10)
    assert not res and "shape" in res.message


def test_one_hot_wrong_value(lenient):
    wrong = np.eye(10)[LABELS]
    wrong[0] = np.eye(10)[4]
    res = nb04.check_one_hot(wrong, LABELS, 10)
    assert not res and "values differ" in res.message


def test_one_hot_wrong_type(lenient):
    res = nb04.check_one_hot("one hot", LABELS, 10)
    assert not res and "array" in res.message and "str" in res.message


def test_one_hot_strict_raises(strict):
    with pytest.raises(ExerciseFailed):
        nb04.check_one_hot(np.zeros((5, 10)), LABELS, 10)


# ---------------------------------------------------------------- Exercise 2: classic LeNet-5 params

def test_classic_params_value_matches_keras():
    import keras
    from keras import layers

    model = keras.Sequential([
        keras.Input((32, 32, 1)),
        layers.Conv2D(6, 5), layers.AveragePooling2D(2), layers.Conv2D(16, 5), layers.AveragePooling2D(2),
        layers.Flatten(), layers.Dense(120), layers.Dense(84), layers.Dense(10),
    ])
    assert nb04.classic_lenet_params() == model.count_params() == 61_706


def test_classic_params_right(lenient):
    assert nb04.check_classic_lenet_params(61_706)
    assert nb04.check_classic_lenet_params(np.int64(61_706))


@pytest.mark.parametrize("wrong, word", [(61_000, "too small"), (70_000, "too large")])
def test_classic_params_wrong_value(lenient, wrong, word):
    res = nb04.check_classic_lenet_params(wrong)
    assert not res and word in res.message
    assert "61706" not in res.message and "61,706" not in res.message


@pytest.mark.parametrize("known, word", [(107_786, "same"), (60_000, "paper")])
def test_classic_params_known_mistakes_get_a_hint(lenient, known, word):
    res = nb04.check_classic_lenet_params(known)
    assert not res and word in res.message and "61,706" not in res.message


@pytest.mark.parametrize("bad", ["61706", [61_706], None, 61_706.5])
def test_classic_params_wrong_type(lenient, bad):
    res = nb04.check_classic_lenet_params(bad)
    assert not res and "whole number" in res.message


def test_classic_params_wrong_shape_array(lenient):
    res = nb04.check_classic_lenet_params(np.array([61_706, 1]))
    assert not res and "whole number" in res.message


def test_classic_params_strict_raises(strict):
    with pytest.raises(ExerciseFailed):
        nb04.check_classic_lenet_params(107_786)


# ---------------------------------------------------------------- Exercise 3: recall

def test_recall_is_the_shared_checker():
    from cnnkit import exercises

    assert nb04.check_recall is exercises.check_recall  # tested in test_exercises.py


# ---------------------------------------------------------------- Exercise 4: left-half share

def test_left_half_reference():
    images, labels = _images()
    frac = nb04.left_half_fraction(images, labels, 4)
    assert frac.shape == (4,) and frac[1] == 1.0 and np.all((frac > 0) & (frac <= 1))
    means = np.stack([images[labels == c, ..., 0].astype(float).mean(0) for c in range(4)])
    assert np.allclose(frac, means[:, :, :3].sum((1, 2)) / means.sum((1, 2)))


def test_left_half_right(lenient):
    images, labels = _images()
    assert nb04.check_left_half_fraction(nb04.left_half_fraction(images, labels, 4), images, labels, 4)
    assert nb04.check_left_half_fraction(nb04.left_half_fraction(images, labels, 4).astype("float32"),
                                         images, labels, 4)


def test_left_half_right_half_is_named(lenient):
    images, labels = _images()
    res = nb04.check_left_half_fraction(1 - nb04.left_half_fraction(images, labels, 4), images, labels, 4)
    assert not res and "right half" in res.message


def test_left_half_wrong_shape(lenient):
    images, labels = _images()
    res = nb04.check_left_half_fraction(np.full(3, 0.5), images, labels, 4)
    assert not res and "shape" in res.message


def test_left_half_wrong_value_hides_expected(lenient):
    images, labels = _images()
    expected = nb04.left_half_fraction(images, labels, 4)
    res = nb04.check_left_half_fraction(np.full(4, 0.5), images, labels, 4)
    assert not res and "values differ" in res.message
    for value in expected:
        assert f"{value:.3f}" not in res.message


def test_left_half_wrong_type(lenient):
    images, labels = _images()
    res = nb04.check_left_half_fraction("0.5", images, labels, 4)
    assert not res and "str" in res.message


def test_left_half_strict_raises(strict):
    images, labels = _images()
    with pytest.raises(ExerciseFailed):
        nb04.check_left_half_fraction(np.full(4, 0.5), images, labels, 4)


def _pooled(images, labels, cols=None, rows=None):
    """Share of each class's summed intensity in the first `cols` columns (or the first `rows` rows)."""
    img = images[..., 0].astype(float)
    out = []
    for c in range(4):
        cls = img[labels == c]
        part = cls[:, :rows, :] if rows is not None else cls[:, :, :cols]
        out.append(part.sum() / cls.sum())
    return np.array(out)


def test_left_half_reference_sums_before_dividing():
    images, labels = _images()
    assert np.allclose(nb04.left_half_fraction(images, labels, 4), _pooled(images, labels, cols=3))


@pytest.mark.parametrize("cols", [2, 4])
def test_left_half_off_by_one_slice_is_named(lenient, cols):
    images, labels = _images()
    res = nb04.check_left_half_fraction(_pooled(images, labels, cols=cols), images, labels, 4)
    assert not res and f"counts {cols} columns" in res.message and "excluded" in res.message
    for value in nb04.left_half_fraction(images, labels, 4):
        assert f"{value:.3f}" not in res.message


def test_left_half_mean_of_image_shares_is_named(lenient):
    images, labels = _images()
    img = images[..., 0].astype(float)
    per_image = img[:, :, :3].sum(axis=(1, 2)) / img.sum(axis=(1, 2))
    answer = np.array([per_image[labels == c].mean() for c in range(4)])
    assert not np.allclose(answer, nb04.left_half_fraction(images, labels, 4), atol=1e-4)
    assert np.allclose(answer, nb04.mean_of_image_shares(images, labels, 4))
    res = nb04.check_left_half_fraction(answer, images, labels, 4)
    assert not res and "each image's own share" in res.message and "sum the intensity" in res.message


def test_mean_of_image_shares_skips_black_images():
    images, labels = _images()
    images[0] = 0  # an all-black image of class 0 has no share
    shares = nb04.mean_of_image_shares(images, labels, 4)
    assert np.all(np.isfinite(shares))


def test_left_half_top_half_is_named(lenient):
    images, labels = _images()
    res = nb04.check_left_half_fraction(_pooled(images, labels, rows=3), images, labels, 4)
    assert not res and "top half" in res.message and "last axis" in res.message


def test_left_half_targeted_hint_raises_in_strict_mode(strict):
    images, labels = _images()
    with pytest.raises(ExerciseFailed, match="columns"):
        nb04.check_left_half_fraction(_pooled(images, labels, cols=2), images, labels, 4)
