"""The checkers of notebook 07 (transfer learning, fine-tuning, Grad-CAM): right answers pass, usual slips get
their own sentence, and no message gives the expected value away."""

import keras
import numpy as np
import pytest

from cnnkit import explain, models, transfer
from cnnkit.exercises import nb07


def _hidden(message, *values):
    for v in values:
        assert str(v) not in message and f"{v:,}" not in message, (v, message)


@pytest.fixture
def base_and_model():
    keras.utils.set_random_seed(0)
    base = transfer.feature_extractor(models.airbench(widths=(8, 16, 16)), "global_max", name="exercise_base")
    return base, transfer.classifier(base)


# ---------------------------------------------------------------------------------------------------
# Exercise 1: freeze the base, count what trains


def test_frozen_base_right(base_and_model, capsys):
    base, model = base_and_model
    base.trainable = False
    assert nb07.check_frozen_base(model, base, 17)
    assert nb07.check_frozen_base(model, base, np.int64(17))
    assert "✓" in capsys.readouterr().out


def test_frozen_base_not_frozen(lenient, base_and_model):
    base, model = base_and_model
    result = nb07.check_frozen_base(model, base, 17)
    assert not result and "freeze the whole base" in result.message
    base.get_layer("block3_conv2").trainable = False
    base.trainable = True
    base.get_layer("block1_conv1").trainable = True
    assert "still has" in nb07.check_frozen_base(model, base, 17).message


def test_frozen_base_everything_frozen(lenient, base_and_model):
    base, model = base_and_model
    model.trainable = False
    assert "nothing in model trains" in nb07.check_frozen_base(model, base, 0).message


@pytest.mark.parametrize("answer, words", [(16, "bias"), (18, "too large"), (3, "too small"),
                                           ("17", "whole number"), (17.5, "whole number")])
def test_frozen_base_wrong_count(lenient, base_and_model, answer, words):
    base, model = base_and_model
    base.trainable = False
    result = nb07.check_frozen_base(model, base, answer)
    assert not result and words in result.message
    _hidden(result.message, 17)


def test_frozen_base_counts_every_weight(lenient, base_and_model):
    base, model = base_and_model
    base.trainable = False
    result = nb07.check_frozen_base(model, base, model.count_params())
    assert not result and "every weight" in result.message


def test_frozen_base_other_model(lenient, base_and_model):
    base, model = base_and_model
    other = transfer.classifier(transfer.feature_extractor(models.airbench(widths=(8, 8, 8)), "global_max"))
    assert "not a layer of model" in nb07.check_frozen_base(other, base, 17).message
    assert "Keras models" in nb07.check_frozen_base("model", base, 17).message


def test_frozen_base_strict_raises(strict, base_and_model):
    from cnnkit.exercises import ExerciseFailed

    base, model = base_and_model
    with pytest.raises(ExerciseFailed):
        nb07.check_frozen_base(model, base, 17)


# ---------------------------------------------------------------------------------------------------
# Exercise 2: MobileNetV2's preprocessing


def test_preprocess_right(capsys):
    assert nb07.check_mobilenet_preprocess(lambda x: x / 127.5 - 1.0)
    assert "✓" in capsys.readouterr().out


@pytest.mark.parametrize("fn, words", [(lambda x: x / 255.0, "0 to 1"), (lambda x: x, "unchanged"),
                                       (lambda x: x / 255.0 - 0.5, "not the range"),
                                       (lambda x: x[..., 0], "shape"), (lambda x: 1 / 0, "ZeroDivisionError"),
                                       ("x / 127.5 - 1", "function")])
def test_preprocess_wrong(lenient, fn, words):
    result = nb07.check_mobilenet_preprocess(fn)
    assert not result and words in result.message
    assert "127.5" not in result.message and "-1" not in result.message


# ---------------------------------------------------------------------------------------------------
# Exercise 3: Grad-CAM's channel weights

GRADS = np.random.default_rng(0).normal(size=(3, 4, 5, 6)).astype("float32")


def test_channel_weights_right(capsys):
    assert nb07.check_channel_weights(GRADS.mean(axis=(1, 2)), GRADS)
    import tensorflow as tf

    assert nb07.check_channel_weights(tf.reduce_mean(tf.constant(GRADS), axis=(1, 2)), tf.constant(GRADS))
    assert "✓" in capsys.readouterr().out


@pytest.mark.parametrize("answer, words", [(GRADS.sum(axis=(1, 2)), "20 times too large"),
                                           (GRADS.mean(axis=-1), "averaged over the channels"),
                                           (np.abs(GRADS).mean(axis=(1, 2)), "absolute values"),
                                           (GRADS.mean(axis=(0, 1)), "one weight per image and channel"),
                                           (GRADS.max(axis=(1, 2)), "values differ"),
                                           ("mean", "array of numbers")])
def test_channel_weights_wrong(lenient, answer, words):
    result = nb07.check_channel_weights(answer, GRADS)
    assert not result and words in result.message


def test_channel_weights_needs_4d_gradients():
    with pytest.raises(ValueError, match="N, h, w, K"):
        nb07.check_channel_weights(np.zeros(3), np.zeros((3, 4)))


# ---------------------------------------------------------------------------------------------------
# Exercise 4: the share of a map on the stained cell

CAM = np.array([[0.0, 1.0], [0.5, 0.0]], "float32")
STAIN = np.zeros((8, 8), bool)
STAIN[:4, 4:] = True


def test_cell_share_right(capsys):
    big = explain.upsample(CAM[None], (8, 8))[0]
    assert nb07.check_cell_share(float(big[STAIN].sum() / big.sum()), CAM, STAIN)
    assert "✓" in capsys.readouterr().out


@pytest.mark.parametrize("answer, words", [(STAIN.mean(), "share of the image area"), (1.5, "above 1"),
                                           ("0.5", "one number"), (float("nan"), "not a finite"),
                                           (0.01, "too small"), (0.99, "too large")])
def test_cell_share_wrong(lenient, answer, words):
    result = nb07.check_cell_share(answer, CAM, STAIN)
    assert not result and words in result.message
    expected = explain.share_inside(CAM[None], STAIN)[0]
    assert f"{expected:.2f}" not in result.message


@pytest.mark.parametrize("call", [lambda: nb07.check_mobilenet_preprocess(lambda x: x[..., 0]),
                                  lambda: nb07.check_mobilenet_preprocess(lambda x: x / 255.0),
                                  lambda: nb07.check_channel_weights(GRADS.sum(axis=(1, 2)), GRADS),
                                  lambda: nb07.check_cell_share(0.01, CAM, STAIN)])
def test_every_wrong_answer_raises_in_strict_mode(strict, call):
    from cnnkit.exercises import ExerciseFailed

    with pytest.raises(ExerciseFailed):
        call()
