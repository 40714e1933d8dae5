"""cnnkit.ops against TensorFlow and Keras on random inputs of many shapes, strides and paddings."""

import warnings

import keras
import numpy as np
import pytest
import tensorflow as tf
from hypothesis import given, settings
from hypothesis import strategies as st

from cnnkit import ops

FAST = settings(max_examples=30, deadline=None)


@st.composite
def conv_case(draw):
    """An image, a kernel, a stride and a padding that TensorFlow accepts (the kernel fits for 'valid')."""
    padding = draw(st.sampled_from(["valid", "same"]))
    h, w = draw(st.integers(1, 12)), draw(st.integers(1, 12))
    kh = draw(st.integers(1, h if padding == "valid" else 6))
    kw = draw(st.integers(1, w if padding == "valid" else 6))
    stride = draw(st.one_of(st.integers(1, 4), st.tuples(st.integers(1, 4), st.integers(1, 4))))
    cin, cout = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(h, w, cin)).astype("float32")
    k = rng.normal(size=(kh, kw, cin, cout)).astype("float32")
    return x, k, stride, padding


def _strides(stride):
    return (stride, stride) if isinstance(stride, int) else tuple(stride)


def tf_conv(x, k, stride, padding):
    return tf.nn.conv2d(x[None], k, strides=[1, *_strides(stride), 1], padding=padding.upper())[0].numpy()


@FAST
@given(conv_case())
def test_conv2d_matches_tf_nn_conv2d(case):
    x, k, stride, padding = case
    expected = tf_conv(x, k, stride, padding)
    got = ops.conv2d(x, k, stride=stride, padding=padding)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)
    sh, sw = _strides(stride)
    assert got.shape[:2] == (ops.output_size(x.shape[0], k.shape[0], sh, padding),
                             ops.output_size(x.shape[1], k.shape[1], sw, padding))


@pytest.mark.parametrize("n,k,s", [(7, 2, 1), (7, 4, 2), (8, 2, 2), (9, 4, 3), (5, 6, 1), (6, 2, 4), (28, 3, 2),
                                   (32, 4, 2)])
def test_conv2d_same_uneven_padding_for_even_kernels(n, k, s):
    rng = np.random.default_rng(n * 100 + k * 10 + s)
    x = rng.normal(size=(n, n + 1, 2)).astype("float32")
    kern = rng.normal(size=(k, k, 2, 3)).astype("float32")
    np.testing.assert_allclose(ops.conv2d(x, kern, s, "same"), tf_conv(x, kern, s, "same"), rtol=1e-4, atol=1e-4)
    total = max((-(-n // s) - 1) * s + k - n, 0)
    assert ops.same_padding(n, k, s) == (total // 2, total - total // 2)


def test_conv2d_2d_inputs_and_mixed_ranks():
    rng = np.random.default_rng(0)
    x2 = rng.normal(size=(6, 7))
    k2 = rng.normal(size=(3, 2))
    full = tf_conv(x2[..., None].astype("float32"), k2[..., None, None].astype("float32"), 2, "same")
    out = ops.conv2d(x2, k2, stride=2, padding="same")
    assert out.shape == full.shape[:2]
    np.testing.assert_allclose(out, full[..., 0], rtol=1e-5, atol=1e-5)
    k4 = rng.normal(size=(3, 3, 1, 4))
    assert ops.conv2d(x2, k4).shape == (4, 5, 4)  # a 2-D image is one channel
    assert ops.conv2d(x2[..., None], k2).shape == (4, 6, 1)  # a 2-D kernel is one filter
    assert ops.conv2d(x2.astype("uint8"), k2).dtype == np.float64


def test_conv2d_equals_keras_conv2d_with_set_weights():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(9, 8, 3)).astype("float32")
    k = rng.normal(size=(3, 3, 3, 4)).astype("float32")
    layer = keras.layers.Conv2D(4, 3, strides=2, padding="same", use_bias=False)
    layer.build((None, 9, 8, 3))
    layer.set_weights([k])
    np.testing.assert_allclose(ops.conv2d(x, k, 2, "same"), layer(x[None])[0].numpy(), rtol=1e-4, atol=1e-4)


def test_conv2d_is_cross_correlation_not_convolution():
    x = np.zeros((5, 5))
    x[2, 2] = 1.0  # an impulse: cross-correlation shows the kernel rotated by 180 degrees
    k = np.arange(9.0).reshape(3, 3)
    np.testing.assert_array_equal(ops.conv2d(x, k, padding="same"), np.pad(k[::-1, ::-1], 1))


@st.composite
def pool_case(draw):
    padding = draw(st.sampled_from(["valid", "same"]))
    h, w = draw(st.integers(1, 11)), draw(st.integers(1, 11))
    ph = draw(st.integers(1, h if padding == "valid" else 5))
    pw = draw(st.integers(1, w if padding == "valid" else 5))
    stride = draw(st.one_of(st.none(), st.integers(1, 4), st.tuples(st.integers(1, 4), st.integers(1, 4))))
    c = draw(st.integers(1, 3))
    x = np.random.default_rng(draw(st.integers(0, 2**31 - 1))).normal(size=(h, w, c)).astype("float32")
    return x, (ph, pw), stride, padding


@FAST
@given(pool_case())
def test_pool2d_matches_keras_pooling_layers(case):
    x, size, stride, padding = case
    for mode, layer_cls in (("max", keras.layers.MaxPooling2D), ("avg", keras.layers.AveragePooling2D)):
        expected = layer_cls(pool_size=size, strides=stride, padding=padding)(x[None])[0].numpy()
        got = ops.pool2d(x, size, stride, mode, padding)
        assert got.shape == expected.shape, mode
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5, err_msg=mode)
    minimum = keras.layers.MaxPooling2D(pool_size=size, strides=stride, padding=padding)(-x[None])[0].numpy()
    np.testing.assert_allclose(ops.pool2d(x, size, stride, "min", padding), -minimum, rtol=1e-6, atol=1e-6)


def test_pool2d_by_hand_and_2d_input():
    x = np.array([[1, 3, 2, 9], [5, 4, 0, 1], [7, 2, 6, 8], [0, 1, 3, 4]], dtype=float)
    np.testing.assert_array_equal(ops.pool2d(x), [[5, 9], [7, 8]])
    np.testing.assert_array_equal(ops.pool2d(x, mode="avg"), [[3.25, 3], [2.5, 5.25]])
    np.testing.assert_array_equal(ops.pool2d(x, mode="min"), [[1, 0], [0, 3]])
    # 'same' average pooling divides by the real values only: the corner window of a 3x3 image
    y = np.arange(9.0).reshape(3, 3)
    np.testing.assert_array_equal(ops.pool2d(y, 2, padding="same", mode="avg"), [[2, 3.5], [6.5, 8]])
    assert ops.pool2d(y[..., None], 2, padding="same").shape == (2, 2, 1)


ACTIVATIONS = ["relu", "leaky_relu", "sigmoid", "tanh", "softmax"]


@settings(max_examples=25, deadline=None)
@given(st.lists(st.floats(-50, 50), min_size=1, max_size=12), st.sampled_from(ACTIVATIONS))
def test_activations_match_keras(values, name):
    x = np.array(values, dtype="float32").reshape(1, -1)
    expected = keras.ops.convert_to_numpy(getattr(keras.activations, name)(x))
    np.testing.assert_allclose(getattr(ops, name)(x), expected, rtol=1e-5, atol=1e-6)


def test_softmax_axis_and_leaky_slope():
    x = np.random.default_rng(2).normal(size=(3, 4, 5)) * 10
    for axis in (0, 1, -1):
        expected = keras.ops.convert_to_numpy(keras.activations.softmax(x, axis=axis))
        np.testing.assert_allclose(ops.softmax(x, axis=axis), expected, rtol=1e-6, atol=1e-9)
        np.testing.assert_allclose(ops.softmax(x, axis=axis).sum(axis=axis), 1.0)
    expected = keras.ops.convert_to_numpy(keras.activations.leaky_relu(x, negative_slope=0.1))
    np.testing.assert_allclose(ops.leaky_relu(x, negative_slope=0.1), expected, rtol=1e-6)
    assert ops.leaky_relu(-10.0) == pytest.approx(-2.0)  # keras.activations.leaky_relu's default slope is 0.2
    default = keras.ops.convert_to_numpy(keras.activations.leaky_relu(np.array([-10.0])))
    np.testing.assert_allclose(ops.leaky_relu(np.array([-10.0])), default)
    # ... but the layer's default differs (notebook 02 says so)
    layer_out = keras.ops.convert_to_numpy(keras.layers.LeakyReLU()(np.array([[-10.0]], dtype="float32")))
    assert layer_out[0, 0] == pytest.approx(-3.0)


@pytest.mark.parametrize("n,k,s,pads", [(28, 3, 1, (1, 1)), (7, 4, 1, (1, 2)), (28, 3, 2, (0, 1)), (32, 4, 2, (1, 1)),
                                        (32, 5, 2, (1, 2)), (6, 1, 1, (0, 0))])
def test_same_padding_odd_total_puts_the_extra_zero_at_the_end(n, k, s, pads):
    assert ops.same_padding(n, k, s) == pads
    before, after = pads
    assert after - before == (before + after) % 2
    if s == 1:
        assert before + after == k - 1  # at stride 1 the total is k - 1: uneven exactly for even kernels


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_activations_are_numerically_stable(dtype):
    with np.errstate(all="raise"), warnings.catch_warnings():
        warnings.simplefilter("error")
        s = ops.softmax(np.array([1000.0, 0.0], dtype=dtype))
        np.testing.assert_allclose(s, [1.0, 0.0])
        np.testing.assert_allclose(ops.softmax(np.array([-1000.0, 0.0, 1000.0], dtype=dtype)), [0, 0, 1])
        sig = ops.sigmoid(np.array([-1000.0, -50.0, 0.0, 50.0, 1000.0], dtype=dtype))
        assert np.all(np.isfinite(sig))
        np.testing.assert_allclose(sig, [0.0, 1.9287498e-22, 0.5, 1.0, 1.0], rtol=1e-6, atol=0)
        assert np.isfinite(ops.sigmoid(-1000.0)) and ops.sigmoid(-1000.0) == 0.0
        np.testing.assert_array_equal(ops.tanh(np.array([-1000.0, 1000.0], dtype=dtype)), [-1.0, 1.0])
        assert ops.relu(-1000.0) == 0.0


def test_output_size():
    assert ops.output_size(6, 3) == 4
    assert ops.output_size(50, 3) == 48
    assert ops.output_size(7, 3, 2) == 3
    assert ops.output_size(7, 3, 2, "same") == 4
    assert ops.output_size(256, 3) == 254
    assert ops.output_size(28, 2, 2) == 14
    assert ops.output_size(5, 9, 1, "same") == 5


def test_grey_matches_tf_rgb_to_grayscale():
    rng = np.random.default_rng(3)
    rgb = rng.integers(0, 256, size=(2, 5, 7, 3)).astype("float32")
    ours = ops.grey(rgb)
    assert ours.shape == (2, 5, 7) and ours.dtype == np.float64
    np.testing.assert_allclose(ours, tf.image.rgb_to_grayscale(rgb).numpy()[..., 0], atol=0.05)
    assert ops.grey(np.array([255, 255, 255])) == pytest.approx(255.0)  # the weights sum to 1
    assert ops.grey(np.array([1.0, 0.0, 0.0])) == pytest.approx(0.299)


ERRORS = [
    (lambda: ops.conv2d(np.zeros(5), np.zeros((3, 3))), "x must be"),
    (lambda: ops.conv2d(np.zeros((2, 5, 5, 1)), np.zeros((3, 3))), "x must be"),
    (lambda: ops.conv2d(np.zeros((5, 5)), np.zeros((3, 3, 1))), "kernel must"),
    (lambda: ops.conv2d(np.zeros((5, 5, 3)), np.zeros((3, 3, 2, 4))), "channel mismatch"),
    (lambda: ops.conv2d(np.zeros((5, 5, 3)), np.zeros((3, 3))), "channel mismatch"),
    (lambda: ops.conv2d(np.zeros((2, 5)), np.zeros((3, 3))), "cannot be larger"),
    (lambda: ops.conv2d(np.zeros((5, 5)), np.zeros((3, 3)), padding="full"), "padding"),
    (lambda: ops.conv2d(np.zeros((5, 5)), np.zeros((3, 3)), stride=0), "stride"),
    (lambda: ops.conv2d(np.zeros((5, 5)), np.zeros((3, 3)), stride=-1), "stride"),
    (lambda: ops.conv2d(np.zeros((5, 5)), np.zeros((3, 3)), stride=1.5), "stride"),
    (lambda: ops.conv2d(np.zeros((5, 5)), np.zeros((3, 3)), stride=(1, 0)), "stride"),
    (lambda: ops.conv2d(np.zeros((5, 0)), np.zeros((3, 3))), "length 0"),
    (lambda: ops.conv2d(np.array([["a"]]), np.zeros((1, 1))), "numbers"),
    (lambda: ops.pool2d(np.zeros(5)), "x must be"),
    (lambda: ops.pool2d(np.zeros((1, 4, 4, 1))), "x must be"),
    (lambda: ops.pool2d(np.zeros((4, 4)), mode="median"), "mode"),
    (lambda: ops.pool2d(np.zeros((4, 4)), padding="causal"), "padding"),
    (lambda: ops.pool2d(np.zeros((4, 4)), size=5), "cannot be larger"),
    (lambda: ops.pool2d(np.zeros((4, 4)), size=0), "size"),
    (lambda: ops.pool2d(np.zeros((4, 4)), stride=0), "stride"),
    (lambda: ops.output_size(5, 6), "cannot be larger"),
    (lambda: ops.output_size(5, 3, 0), "stride"),
    (lambda: ops.output_size(5, 3, padding="half"), "padding"),
    (lambda: ops.softmax(3.0), "scalar"),
    (lambda: ops.grey(np.zeros((4, 4))), "3 channels"),
    (lambda: ops.grey(np.zeros((4, 4, 4))), "3 channels"),
]


@pytest.mark.parametrize("call,words", ERRORS, ids=[f"error{i}" for i in range(len(ERRORS))])
def test_clear_value_errors(call, words):
    with pytest.raises(ValueError, match=words):
        call()
