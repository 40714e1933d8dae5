"""The checkers of notebook 06 (cats vs dogs, one sigmoid output)."""

import numpy as np
import pytest
from PIL import Image

from cnnkit.exercises import ExerciseFailed, nb06

STRIDE3 = 7_226_497  # the seed audit's count for the literal Convolution2D(32, 3, 3) at 256x256x3


@pytest.fixture
def lenient(monkeypatch):
    """The learner's (non-raising) mode."""
    monkeypatch.delenv("CNNKIT_STRICT_CHECKS", raising=False)


def _hidden(message, *values):
    """The message reveals none of the expected values."""
    for v in values:
        for text in {str(v), f"{v:,}" if isinstance(v, int) else str(v)}:
            assert text not in message, (text, message)


# ---------------------------------------------------------------------------------------------------
# Exercise 1: parameter count of the stride-3 model


def test_source_model_params_matches_keras_and_the_audit():
    import keras
    from keras import layers

    from cnnkit import models

    assert nb06.source_model_params(256) == 66_065_537
    assert nb06.source_model_params(256, stride=3) == STRIDE3
    assert nb06.source_model_params(64) == 3_937_409
    for size in (32, 45):
        assert nb06.source_model_params(size) == models.seed_cats_dogs((size, size, 3)).count_params()
        literal = keras.Sequential([keras.Input((size, size, 3)), layers.Convolution2D(32, 3, 3),
                                    layers.MaxPooling2D((2, 2)), layers.Flatten(), layers.Dense(128),
                                    layers.Dense(1)])
        assert nb06.source_model_params(size, stride=3) == literal.count_params()


def test_stride3_right(capsys):
    assert nb06.check_stride3_params(STRIDE3)
    assert nb06.check_stride3_params(np.int64(STRIDE3))
    assert "✓" in capsys.readouterr().out


@pytest.mark.parametrize("answer, words", [(STRIDE3 + 128, "too large"), (STRIDE3 - 1, "too small"),
                                           (66_065_537, "stride 1")])
def test_stride3_wrong_value(lenient, answer, words):
    result = nb06.check_stride3_params(answer)
    assert not result and words in result.message
    _hidden(result.message, STRIDE3)


@pytest.mark.parametrize("answer", ["7226497", [STRIDE3], 7226497.5, None])
def test_stride3_wrong_type(lenient, answer):
    result = nb06.check_stride3_params(answer)
    assert not result and "whole number" in result.message
    _hidden(result.message, STRIDE3)


def test_stride3_strict_raises():
    with pytest.raises(ExerciseFailed):
        nb06.check_stride3_params(STRIDE3 + 1)


# ---------------------------------------------------------------------------------------------------
# Exercise 2: a two-unit softmax head equal to the sigmoid unit


@pytest.fixture
def head():
    rng = np.random.default_rng(1)
    return rng.normal(size=(8, 1)).astype("float32"), rng.normal(size=(1,)).astype("float32")


def test_softmax_head_right(head):
    w, b = head
    assert nb06.check_softmax_head(np.concatenate([np.zeros_like(w), w], 1), np.array([0.0, b[0]]), w, b)
    # any pair of columns whose difference is (w, b) is right as well
    assert nb06.check_softmax_head(np.concatenate([-w / 2, w / 2], 1), np.array([-b[0] / 2, b[0] / 2]), w, b)
    assert nb06.check_softmax_head(np.concatenate([w + 3, 2 * w + 3], 1), np.array([1.0, 1.0 + b[0]]), w, b)


def test_softmax_head_swapped_columns(lenient, head):
    w, b = head
    result = nb06.check_softmax_head(np.concatenate([w, np.zeros_like(w)], 1), np.array([b[0], 0.0]), w, b)
    assert not result and "swapped" in result.message


def test_softmax_head_wrong_value(lenient, head):
    w, b = head
    result = nb06.check_softmax_head(np.concatenate([np.zeros_like(w), 2 * w], 1), np.array([0.0, b[0]]), w, b)
    assert not result and "differs" in result.message
    _hidden(result.message, *np.round(w[:, 0], 3))


@pytest.mark.parametrize("kernel2, bias2, words", [
    (np.zeros((2, 8)), np.zeros(2), "kernel2 has shape (2, 8)"),
    (np.zeros((8, 1)), np.zeros(2), "kernel2 has shape (8, 1)"),
    (np.zeros((8, 2)), np.zeros((1, 2)), "bias2 has shape (1, 2)"),
])
def test_softmax_head_wrong_shape(lenient, head, kernel2, bias2, words):
    w, b = head
    result = nb06.check_softmax_head(kernel2, bias2, w, b)
    assert not result and words in result.message


def test_softmax_head_wrong_type(lenient, head):
    w, b = head
    result = nb06.check_softmax_head("w", np.zeros(2), w, b)
    assert not result and "kernel2 should be an array" in result.message
    result = nb06.check_softmax_head(np.zeros((8, 2)), None, w, b)
    assert not result and "bias2 should be an array" in result.message


def test_softmax_head_strict_raises(head):
    w, b = head
    with pytest.raises(ExerciseFailed):
        nb06.check_softmax_head(np.zeros((8, 2)), np.zeros(2), w, b)


# ---------------------------------------------------------------------------------------------------
# Exercise 3: precision and recall at a threshold

Y = np.array([1, 1, 1, 1, 0, 0, 0, 0, 0, 1])
P = np.array([0.9, 0.8, 0.6, 0.3, 0.75, 0.2, 0.1, 0.65, 0.4, 0.72])
# at 0.7: called Dog = 0.9, 0.8, 0.75, 0.72 -> TP 3, FP 1, FN 2: precision 0.75, recall 0.6


def test_precision_recall_right():
    assert nb06.check_precision_recall(np.array([0.75, 0.6]), Y, P, 0.7)
    assert nb06.check_precision_recall([0.75, 0.6], Y, P, 0.7)
    assert nb06.check_precision_recall(np.array([0.0, 0.0]), Y, P, 0.95)  # nothing called Dog: 0 by convention


def test_precision_recall_swapped(lenient):
    result = nb06.check_precision_recall(np.array([0.6, 0.75]), Y, P, 0.7)
    assert not result and "swapped" in result.message


def test_precision_recall_of_cat(lenient):
    # Cat as the positive class at 0.7: called Cat = 6 photos, 4 cats among them -> 4/6; recall of cats 4/5
    result = nb06.check_precision_recall(np.array([4 / 6, 0.8]), Y, P, 0.7)
    assert not result and "Cat" in result.message


def test_precision_recall_at_half(lenient):
    # asked at 0.85 (Dog: [1.0, 0.2]; Cat: [5/9, 1.0]), answered at 0.5: TP 4, FP 2, FN 1 -> [4/6, 0.8]
    result = nb06.check_precision_recall(np.array([4 / 6, 0.8]), Y, P, 0.85)
    assert not result and "threshold 0.5" in result.message


def test_precision_recall_wrong_value(lenient):
    result = nb06.check_precision_recall(np.array([0.5, 0.6]), Y, P, 0.7)
    assert not result and "1 of 2 values differ" in result.message
    _hidden(result.message, 0.75)


def test_precision_recall_nan(lenient):
    result = nb06.check_precision_recall(np.array([np.nan, 0.0]), Y, P, 0.95)
    assert not result and "NaN" in result.message and "0 by 0" in result.message


@pytest.mark.parametrize("answer, words", [
    (np.array([0.75, 0.6, 0.0]), "shape (3,)"),
    (np.array([[0.75, 0.6]]), "shape (1, 2)"),
    ("0.75, 0.6", "should be an array"),
    ({"precision": 0.75}, "should be an array"),
])
def test_precision_recall_wrong_shape_or_type(lenient, answer, words):
    result = nb06.check_precision_recall(answer, Y, P, 0.7)
    assert not result and words in result.message
    _hidden(result.message, 0.75)


def test_precision_recall_strict_raises():
    with pytest.raises(ExerciseFailed):
        nb06.check_precision_recall(np.array([0.6, 0.75]), Y, P, 0.7)


# ---------------------------------------------------------------------------------------------------
# Exercise 4: one photo as a batch


@pytest.fixture
def photo(tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "pet.jpg"
    Image.fromarray(rng.integers(0, 256, size=(90, 70, 3), dtype=np.uint8)).save(path, quality=90)
    return str(path)


def _batch(path, size, interpolation="bilinear"):
    import keras

    img = keras.utils.load_img(path, target_size=size, interpolation=interpolation)
    return np.expand_dims(keras.utils.img_to_array(img), 0)


def test_image_batch_right(photo):
    assert nb06.check_image_batch(_batch(photo, (32, 40)), photo, (32, 40))
    assert nb06.check_image_batch(_batch(photo, (32, 40)).astype("uint8"), photo, (32, 40))


def test_image_batch_without_batch_dimension(lenient, photo):
    result = nb06.check_image_batch(_batch(photo, (32, 40))[0], photo, (32, 40))
    assert not result and "without the batch dimension" in result.message


def test_image_batch_wrong_size(lenient, photo):
    result = nb06.check_image_batch(_batch(photo, (40, 32)), photo, (32, 40))
    assert not result and "target_size" in result.message


def test_image_batch_divided_by_255(lenient, photo):
    result = nb06.check_image_batch(_batch(photo, (32, 40)) / 255.0, photo, (32, 40))
    assert not result and "divided by 255" in result.message


def test_image_batch_nearest(lenient, photo):
    result = nb06.check_image_batch(_batch(photo, (32, 40), "nearest"), photo, (32, 40))
    assert not result and "nearest" in result.message


def test_image_batch_wrong_value(lenient, photo):
    x = _batch(photo, (32, 40))
    x[0, 3, 4, 1] += 40
    result = nb06.check_image_batch(x, photo, (32, 40))
    assert not result and "1 of" in result.message


def test_image_batch_wrong_type(lenient, photo):
    result = nb06.check_image_batch(photo, photo, (32, 40))
    assert not result and "should be an array" in result.message


def test_image_batch_strict_raises(photo):
    with pytest.raises(ExerciseFailed):
        nb06.check_image_batch(_batch(photo, (32, 40))[0], photo, (32, 40))
