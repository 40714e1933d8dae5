"""cnnkit.layers: the scaled bias, the identity initialiser and the whitening filters."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from cnnkit.layers import IdentityInit, ScaledBias, whitening_filters


def test_scaled_bias_adds_scale_times_the_weight_and_learns_scale_squared_faster():
    layer = ScaledBias(8.0)
    x = np.zeros((2, 3), "float32")
    layer(x)
    layer.v.assign([0.5, -1.0, 0.0])
    assert np.allclose(layer(x).numpy(), [[4.0, -8.0, 0.0]] * 2)
    plain = ScaledBias(1.0)
    plain(x)
    for lay in (layer, plain):
        lay.v.assign([0.0, 0.0, 0.0])
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(lay(x + 1.0))
        keras.optimizers.SGD(0.01).apply(tape.gradient(loss, [lay.v]), [lay.v])
    # one SGD step on the same loss moves the bias 64 times as far
    assert np.allclose(layer(x).numpy() / plain(x).numpy(), 64.0)


def test_scaled_bias_config_round_trip():
    layer = ScaledBias(4.0, regularizer=keras.regularizers.L2(1e-3), name="s")
    again = ScaledBias.from_config(layer.get_config())
    assert again.scale == 4.0 and float(again.regularizer.l2) == pytest.approx(1e-3)


def test_identity_init_passes_channels_through_and_is_random_elsewhere():
    w = keras.ops.convert_to_numpy(IdentityInit(seed=1)((3, 3, 4, 6)))
    assert np.array_equal(w[1, 1, :, :4], np.eye(4)) and np.all(w[0, :, :, :4] == 0)
    assert np.abs(w[..., 4:]).max() <= 1 / np.sqrt(36) + 1e-7 and np.abs(w[..., 4:]).max() > 0
    x = np.random.default_rng(0).normal(size=(1, 5, 5, 4)).astype("float32")
    conv = keras.layers.Conv2D(4, 3, padding="same", use_bias=False, kernel_initializer=IdentityInit())
    assert np.allclose(conv(x).numpy(), x, atol=1e-6)  # 4 -> 4 channels: the identity map
    with pytest.raises(ValueError, match="Conv2D kernels"):
        IdentityInit()((3, 4))
    assert IdentityInit.from_config(IdentityInit(seed=3).get_config()).seed == 3


def test_whitening_filters_decorrelate_patches():
    rng = np.random.default_rng(0)
    # correlated channels: patches of these images have a far-from-identity covariance
    base = rng.normal(size=(64, 16, 16, 1))
    images = np.concatenate([base, base + 0.1 * rng.normal(size=base.shape), rng.normal(size=base.shape)], -1)
    k = whitening_filters(images, eps=1e-6)
    assert k.shape == (2, 2, 3, 24) and k.dtype == np.float32
    out = tf.nn.conv2d(images.astype("float32"), k, 1, "VALID").numpy().reshape(-1, 24)[:, :12]
    cov = out.T @ out / len(out)
    assert np.allclose(cov, np.eye(12), atol=2e-3)
    assert np.allclose(k[..., 12:], -k[..., :12])  # the negatives follow


def test_whitening_filters_sorted_by_variance_and_bad_input():
    rng = np.random.default_rng(1)
    images = rng.normal(size=(16, 8, 8, 3)) * np.array([3.0, 1.0, 0.2])
    k = whitening_filters(images, eps=0.0)
    gains = np.linalg.norm(k[..., :12].reshape(12, 12), axis=0)
    assert np.all(np.diff(gains) >= -1e-6)  # largest variance first = smallest gain first
    with pytest.raises(ValueError, match="N, H, W, C"):
        whitening_filters(np.zeros((8, 8, 3)))
    with pytest.raises(ValueError, match="patch"):
        whitening_filters(np.zeros((2, 1, 1, 3)))
