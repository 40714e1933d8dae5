"""The checkers of notebook 01: right answers pass; wrong shapes, values and types get a message that
names the difference without revealing the expected value; strict mode (CI) raises."""

import numpy as np
import pytest

from cnnkit.exercises import ExerciseFailed, nb01


def _reference_conv(image, kernel):
    kh, kw = kernel.shape
    out = np.zeros((image.shape[0] - kh + 1, image.shape[1] - kw + 1))
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = np.sum(image[i:i + kh, j:j + kw] * kernel)
    return out


SOBEL_Y = np.array([[1, 2, 1], [0, 0, 0], [-1, -2, -1]], dtype=float)


# Exercise 1 -------------------------------------------------------------------------------------


def test_conv_params_right(lenient, capsys):
    assert nb01.check_conv_params(5 * 5 * 3 * 16 + 16)
    assert nb01.check_conv_params(np.int64(1216))
    assert "✓" in capsys.readouterr().out


@pytest.mark.parametrize("answer,words", [
    (5 * 5 * 16 + 16, "all input channels"),
    (5 * 5 * 3 * 16, "biases"),
    (5 * 5 * 3 * 16 + 48, "one bias per filter"),
    (10, "too small"),
    (99_999, "too large"),
    ("1216", "whole number"),
    (1216.5, "whole number"),
    ([1216], "whole number"),
])
def test_conv_params_wrong(lenient, answer, words):
    result = nb01.check_conv_params(answer)
    assert not result
    assert words in result.message and result.message.startswith("✗")
    assert "1216" not in result.message and "1,216" not in result.message


def test_conv_params_strict_raises():
    with pytest.raises(ExerciseFailed, match="too small"):
        nb01.check_conv_params(10)


# Exercise 2 -------------------------------------------------------------------------------------


def test_my_conv2d_right(lenient):
    assert nb01.check_my_conv2d(_reference_conv)


def test_my_conv2d_wrong_shape(lenient):
    def same_size(image, kernel):
        return np.zeros(image.shape)

    result = nb01.check_my_conv2d(same_size)
    assert not result and "returned shape" in result.message and "entirely inside the image" in result.message
    # exercise 2 comes before padding, stride and cross-correlation are taught: the message must not lean on them
    for later_term in ("padding", "stride", "correlation", "output-size formula"):
        assert later_term not in result.message


def test_my_conv2d_flipped_kernel(lenient):
    result = nb01.check_my_conv2d(lambda image, kernel: _reference_conv(image, kernel[::-1, ::-1]))
    assert not result and "rotated by 180°" in result.message
    assert "correlation" not in result.message and "convolution" not in result.message


def test_my_conv2d_wrong_values(lenient):
    result = nb01.check_my_conv2d(lambda image, kernel: _reference_conv(image, kernel) + 1)
    assert not result and "values differ" in result.message
    assert "30" not in result.message


def test_my_conv2d_wrong_type_and_errors(lenient):
    assert "should be a function" in nb01.check_my_conv2d(np.zeros((4, 4))).message
    assert "array of numbers" in nb01.check_my_conv2d(lambda image, kernel: "done").message

    def broken(image, kernel):
        raise NotImplementedError("not yet")

    result = nb01.check_my_conv2d(broken)
    assert not result and "raised NotImplementedError" in result.message


def test_my_conv2d_strict_raises():
    with pytest.raises(ExerciseFailed, match="rotated by 180°"):
        nb01.check_my_conv2d(lambda image, kernel: _reference_conv(image, kernel[::-1, ::-1]))


# Exercise 3 -------------------------------------------------------------------------------------


@pytest.mark.parametrize("kernel", [SOBEL_Y, SOBEL_Y / 4, [[1, 1, 1], [0, 0, 0], [-1, -1, -1]],
                                    [[0, 0, 0], [1, 1, 1], [-1, -1, -1]]])
def test_horizontal_edge_kernel_right(lenient, kernel):
    assert nb01.check_horizontal_edge_kernel(np.asarray(kernel, dtype=float))


@pytest.mark.parametrize("kernel,words", [
    (np.ones((2, 2)), "shape"),
    (SOBEL_Y[None], "shape"),
    (SOBEL_Y + 1, "flat"),
    (SOBEL_Y.T, "vertical edges"),
    (-SOBEL_Y, "negative response"),
    (np.zeros((3, 3)), "zero response"),
    (np.array([[1, 1, 1], [-2, -2, -2], [1, 1, 1]], dtype=float), "negative values"),
    (np.array([[np.nan] * 3] * 3), "NaN"),
    ("sobel", "array of numbers"),
    (None, "array of numbers"),
])
def test_horizontal_edge_kernel_wrong(lenient, kernel, words):
    result = nb01.check_horizontal_edge_kernel(kernel)
    assert not result and words in result.message


def test_horizontal_edge_kernel_strict_raises():
    with pytest.raises(ExerciseFailed, match="vertical edges"):
        nb01.check_horizontal_edge_kernel(SOBEL_Y.T)


# Exercise 4 -------------------------------------------------------------------------------------


def test_output_sizes_right(lenient):
    assert nb01.check_output_sizes((32 - 5) // 2 + 1, 16)


@pytest.mark.parametrize("valid,same,words", [
    (15, 16, "'valid' output size is too large"),
    (28, 16, "'valid' output size is too large"),
    (13, 16, "'valid' output size is too small"),
    (14, 32, "'same' output size is too large"),
    (14, 15, "'same' output size is too small"),
    (14.5, 16, "whole number"),
    (14, "16", "whole number"),
])
def test_output_sizes_wrong(lenient, valid, same, words):
    result = nb01.check_output_sizes(valid, same)
    assert not result and words in result.message
    assert "14" not in result.message and "16" not in result.message


def test_output_sizes_strict_raises():
    with pytest.raises(ExerciseFailed, match="'same' output size"):
        nb01.check_output_sizes(14, 32)
