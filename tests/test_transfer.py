"""cnnkit.transfer: a base at another image size, a new head, which layers train, batch norm while
fine-tuning, and the ImageNet pipeline built with weights=None (offline), with one-sentence failures."""

import socket

import keras
import numpy as np
import pytest

from cnnkit import models, transfer


@pytest.fixture(scope="module")
def small_airbench():
    keras.utils.set_random_seed(0)
    return models.airbench(widths=(8, 16, 16))


def test_resize_input_keeps_the_weights_and_takes_other_sizes(small_airbench):
    x32 = np.random.default_rng(0).uniform(0, 255, (2, 32, 32, 3)).astype("float32")
    same = transfer.resize_input(small_airbench, (32, 32, 3))
    assert np.allclose(same.predict(x32, verbose=0), small_airbench.predict(x32, verbose=0), atol=1e-6)
    bigger = transfer.resize_input(small_airbench, (64, 64, 3), name="airbench64")
    assert bigger.name == "airbench64" and bigger.inputs[0].shape[1:] == (64, 64, 3)
    assert bigger.get_layer("block3_conv2").output.shape[1:3] == (7, 7)
    for a, b in zip(bigger.weights, small_airbench.weights):
        assert a is not b and np.array_equal(a.numpy(), b.numpy())
    with pytest.raises(ValueError, match="channels"):
        transfer.resize_input(small_airbench, (64, 64, 1))
    with pytest.raises(ValueError, match="height, width, channels"):
        transfer.resize_input(small_airbench, (64, 64))
    with pytest.raises(ValueError, match="functional"):
        transfer.resize_input(models.cats_dogs_cnn((32, 32, 3)), (64, 64, 3))


def test_resize_input_explains_a_model_that_needs_its_size():
    inputs = keras.Input((8, 8, 3))
    x = keras.layers.Flatten()(keras.layers.Conv2D(2, 3)(inputs))
    model = keras.Model(inputs, keras.layers.Dense(1)(x), name="flat")
    with pytest.raises(ValueError, match="flat cannot take 16x16 images"):
        transfer.resize_input(model, (16, 16, 3))


def test_feature_extractor_and_classifier(small_airbench):
    base = transfer.feature_extractor(small_airbench, "global_max", name="cifar_base")
    assert base.name == "cifar_base" and base.outputs[0].shape[1:] == (16,)
    with pytest.raises(ValueError, match="no layer 'nope'"):
        transfer.feature_extractor(small_airbench, "nope")
    model = transfer.classifier(base, augment=models.augmentation(flip="horizontal", seed=0), dropout=0.3)
    assert model.output_shape == (None, 1) and model.get_layer("predictions").activation.__name__ == "sigmoid"
    assert model.get_layer("cifar_base") is base and "pool" not in [layer.name for layer in model.layers]
    x = np.random.default_rng(1).uniform(0, 255, (3, 32, 32, 3)).astype("float32")
    p = model.predict(x, verbose=0)
    assert p.shape == (3, 1) and np.all((p > 0) & (p < 1))
    maps = transfer.feature_extractor(small_airbench, "block3_gelu2")
    pooled = transfer.classifier(maps, pooling="max", dropout=0)
    assert pooled.get_layer("pool").__class__.__name__ == "GlobalMaxPooling2D"
    assert "dropout" not in [layer.name for layer in pooled.layers]
    with pytest.raises(ValueError, match="pooling"):
        transfer.classifier(maps, pooling="sum")


def test_freezing_and_unfreeze_top_count_the_weights_that_train(small_airbench):
    base = transfer.feature_extractor(transfer.resize_input(small_airbench, (32, 32, 3)), "global_max")
    model = transfer.classifier(base)
    base.trainable = False
    assert transfer.count_weights(model) == 16 + 1  # the head only
    assert transfer.count_weights(model) + transfer.count_weights(model, trainable=False) == model.count_params()
    unfrozen = transfer.unfreeze_top(base, "block3_conv1")
    assert unfrozen == ["block3_conv1", "block3_shift1", "block3_conv2", "block3_shift2"]
    assert transfer.count_weights(model) == 3 * 3 * 16 * 16 * 2 + 16 * 2 + 17
    assert not base.get_layer("whiten").trainable and not base.get_layer("block2_conv2").trainable
    assert all(not bn.trainable for bn in transfer.batch_norm_layers(model))
    transfer.unfreeze_top(base, "block3_conv1", keep_batch_norm_frozen=False)
    assert base.get_layer("block3_bn1").trainable and not base.get_layer("block2_bn2").trainable
    with pytest.raises(ValueError, match="no layer 'block9_conv1'"):
        transfer.unfreeze_top(base, "block9_conv1")


def _bn_base():
    inputs = keras.Input((4,))
    x = keras.layers.Dense(4, kernel_initializer="identity", name="dense")(inputs)
    return keras.Model(inputs, keras.layers.BatchNormalization(momentum=0.0, name="bn")(x), name="base")


@pytest.mark.parametrize("bn_trainable", [True, False])
def test_fit_puts_a_trainable_batch_norm_in_training_mode_despite_training_false(bn_trainable):
    """What notebook 07 and transfer.unfreeze_top rely on: in Keras 3 `base(x, training=False)` written when a
    functional model is built is overridden by fit's training=True; a frozen batch norm stays in inference mode."""
    base = _bn_base()
    base.get_layer("bn").trainable = bn_trainable
    inputs = keras.Input((4,))
    model = keras.Model(inputs, keras.layers.Dense(1)(base(inputs, training=False)))
    model.compile(keras.optimizers.SGD(0.0), "mse")
    x = np.random.default_rng(0).normal(10, 1, (32, 4)).astype("float32")
    model.fit(x, np.zeros((32, 1)), batch_size=32, epochs=1, verbose=0)
    moving_mean = base.get_layer("bn").moving_mean.numpy()
    if bn_trainable:
        assert np.allclose(moving_mean, x.mean(axis=0), atol=1e-4)  # training mode: updated to this batch's mean
    else:
        assert np.array_equal(moving_mean, np.zeros(4))  # inference mode: untouched


def test_the_imagenet_pipeline_builds_and_trains_with_random_weights():
    base, preprocess = transfer.imagenet_base("MobileNetV2", (96, 96, 3), weights=None)
    assert base.outputs[0].shape[1:] == (3, 3, 1280)
    assert np.allclose(preprocess(np.array([0.0, 127.5, 255.0])), [-1, 0, 1])
    base.trainable = False
    model = transfer.classifier(base, preprocess=preprocess, augment=models.augmentation(flip="horizontal", seed=0))
    assert transfer.count_weights(model) == 1280 + 1
    model.compile(keras.optimizers.Adam(1e-3), "binary_crossentropy", metrics=["accuracy"])
    rng = np.random.default_rng(0)
    x, y = rng.uniform(0, 255, (8, 96, 96, 3)).astype("float32"), rng.integers(0, 2, (8, 1)).astype("float32")
    history = model.fit(x, y, batch_size=4, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    assert transfer.unfreeze_top(base, "block_16_expand")[0] == "block_16_expand"
    assert all(not bn.trainable for bn in transfer.batch_norm_layers(model))
    with pytest.raises(ValueError, match="unknown network"):
        transfer.imagenet_base("VGG99")


def test_imagenet_base_offline_says_so_in_one_sentence(monkeypatch):
    monkeypatch.setenv("CNNKIT_OFFLINE", "1")
    with pytest.raises(transfer.WeightsUnavailable, match="CNNKIT_OFFLINE=1 forbids downloads") as err:
        transfer.imagenet_base("MobileNetV2", (96, 96, 3))
    assert "\n" not in str(err.value)


def test_a_failed_download_is_one_sentence_and_the_timeout_is_restored(monkeypatch):
    monkeypatch.delenv("CNNKIT_OFFLINE", raising=False)
    seen = {}

    def offline_builder(**kwargs):
        seen["timeout"] = socket.getdefaulttimeout()
        raise Exception("URL fetch failure on https://storage.googleapis.com/x.h5: None -- [Errno -2] Name or "
                        "service not known\nmore lines")

    monkeypatch.setattr(keras.applications, "MobileNetV2", offline_builder)
    before = socket.getdefaulttimeout()
    with pytest.raises(transfer.WeightsUnavailable,
                       match=r"could not be downloaded \(\[Errno -2\] Name or service not known\)$") as err:
        transfer.imagenet_base("MobileNetV2", (96, 96, 3), timeout=7)
    assert "\n" not in str(err.value) and err.value.__cause__ is None and err.value.__suppress_context__
    assert seen["timeout"] == 7 and socket.getdefaulttimeout() == before
