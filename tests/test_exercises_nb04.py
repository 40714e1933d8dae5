"""Checkers of notebook 04: right answers pass, wrong shape / value / type fail with a useful message
that never contains the expected values, and strict mode (CI) raises."""

import numpy as np
import pytest

from cnnkit.exercises import ExerciseFailed, nb04

LABELS = np.array([3, 0, 2, 1, 3])


def _images():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(40, 6, 6, 1), dtype=np.uint8)
    labels = np.arange(40) % 4
    images[labels == 1, :, 3:] = 0  # class 1 lives in the left half only
    return images, labels


# ---------------------------------------------------------------- Exercise 2: one-hot labels

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


# ---------------------------------------------------------------- Exercise 1: the classic layout, built

@pytest.fixture(scope="module")
def fashion():
    """64 real Fashion-MNIST training images (uint8, 28x28x1) and labels, from the offline pack."""
    import os
    from pathlib import Path

    pack = os.environ.get("CNNKIT_DATA", "")
    if not pack or not (Path(pack) / "fashion-mnist").is_dir():
        pytest.skip("CNNKIT_DATA does not point at the offline data pack")
    from cnnkit import data

    (x, y), _ = data.load_fashion_mnist()
    return x[:64], y[:64]


def _classic(padding="valid", activation="tanh", pool="avg", rescale=True, filters=(6, 16), units=(120, 84, 10),
             output="softmax", flatten=True):
    import keras
    from keras import layers

    pooling = layers.AveragePooling2D if pool == "avg" else layers.MaxPooling2D
    return keras.Sequential(
        [keras.Input((32, 32, 1))] + ([layers.Rescaling(1 / 255)] if rescale else [])
        + [layers.Conv2D(filters[0], 5, padding=padding, activation=activation), pooling(2),
           layers.Conv2D(filters[1], 5, padding=padding, activation=activation), pooling(2)]
        + ([layers.Flatten()] if flatten else [layers.GlobalAveragePooling2D()])
        + [layers.Dense(units[0], activation=activation), layers.Dense(units[1], activation=activation),
           layers.Dense(units[2], activation=output)])


def test_classic_params_value_matches_keras():
    assert nb04.classic_lenet_params() == _classic().count_params() == 61_706


def test_pad_to_32_frames_the_image_in_black():
    images = np.full((2, 28, 28, 1), 7, dtype=np.uint8)
    padded = nb04.pad_to_32(images)
    assert padded.shape == (2, 32, 32, 1) and padded.dtype == np.float32
    assert np.all(padded[:, 2:30, 2:30] == 7) and padded.sum() == 7 * images.size
    assert nb04.pad_to_32(images[..., 0]).shape == (2, 32, 32, 1)


def test_classic_right_and_the_learners_model_untouched(lenient, fashion, capsys):
    import keras

    model = _classic()
    weights = [w.copy() for w in model.get_weights()]
    res = nb04.check_classic_lenet(model, *fashion)
    assert res and "loss from" in res.message and "✓" in capsys.readouterr().out
    assert all(np.array_equal(a, b) for a, b in zip(weights, model.get_weights()))  # a copy was trained
    assert not getattr(model, "compiled", False)
    softmax_layer = keras.Sequential([keras.Input((32, 32, 1)), *_classic(output=None).layers,
                                      keras.layers.Softmax()])
    assert nb04.check_classic_lenet(softmax_layer, *fashion)  # a separate Softmax layer is fine too


def _classic_separate_activations(functional=False, tanh="tanh", pool_first=False):
    """The classic layout with every activation as its own layer (Activation("tanh"), Activation("softmax"))."""
    import keras
    from keras import layers

    def conv_stage(filters):
        conv, act, pool = layers.Conv2D(filters, 5), layers.Activation(tanh), layers.AveragePooling2D(2)
        return [conv, pool, act] if pool_first else [conv, act, pool]

    stack = [layers.Rescaling(1 / 255), *conv_stage(6), *conv_stage(16), layers.Flatten(),
             layers.Dense(120), layers.Activation(tanh), layers.Dense(84), layers.Activation(tanh),
             layers.Dense(10), layers.Activation("softmax")]
    if not functional:
        return keras.Sequential([keras.Input((32, 32, 1)), *stack])
    inputs = keras.Input((32, 32, 1))
    x = inputs
    for layer in stack:
        x = layer(x)
    return keras.Model(inputs, x)


def test_classic_accepts_every_way_to_write_the_activations(lenient, fashion):
    import tensorflow as tf

    assert nb04.check_classic_lenet(_classic_separate_activations(), *fashion)
    assert nb04.check_classic_lenet(_classic_separate_activations(functional=True), *fashion)
    assert nb04.check_classic_lenet(_classic(activation=tf.nn.tanh), *fashion)  # a function, not a string


def test_classic_tanh_after_the_pooling_is_named(lenient, fashion):
    res = nb04.check_classic_lenet(_classic_separate_activations(pool_first=True), *fashion)
    assert not res and "before any pooling" in res.message and "linear" not in res.message


@pytest.mark.parametrize("kwargs, words", [
    ({"padding": "same"}, "'valid'"),
    ({"activation": "relu"}, "tanh"),
    ({"pool": "max"}, "AveragePooling2D"),
    ({"rescale": False}, "Rescaling(1/255)"),
    ({"output": None}, "softmax"),
    ({"filters": (16, 6)}, "6 in the first and 16"),
    ({"units": (84, 120, 10)}, "120, 84 and then 10"),
    ({"flatten": False}, "Flatten"),
])
def test_classic_usual_slips_get_their_sentence(lenient, fashion, kwargs, words):
    res = nb04.check_classic_lenet(_classic(**kwargs), *fashion)
    assert not res and words in res.message, res.message


def test_classic_wrong_input_and_type(lenient, fashion):
    import keras
    from keras import layers

    res = nb04.check_classic_lenet(keras.Sequential([keras.Input((28, 28, 1)), layers.Flatten(),
                                                     layers.Dense(10, activation="softmax")]), *fashion)
    assert not res and "keras.Input((32, 32, 1))" in res.message
    res = nb04.check_classic_lenet(keras.Sequential(_classic().layers), *fashion)  # no keras.Input
    assert not res and "no input shape" in res.message
    res = nb04.check_classic_lenet([layers.Conv2D(6, 5)], *fashion)
    assert not res and "Keras model" in res.message and "list" in res.message


@pytest.mark.filterwarnings("ignore:The model does not have any trainable weights")
def test_classic_that_cannot_learn_fails_the_short_run(lenient, fashion):
    model = _classic()
    for layer in model.layers:
        layer.trainable = False  # the right layout, but nothing can change: the loss cannot fall
    res = nb04.check_classic_lenet(model, *fashion)
    assert not res and "loss did not fall" in res.message


def test_classic_strict_raises(strict, fashion):
    with pytest.raises(ExerciseFailed):
        nb04.check_classic_lenet(_classic(padding="same"), *fashion)


# ---------------------------------------------------------------- Exercise 3: left-half share

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


# ---------------------------------------------------------------- Exercise 4: an augmentation pipeline

def _augmentation(mode="horizontal", height=0.1, width=0.1, fill_mode="constant", fill_value=0.0,
                  interpolation="nearest", extra=()):
    import keras
    from keras import layers

    return keras.Sequential([layers.RandomFlip(mode),
                             layers.RandomTranslation(height, width, fill_mode=fill_mode, fill_value=fill_value,
                                                      interpolation=interpolation), *extra])


def test_augmentation_right(lenient, fashion, capsys):
    import keras
    from keras import layers

    assert nb04.check_clothing_augmentation(_augmentation(), *fashion)
    assert "✓" in capsys.readouterr().out
    reordered = keras.Sequential([layers.RandomTranslation((-0.1, 0.1), (-0.1, 0.1), fill_mode="constant",
                                                           interpolation="nearest"),
                                  layers.RandomFlip("horizontal")])
    assert nb04.check_clothing_augmentation(reordered, *fashion)


@pytest.mark.parametrize("kwargs, words", [
    ({"mode": "horizontal_and_vertical"}, "also flips upside down"),
    ({"mode": "vertical"}, "never mirrors them left-right"),
    ({"height": 0.0}, "never shifts along the height"),
    ({"width": 0.2}, "up to 10%"),
    ({"fill_mode": "reflect"}, "constant 0"),
    ({"fill_value": 255.0}, "constant 0"),
    ({"interpolation": "bilinear"}, "'nearest'"),
])
def test_augmentation_usual_slips_get_their_sentence(lenient, fashion, kwargs, words):
    res = nb04.check_clothing_augmentation(_augmentation(**kwargs), *fashion)
    assert not res and words in res.message, res.message


def test_augmentation_vertical_flip_is_described_truly(lenient, fashion):
    """'vertical' is not RandomFlip's default and does not flip left-right: the sentence must not say so."""
    res = nb04.check_clothing_augmentation(_augmentation(mode="vertical"), *fashion)
    assert not res and "default" not in res.message and "also" not in res.message
    res = nb04.check_clothing_augmentation(_augmentation(mode="horizontal_and_vertical"), *fashion)
    assert not res and "default" in res.message


def test_augmentation_extra_layers_and_wrong_types(lenient, fashion):
    import keras
    from keras import layers

    res = nb04.check_clothing_augmentation(_augmentation(extra=[layers.RandomRotation(0.1)]), *fashion)
    assert not res and "RandomRotation" in res.message and "upright" in res.message
    res = nb04.check_clothing_augmentation(_augmentation(extra=[layers.RandomContrast(0.1)]), *fashion)
    assert not res and "RandomContrast" in res.message
    res = nb04.check_clothing_augmentation([layers.RandomFlip("horizontal")], *fashion)
    assert not res and "keras.Sequential" in res.message
    res = nb04.check_clothing_augmentation(keras.Sequential([layers.RandomFlip("horizontal")]), *fashion)
    assert not res and "0 RandomTranslation" in res.message
    res = nb04.check_clothing_augmentation("flip", *fashion)
    assert not res and "str" in res.message


def test_augmentation_strict_raises(strict, fashion):
    with pytest.raises(ExerciseFailed):
        nb04.check_clothing_augmentation(_augmentation(mode="horizontal_and_vertical"), *fashion)
