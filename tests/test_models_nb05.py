"""models.resnet9 (notebook 05): parameter counts by hand, variants, weight decay, mixed precision, saving."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import layers

from cnnkit import models

SMALL = (8, 16, 32, 64)


def resnet9_params(widths, batch_norm=True, num_classes=10):
    """Parameters of ResNet-9 counted by hand: 8 convolutions (3x3), batch norm, a dense layer without bias."""
    p, w1, w2, w3 = widths
    conv_shapes = [(3, p), (p, w1), (w1, w1), (w1, w1), (w1, w2), (w2, w3), (w3, w3), (w3, w3)]
    kernels = sum(9 * c_in * c_out for c_in, c_out in conv_shapes)
    channels = sum(c_out for _, c_out in conv_shapes)
    per_channel = 4 if batch_norm else 1  # gamma, beta, moving mean, moving variance; or one conv bias
    return kernels + per_channel * channels + w3 * num_classes


def test_default_parameter_count_by_hand():
    model = models.resnet9()
    assert resnet9_params((64, 128, 256, 512)) == model.count_params() == 6_577_600
    non_trainable = sum(int(np.prod(w.shape)) for w in model.non_trainable_weights)
    assert non_trainable == 2 * (64 + 3 * 128 + 256 + 3 * 512) == 4_480  # moving mean and variance


@pytest.mark.parametrize("batch_norm", [True, False])
def test_variant_parameter_counts(batch_norm):
    model = models.resnet9(widths=SMALL, batch_norm=batch_norm)
    assert model.count_params() == resnet9_params(SMALL, batch_norm)
    assert any(isinstance(layer, layers.BatchNormalization) for layer in model.layers) == batch_norm


def test_residual_switch_removes_only_the_additions():
    with_res = models.resnet9(widths=SMALL)
    without = models.resnet9(widths=SMALL, residual=False)
    assert [layer.name for layer in with_res.layers if isinstance(layer, layers.Add)] == ["layer1_add", "layer3_add"]
    assert not any(isinstance(layer, layers.Add) for layer in without.layers)
    assert with_res.count_params() == without.count_params()


def test_shapes_softmax_and_deterministic_inference():
    model = models.resnet9(widths=SMALL, num_classes=7)
    x = np.random.default_rng(0).integers(0, 256, size=(3, 32, 32, 3), dtype=np.uint8)
    out = model(x, training=False).numpy()
    assert out.shape == (3, 7)
    assert np.allclose(out.sum(axis=1), 1.0, atol=1e-5)
    assert np.array_equal(out, model(x, training=False).numpy())
    assert model.get_layer("global_pool").output.shape == (None, SMALL[-1])
    rescalers = [layer for layer in model.layers if isinstance(layer, layers.Rescaling)]
    assert [r.name for r in rescalers] == ["rescale", "logit_scale"]  # one for pixels, one for the logits


def test_weight_decay_gradient_is_wd_times_w():
    wd = 5e-4
    model = models.resnet9(widths=SMALL, weight_decay=wd)
    model(np.zeros((1, 32, 32, 3), "float32"))
    assert len(model.losses) == 8 + 2 * 8 + 1  # conv kernels, batch-norm gamma and beta, dense kernel
    kernel = model.get_layer("layer1_conv").kernel
    with tf.GradientTape() as tape:
        penalty = tf.add_n(model.losses)
    grad = tape.gradient(penalty, kernel)
    assert np.allclose(grad.numpy(), wd * kernel.numpy(), rtol=1e-5, atol=1e-10)
    assert models.resnet9(widths=SMALL, weight_decay=0).losses == []


def test_mixed_precision_keeps_a_float32_softmax():
    before = keras.mixed_precision.global_policy().name
    try:
        keras.mixed_precision.set_global_policy("mixed_float16")
        model = models.resnet9(widths=SMALL)
        out = model(np.zeros((2, 32, 32, 3), "uint8"), training=False)
        assert model.get_layer("prep_conv").compute_dtype == "float16"
        assert model.get_layer("prep_conv").kernel.dtype == "float32"  # weights stay float32
        assert keras.backend.standardize_dtype(out.dtype) == "float32"
    finally:
        keras.mixed_precision.set_global_policy(before)


def test_augmentation_inside_the_model_is_off_at_inference():
    augment = keras.Sequential([layers.RandomFlip("horizontal", seed=1), layers.RandomTranslation(0.125, 0.125)])
    model = models.resnet9(widths=SMALL, augment=augment)
    x = np.random.default_rng(1).integers(0, 256, size=(4, 32, 32, 3)).astype("float32")
    assert np.array_equal(model(x, training=False).numpy(), model(x, training=False).numpy())
    assert model.layers[1] is augment  # augmentation comes before the rescaling


def test_bad_widths():
    with pytest.raises(ValueError, match="4 numbers"):
        models.resnet9(widths=(16, 32, 64))


def test_save_and_reload_with_the_schedule(tmp_path):
    model = models.resnet9(widths=SMALL)
    schedule = keras.optimizers.schedules.CosineDecay(0.0, decay_steps=10, warmup_target=0.4, warmup_steps=2)
    model.compile(keras.optimizers.SGD(schedule, momentum=0.9, nesterov=True), "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    x = np.random.default_rng(2).integers(0, 256, size=(8, 32, 32, 3), dtype=np.uint8)
    y = np.arange(8) % 10
    model.fit(x, y, epochs=1, batch_size=4, verbose=0)
    path = tmp_path / "resnet9.keras"
    model.save(path)
    reloaded = keras.models.load_model(path)
    assert np.allclose(model.predict(x, verbose=0), reloaded.predict(x, verbose=0), atol=1e-6)
    config = reloaded.optimizer.get_config()["learning_rate"]  # the schedule itself is saved, not one value
    assert config["class_name"] == "CosineDecay" and config["config"]["warmup_target"] == 0.4
    assert int(reloaded.optimizer.iterations) == 2
