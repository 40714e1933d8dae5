import numpy as np
import pytest

from cnnkit import exercises as ex


@pytest.fixture(autouse=True)
def lenient(monkeypatch):
    monkeypatch.delenv("CNNKIT_STRICT_CHECKS", raising=False)


EXPECTED = np.array([[1.5, -2.0, 3.25], [0.0, 4.0, -1.0]])
SECRET = ["1.5", "3.25", "4.0"]


def no_secret(check):
    return not any(s in check.message for s in SECRET)


def test_check_array_right(capsys):
    result = ex.check_array(EXPECTED.copy(), EXPECTED, name="the map")
    assert result and result.message.startswith("✓") and "✓" in capsys.readouterr().out


@pytest.mark.parametrize("answer,words", [
    (None, "NoneType"), ("text", "str"), ({"a": 1}, "dict"),
    (np.zeros((3, 2)), "shape (3, 2), expected (2, 3)"),
    (np.zeros((2, 2)), "shape (2, 2), expected (2, 3) (the same number of axes"),
    (-EXPECTED, "wrong sign"),
    (EXPECTED[::-1], "flipped"),
    (EXPECTED + np.array([[0, 0, 1], [0, 0, 0]]), "1 of 6 values differ (the first at index (0, 2))"),
    (np.full((2, 3), np.nan), "NaN"),
])
def test_check_array_wrong(answer, words):
    result = ex.check_array(answer, EXPECTED, quiet=True)
    assert not result and result.message.startswith("✗") and words in result.message
    assert no_secret(result)


def test_check_array_transposed_and_tensor():
    import tensorflow as tf

    square = np.array([[1.0, 2.0], [3.0, 4.0]])
    assert "transposed" in ex.check_array(square.T, square, quiet=True).message
    assert ex.check_array(tf.constant(square), square, quiet=True)


def test_check_number_and_int():
    assert ex.check_number(0.5 + 1e-12, 0.5, quiet=True)
    assert "too large" in ex.check_number(0.6, 0.5, quiet=True).message
    assert "too small" in ex.check_number(0.4, 0.5, quiet=True).message
    assert "should be a number" in ex.check_number("0.5", 0.5, quiet=True).message
    assert "finite" in ex.check_number(float("inf"), 0.5, quiet=True).message
    assert ex.check_int(np.int64(250302), 250302, quiet=True)
    assert ex.check_int(250302.0, 250302, quiet=True)
    wrong = ex.check_int(250301, 250302, quiet=True)
    assert "too small" in wrong.message and "250302" not in wrong.message
    assert "whole number" in ex.check_int(2.5, 3, quiet=True).message
    assert "whole number" in ex.check_int(True, 1, quiet=True).message


def test_check_choice():
    assert ex.check_choice(" Max ", "max", ["max", "avg"], quiet=True)
    assert "not the right choice" in ex.check_choice("avg", "max", ["max", "avg"], quiet=True).message
    assert "must be one of" in ex.check_choice("min", "max", ["max", "avg"], quiet=True).message
    assert "a string" in ex.check_choice(3, "max", ["max", "avg"], quiet=True).message


def test_strict_mode_raises(monkeypatch):
    monkeypatch.setenv("CNNKIT_STRICT_CHECKS", "1")
    with pytest.raises(ex.ExerciseFailed, match="too large"):
        ex.check_int(5, 4, quiet=True)
    assert ex.check_int(4, 4, quiet=True)
    assert repr(ex.check_int(4, 4, quiet=True)).startswith("✓")
    assert ex.check_int(4, 4, quiet=True)._ipython_display_() is None  # printed once, not shown again
