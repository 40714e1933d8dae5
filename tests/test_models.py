"""cnnkit.models: the one conv block and naming scheme, the articles' models, the VGG-style family and its
presets, augmentation and airbench. Parameter counts are checked against counts by hand."""

import keras
import numpy as np
import pytest
from keras import layers

from cnnkit import models

# ------------------------------------------------------------------------------------------ the block


def test_conv_block_with_and_without_batch_norm():
    conv, bn, act = models.conv_block(16, 2, 3, bn_momentum=0.9)
    assert [conv.name, bn.name, act.name] == ["block2_conv3", "block2_bn3", "block2_relu3"]
    assert not conv.use_bias and conv.kernel_size == (3, 3) and conv.padding == "same"  # the norm supplies the shift
    assert bn.momentum == 0.9
    (plain,) = models.conv_block(6, 1, kernel_size=5, padding="valid", batch_norm=False)
    assert plain.name == "block1_conv1" and plain.use_bias and plain.padding == "valid"
    assert plain.activation.__name__ == "relu"  # built into the convolution, as the articles write it


def _names(model):
    return [layer.name for layer in model.layers]


def test_every_model_uses_one_naming_scheme():
    import re

    pattern = re.compile(r"^(rescale|block\d+_(conv|bn|relu)\d+|block\d+_pool|flatten|gap|dense\d+(_bn|_relu)?|"
                         r"dropout\d+|predictions|random_\w+|augmentation)$")
    for model in (models.lenet5(), models.article_blood_cells((32, 32, 3)), models.article_cifar10(),
                  models.article_cats_dogs(), models.fashion_cnn(), models.cats_dogs_cnn((32, 32, 3)),
                  models.vgg_style((32, 32, 3), 10, filters=(8,)), models.vgg_style((32, 32, 3), 3, filters=(8,),
                                                                                   pooling="flatten", dense=(4, 4))):
        odd = [name for name in _names(model) if not pattern.match(name)]
        assert odd == [], (model.name, odd)
        assert _names(model)[-1] == "predictions"


# ------------------------------------------------------------------------------------------ the articles' models


@pytest.mark.parametrize("build,params,out", [
    (lambda: models.lenet5(), 107_786, (None, 10)),
    (lambda: models.article_blood_cells(), 10_250_788, (None, 4)),
    (lambda: models.article_cifar10(), 160_202, (None, 10)),
    (lambda: models.article_cats_dogs(), 3_937_409, (None, 1)),
    (lambda: models.article_cats_dogs(input_shape=(256, 256, 3)), 66_065_537, (None, 1)),
])
def test_article_models_parameter_counts(build, params, out):
    model = build()
    assert model.count_params() == params
    assert tuple(model.output_shape) == out


def test_rescaling_is_inside_the_models():
    model = models.lenet5()
    assert model.layers[0].name == "rescale"
    assert models.lenet5(rescale=False).count_params() == 107_786
    assert models.lenet5(rescale=False).layers[0].name == "block1_conv1"


def test_lenet5_matches_the_article():
    model = models.lenet5(input_shape=(28, 28, 1), num_classes=10)
    assert model.name == "lenet5"
    per_layer = {"block1_conv1": 156, "block2_conv1": 2_416, "dense1": 94_200, "dense2": 10_164, "predictions": 850}
    for name, n in per_layer.items():
        assert model.get_layer(name).count_params() == n
    assert isinstance(model.get_layer("block1_pool"), layers.AveragePooling2D)
    assert model.get_layer("block1_conv1").kernel_size == (5, 5) and model.get_layer("block1_conv1").padding == "same"
    assert model.get_layer("flatten").output.shape == (None, 784)
    assert model.compute_output_shape((None, 28, 28, 1)) == (None, 10)
    assert isinstance(model.layers[0], keras.layers.Rescaling)


def test_lenet5_predicts_probabilities_from_raw_pixels():
    model = models.lenet5()
    x = np.random.default_rng(0).integers(0, 256, size=(3, 28, 28, 1), dtype=np.uint8)
    p = model.predict(x, verbose=0)
    assert p.shape == (3, 10) and np.allclose(p.sum(axis=1), 1, atol=1e-5)


def test_article_blood_cells_layers():
    model = models.article_blood_cells((200, 200, 3))
    assert model.name == "article_blood_cells"
    assert _names(model) == ["rescale", "block1_conv1", "block1_pool", "block2_conv1", "block2_pool", "dropout1",
                             "flatten", "dense1", "predictions"]
    assert model.get_layer("flatten").output.shape == (None, 50 * 50 * 32)  # the Flatten one article forgot
    assert model.get_layer("dense1").count_params() == 50 * 50 * 32 * 128 + 128


def test_article_cifar10_layers_and_augment_after_rescaling():
    aug = models.augmentation(flip="horizontal", seed=0)
    model = models.article_cifar10(augment=aug)
    assert model.name == "article_cifar10"
    assert _names(model)[:2] == ["rescale", "augmentation"]
    assert model.get_layer("block3_pool").output.shape == (None, 2, 2, 128)
    assert all(model.get_layer(f"block{i}_conv1").padding == "valid" for i in (1, 2, 3))


def _by_hand_article_cats_dogs(size):
    pooled = (size - 2) // 2  # 3x3 'valid' conv, then 2x2 max-pool
    return (3 * 3 * 3 + 1) * 32 + (pooled * pooled * 32 + 1) * 128 + (128 + 1)


@pytest.mark.parametrize("size, expected", [(64, 3_937_409), (128, 16_258_177), (33, None)])
def test_article_cats_dogs_parameter_count(size, expected):
    model = models.article_cats_dogs((size, size, 3))
    assert model.count_params() == _by_hand_article_cats_dogs(size)
    if expected is not None:
        assert model.count_params() == expected


def test_article_cats_dogs_layers():
    model = models.article_cats_dogs((64, 64, 3))
    assert model.name == "article_cats_dogs" and model.output_shape == (None, 1)
    assert model.layers[-1].activation.__name__ == "sigmoid"
    assert isinstance(model.layers[0], layers.Rescaling)
    conv = model.get_layer("block1_conv1")
    assert conv.kernel_size == (3, 3) and conv.strides == (1, 1)  # what the article meant, not stride 3
    assert conv.output.shape == (None, 62, 62, 32)


def test_article_cats_dogs_augment_runs_first_and_only_in_training():
    aug = models.augmentation(flip="horizontal", zoom=0.2, seed=0)
    model = models.article_cats_dogs((32, 32, 3), augment=aug)
    assert model.layers[0] is aug and isinstance(model.layers[1], layers.Rescaling)
    x = np.random.default_rng(0).integers(0, 256, size=(4, 32, 32, 3)).astype("float32")
    a, b = model(x, training=False), model(x, training=False)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(b))


# ------------------------------------------------------------------------------------------ the VGG-style family


def test_vgg_style_heads_and_errors():
    multi = models.vgg_style((32, 32, 3), 10, filters=(8, 16), convs_per_block=1)
    assert multi.output_shape == (None, 10)
    binary = models.vgg_style((32, 32, 3), 1, filters=(8,), batch_norm=False, dropout=0)
    assert binary.output_shape == (None, 1) and binary.layers[-1].activation.__name__ == "sigmoid"
    assert _names(binary) == ["rescale", "block1_conv1", "block1_conv2", "block1_pool", "gap", "predictions"]
    # 3x3x3x8 conv without bias + BN (4x8) ; dense 8x10+10
    assert models.vgg_style((32, 32, 3), 10, filters=(8,), convs_per_block=1, dropout=0).count_params() == \
        3 * 3 * 3 * 8 + 4 * 8 + 8 * 10 + 10
    for bad in [dict(num_classes=0), dict(convs_per_block=0), dict(pooling="max"), dict(dropout=(0.1, 0.2))]:
        kwargs = {"num_classes": 10, **bad}
        with pytest.raises(ValueError):
            models.vgg_style((32, 32, 3), **kwargs)


def test_vgg_style_dense_head_and_dropout_rates():
    model = models.vgg_style((16, 16, 1), 3, filters=(4,), convs_per_block=1, pooling="flatten", dense=(6, 5),
                             dropout=(0.1, 0, 0.3), bn_momentum=0.8)
    assert _names(model) == ["rescale", "block1_conv1", "block1_bn1", "block1_relu1", "block1_pool", "flatten",
                             "dropout1", "dense1", "dense1_bn", "dense1_relu", "dense2", "dense2_bn", "dense2_relu",
                             "dropout3", "predictions"]
    assert [model.get_layer(n).rate for n in ("dropout1", "dropout3")] == [0.1, 0.3]
    assert not model.get_layer("dense1").use_bias and model.get_layer("dense2_bn").momentum == 0.8
    assert model.count_params() == (9 * 4 + 4 * 4) + (8 * 8 * 4 * 6 + 4 * 6) + (6 * 5 + 4 * 5) + (5 * 3 + 3)
    plain = models.vgg_style((16, 16, 1), 3, filters=(4,), batch_norm=False, pooling="flatten", dense=(6,))
    assert plain.get_layer("dense1").use_bias and plain.get_layer("dense1").activation.__name__ == "relu"


def test_fashion_cnn_param_count_and_shapes():
    model = models.fashion_cnn(input_shape=(28, 28, 1), num_classes=10)
    assert model.name == "fashion_cnn"
    hand = ((3 * 3 * 1 * 32 + 4 * 32) + (3 * 3 * 32 * 32 + 4 * 32) + (3 * 3 * 32 * 64 + 4 * 64)
            + (3 * 3 * 64 * 64 + 4 * 64) + (7 * 7 * 64 * 256 + 4 * 256) + 257 * 10)
    assert model.count_params() == hand == 871_978
    non_trainable = sum(int(np.prod(w.shape)) for w in model.non_trainable_weights)
    assert non_trainable == 2 * (32 + 32 + 64 + 64 + 256)
    assert model.get_layer("flatten").output.shape == (None, 7 * 7 * 64)
    assert model.compute_output_shape((None, 28, 28, 1)) == (None, 10)
    for name in ("block1_bn1", "block1_bn2", "block2_bn1", "block2_bn2", "dense1_bn"):
        assert model.get_layer(name).momentum == pytest.approx(0.9)
    for name, width in [("block1_conv1", 32), ("block1_conv2", 32), ("block2_conv1", 64), ("block2_conv2", 64)]:
        conv = model.get_layer(name)
        assert conv.filters == width and conv.kernel_size == (3, 3) and not conv.use_bias
    # two 3x3 convolutions per stage, then a pool: the stages end at 14x14 and 7x7
    assert model.get_layer("block1_pool").output.shape == (None, 14, 14, 32)
    assert model.get_layer("block2_pool").output.shape == (None, 7, 7, 64)
    assert [model.get_layer(n).rate for n in ("dropout1", "dropout2")] == [0.25, 0.5]
    assert _names(model)[:3] == ["random_translation", "random_flip", "rescale"]


def test_fashion_cnn_one_conv_per_block():
    model = models.fashion_cnn(convs_per_block=1)
    assert model.count_params() == (9 * 32 + 4 * 32) + (9 * 32 * 64 + 4 * 64) + (7 * 7 * 64 * 256 + 4 * 256) + 2570
    assert model.count_params() == 825_514
    with pytest.raises(ValueError, match="convs_per_block"):
        models.fashion_cnn(convs_per_block=0)


def test_fashion_cnn_options():
    plain = models.fashion_cnn(translation=0, flip=False, num_classes=5, filters=(8, 16), dense=32)
    names = _names(plain)
    assert "random_translation" not in names and "random_flip" not in names
    assert plain.compute_output_shape((None, 28, 28, 1)) == (None, 5)
    assert plain.count_params() == ((9 * 8 + 32) + (9 * 8 * 8 + 32) + (9 * 8 * 16 + 64) + (9 * 16 * 16 + 64)
                                    + (7 * 7 * 16 * 32 + 128) + 33 * 5)


def test_fashion_cnn_augmentation_only_in_training():
    model = models.fashion_cnn()
    x = np.random.default_rng(1).integers(0, 256, size=(4, 28, 28, 1), dtype=np.uint8)
    a = model.predict(x, verbose=0)
    b = model.predict(x, verbose=0)
    assert a.shape == (4, 10) and np.allclose(a, b)  # inference is deterministic: no augmentation, no dropout
    flip = model.get_layer("random_flip")
    assert flip.mode == "horizontal"
    shift = model.get_layer("random_translation")
    assert shift.fill_mode == "constant" and shift.interpolation == "nearest"


def test_fashion_cnn_shift_before_or_after_rescaling_is_the_same():
    """The shift is by whole pixels with a black (0) fill, so it commutes with the rescaling."""
    shift = layers.RandomTranslation(0.2, 0.2, fill_mode="constant", interpolation="nearest", seed=3)
    x = np.random.default_rng(2).integers(0, 256, size=(4, 10, 10, 1)).astype("float32")
    rescale = layers.Rescaling(1 / 255)
    shifted_first = rescale(shift(x, training=True)).numpy()
    shift_again = layers.RandomTranslation(0.2, 0.2, fill_mode="constant", interpolation="nearest", seed=3)
    rescaled_first = shift_again(rescale(x), training=True).numpy()
    assert np.array_equal(shifted_first, rescaled_first)


@pytest.mark.parametrize("size", [32, 64, 128])
def test_cats_dogs_cnn_parameter_count_is_size_independent(size):
    model = models.cats_dogs_cnn((size, size, 3))
    widths = [3, 32, 64, 128, 256]
    by_hand = sum(9 * c_in * c_out + 4 * c_out for c_in, c_out in zip(widths, widths[1:])) + 256 + 1
    assert model.count_params() == by_hand == 390_113
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    assert trainable == 390_113 - 2 * sum(widths[1:])  # batch-norm moving mean and variance are not trained


def test_cats_dogs_cnn_layers():
    model = models.cats_dogs_cnn((64, 64, 3), filters=(8, 16), dropout=0.0)
    assert model.output_shape == (None, 1)
    assert model.get_layer("predictions").activation.__name__ == "sigmoid"
    assert isinstance(model.layers[0], layers.Rescaling)
    assert model.get_layer("block2_pool").output.shape == (None, 16, 16, 16)
    assert not model.get_layer("block1_conv1").use_bias  # batch norm supplies the shift
    assert model.get_layer("block1_bn1").momentum == 0.9  # moving statistics that settle on small data
    assert not any(isinstance(layer, layers.Dropout) for layer in model.layers)


def test_cats_dogs_cnn_trains_on_uint8_batches():
    keras.utils.set_random_seed(0)
    model = models.cats_dogs_cnn((32, 32, 3), filters=(4, 8),
                                 augment=models.augmentation(flip="horizontal", zoom=0.2, seed=0))
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, size=(8, 32, 32, 3), dtype=np.uint8)
    y = rng.integers(0, 2, size=(8, 1)).astype("float32")
    history = model.fit(x, y, epochs=1, batch_size=4, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    p = keras.ops.convert_to_numpy(model(x, training=False))
    assert p.shape == (8, 1) and np.all((p > 0) & (p < 1))


# ------------------------------------------------------------------------------------------ augmentation


def test_augmentation_only_in_training():
    aug = models.augmentation(flip="horizontal", translation=0.1, zoom=0.1, rotation=0.05, contrast=0.1, seed=1)
    x = np.random.default_rng(0).uniform(0, 255, (2, 16, 16, 3)).astype("float32")
    np.testing.assert_allclose(aug(x, training=False).numpy(), x)
    assert not np.allclose(aug(x, training=True).numpy(), x)
    with pytest.raises(ValueError):
        models.augmentation(flip=None)




# ------------------------------------------------------------------------------------------ airbench (notebook 05)


def airbench_params(widths, channels=3, num_classes=10):
    """Weights by hand: the fixed whitening kernel and its shift, conv kernels (no bias), one shift and two
    running statistics per norm (no gamma/beta of their own), the head without bias."""
    w = [2 * 2 * 2 * channels]
    whiten = 2 * 2 * channels * w[0] + w[0]
    convs = norms = 0
    c_in = w[0]
    for width in widths:
        convs += 9 * c_in * width + 9 * width * width
        norms += 2 * 3 * width  # shift + moving mean + moving variance, twice per group
        c_in = width
    return whiten + convs + norms + widths[-1] * num_classes


def test_conv_block_airbench_order_and_names():
    stack = models.conv_block(8, 2, 1, activation="gelu", pool=True, shift_speedup=64.0, bn_epsilon=1e-12)
    assert [layer.name for layer in stack] == ["block2_conv1", "block2_pool", "block2_bn1", "block2_shift1",
                                               "block2_gelu1"]
    bn, shift = stack[2], stack[3]
    assert not bn.center and not bn.scale and bn.epsilon == 1e-12
    assert shift.scale == pytest.approx(8.0)  # sqrt(64): the shift learns 64 times faster


def test_airbench_parameter_count_and_layers():
    model = models.airbench()
    assert model.count_params() == airbench_params((64, 256, 256))
    assert model.output_shape == (None, 10)
    names = [layer.name for layer in model.layers]
    for name in ("normalize", "whiten", "whiten_shift", "block1_conv1", "block1_pool", "block3_gelu2", "global_max",
                 "head", "logits", "predictions"):
        assert name in names
    assert not model.get_layer("whiten").trainable and model.get_layer("whiten").trainable_weights == []
    conv = model.get_layer("block1_conv2").kernel.numpy()
    assert np.array_equal(conv[1, 1, :, :], np.eye(64))  # identity initialisation: 64 -> 64 channels
    assert np.all(conv[0, 0] == 0) and np.all(conv[2, 2] == 0)
    wider = model.get_layer("block2_conv1").kernel.numpy()  # 64 -> 256: the first 64 filters are identity
    assert np.array_equal(wider[1, 1, :, :64], np.eye(64)) and np.abs(wider[..., 64:]).max() > 0


def test_airbench_small_widths_any_size_and_errors():
    model = models.airbench(input_shape=(64, 48, 3), widths=(8, 16, 16), num_classes=2)
    assert model.count_params() == airbench_params((8, 16, 16), num_classes=2)
    out = model(np.zeros((2, 64, 48, 3), "float32"), training=False)
    assert out.shape == (2, 2) and np.allclose(np.sum(out, axis=1), 1, atol=1e-5)
    with pytest.raises(ValueError, match="3 numbers"):
        models.airbench(widths=(8, 16))


def test_airbench_normalises_with_the_given_statistics():
    model = models.airbench(widths=(8, 8, 8), mean=(0.5, 0.5, 0.5), std=(0.25, 0.25, 0.25))
    norm = keras.Model(model.input, model.get_layer("normalize").output)
    out = norm(np.full((1, 32, 32, 3), 255 * 0.75, "float32")).numpy()
    assert np.allclose(out, 1.0, atol=1e-5)  # (0.75 - 0.5) / 0.25


def test_airbench_weight_decay_is_coupled_l2_on_kernels_and_shifts():
    model = models.airbench(widths=(8, 8, 8), weight_decay=2e-3)
    regs = {type(r).__name__: float(r.l2) for layer in model.layers
            for r in [getattr(layer, "kernel_regularizer", None), getattr(layer, "regularizer", None)] if r is not None}
    assert regs == {"L2": 1e-3}
    assert len(model.losses) == 6 + 6 + 1 + 1  # 6 conv kernels, 6 shifts, the whitening shift, the head


def test_airbench_saves_and_loads_with_its_custom_layers(tmp_path):
    from cnnkit import layers as cl

    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (4, 32, 32, 3)).astype("float32")
    kernel = cl.whitening_filters(rng.normal(size=(8, 32, 32, 3)))
    model = models.airbench(widths=(8, 8, 8), whitening_kernel=kernel)
    assert np.array_equal(model.get_layer("whiten").kernel.numpy(), kernel)
    path = tmp_path / "m.keras"
    model.save(path)
    again = keras.models.load_model(path)
    assert np.allclose(model.predict(images, verbose=0), again.predict(images, verbose=0), atol=1e-6)


def test_blood_cells_cnn_is_notebook_03s_improved_model():
    model = models.blood_cells_cnn((64, 64, 3))
    widths = [3, 16, 32, 64, 128]
    by_hand = (sum(3 * 3 * a * b for a, b in zip(widths, widths[1:])) + 4 * sum(widths[1:]) + (128 + 1) * 4)
    assert model.count_params() == by_hand == 98_676 == models.blood_cells_cnn((200, 200, 3)).count_params()
    assert model.name == "bn_gap_augment" and model.output_shape == (None, 4)
    same = models.vgg_style((64, 64, 3), num_classes=4, filters=(16, 32, 64, 128), convs_per_block=1, bn_momentum=0.9,
                            dropout=0.3, name="bn_gap_augment")  # notebook 03's call
    assert [layer.get_config() for layer in model.layers] == [layer.get_config() for layer in same.layers]
