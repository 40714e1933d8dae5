"""cnnkit.exercises: the building blocks every checker uses, and the one recall checker."""

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
    assert isinstance(result, ex.Check) and result.ok
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


def test_report_prints_once_and_raises_only_in_strict_mode(capsys, monkeypatch):
    right = ex.report(True, "Correct: the count is right.")
    assert right and right.message == "✓ Correct: the count is right." and capsys.readouterr().out.count("✓") == 1
    wrong = ex.report(False, "the count is too small.", quiet=True)
    assert not wrong and wrong.message == "✗ the count is too small." and capsys.readouterr().out == ""
    monkeypatch.setenv("CNNKIT_STRICT_CHECKS", "1")
    with pytest.raises(ex.ExerciseFailed, match="too small"):
        ex.report(False, "the count is too small.")


def test_as_array_and_typename():
    import tensorflow as tf

    assert ex.as_array([1, 2]).tolist() == [1, 2]
    assert ex.as_array(tf.constant([1.5])).tolist() == [1.5]
    assert ex.as_array(np.array([True, False])).dtype == bool
    # a mixed-precision model's tensors are bfloat16, which NumPy does not count as a number type
    half = ex.as_array(tf.constant([1.5, -2.0], dtype=tf.bfloat16))
    assert half.dtype == np.float32 and half.tolist() == [1.5, -2.0]
    for not_numbers in (None, "12", b"12", {"a": 1}, {1, 2}, [1, "a"], [[1, 2], [3]]):
        assert ex.as_array(not_numbers) is None
    assert ex.typename("x") == "str" and ex.typename(np.zeros(2)) == "ndarray"


def test_quietly_and_text_of_let_a_checker_report_in_its_own_words(capsys, monkeypatch):
    monkeypatch.setenv("CNNKIT_STRICT_CHECKS", "1")
    result = ex.quietly(ex.check_int, 3, 4, name="n")  # no exception, nothing printed, even in strict mode
    assert not result and ex.text_of(result) == "n is too small." and capsys.readouterr().out == ""


# ------------------------------------------------------------------------------------------ check_recall

CM = np.array([[8, 2, 0, 1], [1, 6, 1, 0], [4, 3, 9, 2], [0, 0, 1, 7]])  # row and column totals differ


def test_recall_right(capsys):
    assert ex.check_recall(np.diag(CM) / CM.sum(axis=1), CM)
    assert ex.check_recall(list(np.diag(CM) / CM.sum(axis=1)), CM)
    assert "✓" in capsys.readouterr().out


def test_recall_confused_with_precision_is_named():
    res = ex.check_recall(np.diag(CM) / CM.sum(axis=0), CM)
    assert not res and "looks like precision" in res.message and "NaN" not in res.message
    assert no_secret_values(res, np.diag(CM) / CM.sum(axis=1))


def test_recall_precision_with_nan_is_named():
    cm = np.array([[5, 0, 1], [2, 0, 3], [0, 0, 4]])  # class 1 never predicted: an empty column
    with np.errstate(divide="ignore", invalid="ignore"):
        res = ex.check_recall(np.diag(cm) / cm.sum(axis=0), cm)
    assert not res and "looks like precision" in res.message and "predicted totals" in res.message
    assert "NaN" in res.message


def test_recall_in_percent_gets_a_hint():
    res = ex.check_recall(100 * np.diag(CM) / CM.sum(axis=1), CM)
    assert not res and "fraction" in res.message
    assert no_secret_values(res, np.diag(CM) / CM.sum(axis=1))


def test_recall_wrong_shape_value_and_type():
    res = ex.check_recall(np.diag(CM)[:3] / 10, CM)
    assert not res and "shape" in res.message
    res = ex.check_recall(np.diag(CM) / CM.sum(axis=1, keepdims=True), CM)  # (4, 4) by broadcasting
    assert not res and "shape (4, 4)" in res.message and "(4,)" in res.message
    wrong = np.diag(CM) / CM.sum(axis=1)
    wrong[1] = 0.9
    res = ex.check_recall(wrong, CM)
    assert not res and "values differ" in res.message and no_secret_values(res, np.diag(CM) / CM.sum(axis=1))
    res = ex.check_recall(np.diag(CM) / CM.sum(), CM)  # divided by the grand total
    assert not res and "values differ" in res.message
    for answer, name in [("0.8 0.75", "str"), ({"a": 1}, "dict")]:
        res = ex.check_recall(answer, CM)
        assert not res and "array" in res.message and name in res.message


def test_recall_of_a_class_without_examples_is_zero():
    cm = np.array([[3, 1], [0, 0]])
    assert ex.check_recall(np.array([0.75, 0.0]), cm)


def test_recall_needs_a_square_matrix():
    with pytest.raises(ValueError, match="square"):
        ex.check_recall(np.ones(3), np.ones((3, 4)))


def test_recall_strict_raises(monkeypatch):
    monkeypatch.setenv("CNNKIT_STRICT_CHECKS", "1")
    with pytest.raises(ex.ExerciseFailed):
        ex.check_recall(np.zeros(4), CM)


def no_secret_values(res, values):
    return not any(f"{v:.2f}" in res.message or f"{v:.3f}" in res.message for v in values)


# ---------------------------------------------------------------- building blocks for "build" exercises

def _tiny(frozen=False, flip=True):
    import keras
    from keras import layers

    inner = [keras.Sequential([layers.RandomFlip("horizontal")], name="augment")] if flip else []
    model = keras.Sequential([keras.Input((4, 4, 1)), *inner, layers.Flatten(), layers.Dense(2, activation="softmax")])
    model.trainable = not frozen
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="sparse_categorical_crossentropy")
    return model


def test_layers_of_unpacks_nested_models_and_input_shape():
    import keras

    from cnnkit.exercises import input_shape, layers_of

    model = _tiny()
    assert [type(layer).__name__ for layer in layers_of(model)] == ["RandomFlip", "Flatten", "Dense"]
    assert input_shape(model) == (None, 4, 4, 1)
    assert input_shape(keras.Sequential([keras.layers.Dense(2)])) is None  # no keras.Input: no shape yet


@pytest.mark.filterwarnings("ignore:The model does not have any trainable weights")
def test_short_run_reports_the_loss_before_and_after():
    from cnnkit.exercises import short_run

    x = np.random.default_rng(0).normal(size=(16, 4, 4, 1)).astype("float32")
    y = (x.mean(axis=(1, 2, 3)) > 0).astype("int32")
    before, after, problem = short_run(_tiny(), x, y, steps=20, fall=0.2)
    assert problem is None and after < 0.8 * before
    before, after, problem = short_run(_tiny(frozen=True, flip=False), x, y, steps=3)
    assert np.isclose(before, after) and problem.startswith("the loss did not fall")  # nothing can train


def test_short_run_reports_errors_and_nan_in_one_sentence():
    from cnnkit.exercises import short_run

    x = np.zeros((4, 4, 4, 1), "float32")
    before, after, problem = short_run(_tiny(), x, np.zeros((4, 3)), steps=2)  # labels of the wrong shape
    assert before is None and problem.startswith("training raised ")
    before, after, problem = short_run(_tiny(), np.full((4, 4, 4, 1), np.nan, "float32"), np.zeros(4, "int32"), 2)
    assert before is None and "nan" in problem


def _raised(build):
    try:
        build()
    except Exception as err:  # noqa: BLE001 - the test wants whatever Keras raises
        return err
    raise AssertionError("building the model did not raise")


def _layer_fed_to_a_layer():
    import keras
    from keras import layers

    inputs = keras.Input((8, 8, 1))  # noqa: F841 - the learner's mistake: never used
    x = layers.Conv2D(4, 3)  # created, never called on `inputs`
    return layers.Flatten()(x)


def _layer_as_model_output():
    import keras
    from keras import layers

    inputs = keras.Input((8, 8, 1))
    x = layers.Flatten()(inputs)  # noqa: F841 - the learner's mistake: never used
    outputs = layers.Dense(2)  # created, never called on `x`
    return keras.Model(inputs, outputs)


@pytest.mark.parametrize("build, kind", [(_layer_fed_to_a_layer, "Conv2D"), (_layer_as_model_output, "Dense")])
def test_error_clause_names_a_layer_created_but_never_called(build, kind):
    err = _raised(build)
    assert isinstance(err, ValueError)  # Keras's raw error, which the clause replaces
    clause = ex.error_clause(err)
    assert f"the {kind} layer '" in clause and "created but never called on a tensor" in clause
    assert "positional" not in clause and "KerasTensor" not in clause


def test_error_clause_of_any_other_error_is_its_type_and_first_line():
    assert ex.error_clause(TypeError("bad argument\nmore detail")) == "TypeError (bad argument)"
    assert ex.error_clause(ValueError("x" * 500)) == f"ValueError ({'x' * 160})"
    # a ValueError that merely shows a layer is not mistaken for a layer that was never called
    assert "never called" not in ex.error_clause(ValueError("Input 0 of <Dense name=d, built=True> is bad"))


def test_model_checkers_of_every_notebook_name_a_layer_never_called():
    """nb05's group builder and nb06's model builder run the learner's functional-API code: a layer created but
    not called gets one plain sentence there, not Keras's raw ValueError."""
    import keras
    from keras import layers

    from cnnkit.exercises import nb05, nb06

    def conv_group(x, width, block):
        x = layers.Conv2D(width, 3, padding="same")  # forgot (x)
        return layers.MaxPooling2D(2)(x)

    res = nb05.check_conv_group(conv_group, np.zeros((4, 32, 32, 3), "uint8"), np.zeros(4, "int32"))
    assert not res and "created but never called" in res.message and "Conv2D" in res.message

    def small_binary_cnn(input_shape):
        inputs = keras.Input(input_shape)
        x = layers.Rescaling(1 / 255)(inputs)  # noqa: F841 - the learner's mistake: never used
        outputs = layers.Dense(1, activation="sigmoid")  # forgot (x)
        return keras.Model(inputs, outputs)

    res = nb06.check_small_cnn(small_binary_cnn, np.zeros((4, 32, 32, 3), "uint8"), np.zeros(4), (32, 32, 3), 1e-3)
    assert not res and "created but never called" in res.message and "Dense" in res.message
