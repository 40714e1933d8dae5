"""The models of notebook 04: the source's LeNet-style network and the improved CNN."""

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from cnnkit import models  # noqa: E402


def test_lenet5_matches_the_source():
    model = models.lenet5(input_shape=(28, 28, 1), num_classes=10)
    assert model.name == "lenet5"
    assert model.count_params() == 107_786
    per_layer = {"c1": 156, "c3": 2_416, "f5": 94_200, "f6": 10_164, "output": 850}
    for name, n in per_layer.items():
        assert model.get_layer(name).count_params() == n
    assert model.get_layer("flatten").output.shape == (None, 784)
    assert model.compute_output_shape((None, 28, 28, 1)) == (None, 10)
    assert isinstance(model.layers[0], keras.layers.Rescaling)


def test_lenet5_predicts_probabilities_from_raw_pixels():
    model = models.lenet5()
    x = np.random.default_rng(0).integers(0, 256, size=(3, 28, 28, 1), dtype=np.uint8)
    p = model.predict(x, verbose=0)
    assert p.shape == (3, 10) and np.allclose(p.sum(axis=1), 1, atol=1e-5)


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
    for name in ("bn1", "bn2", "bn3", "bn4", "bn_dense"):
        assert model.get_layer(name).momentum == pytest.approx(0.9)
    for name, width in [("conv1", 32), ("conv2", 32), ("conv3", 64), ("conv4", 64)]:
        conv = model.get_layer(name)
        assert conv.filters == width and conv.kernel_size == (3, 3) and not conv.use_bias
    # two 3x3 convolutions per stage, then a pool: the stages end at 14x14 and 7x7
    assert model.get_layer("pool1").output.shape == (None, 14, 14, 32)
    assert model.get_layer("pool2").output.shape == (None, 7, 7, 64)
    assert [layer.name for layer in model.layers if "conv" in layer.name or "pool" in layer.name] == [
        "conv1", "conv2", "pool1", "conv3", "conv4", "pool2"]


def test_fashion_cnn_one_conv_per_block():
    model = models.fashion_cnn(convs_per_block=1)
    assert model.count_params() == (9 * 32 + 4 * 32) + (9 * 32 * 64 + 4 * 64) + (7 * 7 * 64 * 256 + 4 * 256) + 2570
    assert model.count_params() == 825_514
    with pytest.raises(ValueError, match="convs_per_block"):
        models.fashion_cnn(convs_per_block=0)


def test_fashion_cnn_options():
    plain = models.fashion_cnn(translation=0, flip=False, num_classes=5, filters=(8, 16), dense=32)
    names = [layer.name for layer in plain.layers]
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
