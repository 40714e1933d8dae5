"""Notebook 06's models: the article's cats-vs-dogs classifier and the better small CNN."""

import keras
import numpy as np
import pytest
from keras import layers

from cnnkit import models


def _by_hand_seed(size):
    pooled = (size - 2) // 2  # 3x3 'valid' conv, then 2x2 max-pool
    return (3 * 3 * 3 + 1) * 32 + (pooled * pooled * 32 + 1) * 128 + (128 + 1)


@pytest.mark.parametrize("size, expected", [(64, 3_937_409), (128, 16_258_177), (33, None)])
def test_seed_cats_dogs_parameter_count(size, expected):
    model = models.seed_cats_dogs((size, size, 3))
    assert model.count_params() == _by_hand_seed(size)
    if expected is not None:
        assert model.count_params() == expected


def test_seed_cats_dogs_layers():
    model = models.seed_cats_dogs((64, 64, 3))
    assert model.output_shape == (None, 1)
    assert model.layers[-1].activation.__name__ == "sigmoid"
    assert isinstance(model.layers[0], layers.Rescaling)
    conv = next(layer for layer in model.layers if isinstance(layer, layers.Conv2D))
    assert conv.kernel_size == (3, 3) and conv.strides == (1, 1)  # what the article meant, not stride 3
    assert conv.output.shape == (None, 62, 62, 32)


def test_seed_cats_dogs_augment_runs_first_and_only_in_training():
    aug = models.augmentation(flip="horizontal", zoom=0.2, seed=0)
    model = models.seed_cats_dogs((32, 32, 3), augment=aug)
    assert model.layers[0] is aug and isinstance(model.layers[1], layers.Rescaling)
    x = np.random.default_rng(0).integers(0, 256, size=(4, 32, 32, 3)).astype("float32")
    a, b = model(x, training=False), model(x, training=False)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(b))


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
    assert model.get_layer("output").activation.__name__ == "sigmoid"
    assert isinstance(model.layers[0], layers.Rescaling)
    assert model.get_layer("block2_pool").output.shape == (None, 16, 16, 16)
    assert not model.get_layer("block1_conv").use_bias  # batch norm supplies the shift
    assert model.get_layer("block1_bn").momentum == 0.9  # moving statistics that settle on small data
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
