"""Checkers of notebook 05: right answers pass; wrong shape, value and type fail without revealing the answer."""

import numpy as np
import pytest

from cnnkit.exercises import ExerciseFailed, nb05


@pytest.fixture
def image():
    return np.random.default_rng(0).integers(0, 256, size=(32, 32, 3), dtype=np.uint8)


# ---------------------------------------------------------------- helpers the checkers rely on


def test_conv_and_dense_params_match_keras():
    from keras import layers

    conv = layers.Conv2D(7, 5)
    conv.build((None, 9, 9, 3))
    dense = layers.Dense(4)
    dense.build((None, 11))
    assert nb05.conv_params(5, 3, 7) == conv.count_params() == (5 * 5 * 3 + 1) * 7
    assert nb05.dense_params(11, 4) == dense.count_params() == 48


def test_article_params_matches_keras():
    from cnnkit import models

    assert nb05.article_params() == models.article_cifar10().count_params() == 160_202


def test_article_params_same_padding_matches_keras():
    import keras
    from keras import layers

    model = keras.Sequential([keras.Input((32, 32, 3))] + [
        layer for f in (32, 64, 128) for layer in (layers.Conv2D(f, 3, padding="same"), layers.MaxPooling2D())
    ] + [layers.Flatten(), layers.Dense(128), layers.Dense(10)])
    assert nb05.article_params("same") == model.count_params() == 356_810


def test_pad_and_crop_centre_is_identity_and_matches_a_shift(image):
    assert np.array_equal(nb05.pad_and_crop(image, 4, 4), image)
    crop = nb05.pad_and_crop(image, 1, 7)  # crop[i, j] = image[i - 3, j + 3]: content moves down 3, left 3
    assert np.array_equal(crop[3:, :-3], image[:-3, 3:])
    assert np.array_equal(crop[2, :-3], image[0, 3:])  # "symmetric" repeats the edge row ...
    assert np.array_equal(crop[1, :-3], image[1, 3:])  # ... then mirrors the rows below it
    with pytest.raises(ValueError):
        nb05.pad_and_crop(image, 9, 0)


def test_pad_and_crop_equals_keras_reflect_fill(image):
    """Keras's fill_mode="reflect" (used by RandomTranslation) is NumPy's "symmetric" padding."""
    from keras import ops

    # output (x, y) samples input (x + 3, y - 3): the transform RandomTranslation builds for dx = -3, dy = +3
    transform = np.array([[1, 0, 3, 0, 1, -3, 0, 0]], dtype="float32")
    shifted = ops.image.affine_transform(image[None].astype("float32"), transform, interpolation="nearest",
                                         fill_mode="reflect")
    assert np.array_equal(ops.convert_to_numpy(shifted)[0], nb05.pad_and_crop(image, 1, 7).astype("float32"))


def test_warmup_cosine_matches_keras_schedule():
    import keras

    spe = 7
    schedule = keras.optimizers.schedules.CosineDecay(0.0, decay_steps=19 * spe, warmup_target=0.4,
                                                      warmup_steps=5 * spe)
    expected = [float(schedule(e * spe)) for e in range(25)]
    assert np.allclose(nb05.warmup_cosine(np.arange(25), 0.4, 5, 24), expected, atol=1e-6)


# ---------------------------------------------------------------- Exercise 1: pad and crop


def test_pad_and_crop_right(image, capsys):
    answer = np.pad(image, ((4, 4), (4, 4), (0, 0)), mode="symmetric")[1:33, 7:39]
    assert nb05.check_pad_and_crop(answer, image, top=1, left=7)
    assert "✓" in capsys.readouterr().out


def test_pad_and_crop_wrong_shape(image, lenient):
    answer = np.pad(image, ((4, 4), (4, 4), (0, 0)), mode="symmetric")  # forgot to crop
    result = nb05.check_pad_and_crop(answer, image, top=1, left=7)
    assert not result and "shape (40, 40, 3)" in result.message


def test_pad_and_crop_wrong_padding_mode(image, lenient):
    answer = np.pad(image, ((4, 4), (4, 4), (0, 0)), mode="reflect")[1:33, 7:39]  # NumPy's reflect skips the edge
    result = nb05.check_pad_and_crop(answer, image, top=1, left=7)
    assert not result and 'mode="reflect"' in result.message and '"symmetric"' in result.message


def test_pad_and_crop_swapped_top_left(image, lenient):
    answer = np.pad(image, ((4, 4), (4, 4), (0, 0)), mode="symmetric")[7:39, 1:33]
    result = nb05.check_pad_and_crop(answer, image, top=1, left=7)
    assert not result and "swapped" in result.message


def test_pad_and_crop_float_crop_fails_because_task_says_uint8(image, lenient):
    answer = np.pad(image, ((4, 4), (4, 4), (0, 0)), mode="symmetric")[1:33, 7:39].astype("float32")
    result = nb05.check_pad_and_crop(answer, image, top=1, left=7)
    assert not result and "float32" in result.message and "uint8" in result.message


def test_pad_and_crop_other_wrong_values(image, lenient):
    result = nb05.check_pad_and_crop(np.zeros_like(image), image, top=1, left=7)
    assert not result and "values differ" in result.message


def test_pad_and_crop_wrong_type(image, lenient):
    result = nb05.check_pad_and_crop("crop", image, top=1, left=7)
    assert not result and "array" in result.message and "str" in result.message


def test_pad_and_crop_strict_raises(image):
    with pytest.raises(ExerciseFailed):
        nb05.check_pad_and_crop(image, image, top=1, left=7)


# ---------------------------------------------------------------- Exercise 2: parameters with padding="same"


def test_same_padding_right(capsys):
    assert nb05.check_same_padding_params(356_810)
    assert "✓" in capsys.readouterr().out


def test_same_padding_wrong_value_says_direction_only(lenient):
    result = nb05.check_same_padding_params(400_000)
    assert not result and "too large" in result.message
    assert "356" not in result.message and "810" not in result.message


def test_same_padding_valid_count_gets_a_flattened_length_hint(lenient):
    result = nb05.check_same_padding_params(160_202)  # the "valid" count of the model above
    assert not result and "padding='valid'" in result.message and "flattened" in result.message
    assert "356" not in result.message and "810" not in result.message


def test_same_padding_forgot_third_pooling(lenient):
    convs = (27 + 1) * 32 + (288 + 1) * 64 + (576 + 1) * 128
    answer = convs + (8 * 8 * 128 + 1) * 128 + 129 * 10  # flattened 8x8x128: two poolings only
    result = nb05.check_same_padding_params(answer)
    assert not result and "third max-pool" in result.message and "flattened" in result.message
    assert "356" not in result.message


def test_same_padding_accepts_numpy_int_and_whole_float():
    assert nb05.check_same_padding_params(np.int64(356_810))
    assert nb05.check_same_padding_params(356_810.0)


def test_same_padding_wrong_type(lenient):
    result = nb05.check_same_padding_params("356810")
    assert not result and "whole number" in result.message


def test_same_padding_strict_raises():
    with pytest.raises(ExerciseFailed):
        nb05.check_same_padding_params(162_202)


# ---------------------------------------------------------------- Exercise 3: learning rate per epoch


def _lrs(epochs=24, warmup=5, peak=0.4):
    e = np.arange(epochs + 1)
    return np.where(e < warmup, peak * e / warmup,
                    peak * 0.5 * (1 + np.cos(np.pi * (e - warmup) / (epochs - warmup))))


def test_lr_right(capsys):
    assert nb05.check_lr_at_epochs(_lrs(), peak=0.4, warmup_epochs=5, epochs=24)
    assert nb05.check_lr_at_epochs(_lrs(2, 1), peak=0.4, warmup_epochs=1, epochs=2)
    assert nb05.check_lr_at_epochs(list(_lrs()), peak=0.4, warmup_epochs=5, epochs=24)  # a list is fine
    assert "✓" in capsys.readouterr().out


def test_lr_wrong_shape_off_by_one(lenient):
    e = np.arange(24)  # np.arange(R9_EPOCHS): one value short
    answer = np.where(e < 5, 0.4 * e / 5, 0.4 * 0.5 * (1 + np.cos(np.pi * (e - 5) / 19)))
    result = nb05.check_lr_at_epochs(answer, peak=0.4, warmup_epochs=5, epochs=24)
    assert not result and "one value per epoch start, including" in result.message
    assert "R9_EPOCHS + 1" in result.message


def test_lr_other_wrong_length(lenient):
    result = nb05.check_lr_at_epochs(_lrs()[:-3], peak=0.4, warmup_epochs=5, epochs=24)
    assert not result and "(22,)" in result.message and "(25,)" in result.message


def test_lr_missing_half(lenient):
    e = np.arange(25)
    answer = np.where(e < 5, 0.4 * e / 5, 0.4 * (1 + np.cos(np.pi * (e - 5) / 19)))
    result = nb05.check_lr_at_epochs(answer, peak=0.4, warmup_epochs=5, epochs=24)
    assert not result and "½" in result.message and "lr_per_epoch" in result.message


def test_lr_cosine_over_all_epochs(lenient):
    e = np.arange(25)
    answer = np.where(e < 5, 0.4 * e / 5, 0.4 * 0.5 * (1 + np.cos(np.pi * (e - 5) / 24)))
    result = nb05.check_lr_at_epochs(answer, peak=0.4, warmup_epochs=5, epochs=24)
    assert not result and "R9_EPOCHS − R9_WARMUP" in result.message
    assert "rates has" not in result.message


def test_lr_wrong_value_without_warmup(lenient):
    no_warmup = 0.4 * 0.5 * (1 + np.cos(np.pi * np.arange(25) / 24))
    result = nb05.check_lr_at_epochs(no_warmup, peak=0.4, warmup_epochs=5, epochs=24)
    assert not result and "values differ" in result.message
    assert "0.4" not in result.message and "0.39" not in result.message


def test_lr_wrong_type(lenient):
    result = nb05.check_lr_at_epochs(0.4, peak=0.4, warmup_epochs=5, epochs=24)
    assert not result and "shape ()" in result.message
    result = nb05.check_lr_at_epochs(None, peak=0.4, warmup_epochs=5, epochs=24)
    assert not result and "NoneType" in result.message


def test_lr_strict_raises():
    with pytest.raises(ExerciseFailed):
        nb05.check_lr_at_epochs(np.zeros(25), peak=0.4, warmup_epochs=5, epochs=24)


# ---------------------------------------------------------------- Exercise 4: recall from the confusion matrix

def test_recall_is_the_shared_checker():
    from cnnkit import exercises

    assert nb05.check_recall is exercises.check_recall  # tested in test_exercises.py
