"""Checkers of notebook 03: right answers pass, wrong shape / value / type fail with a useful message
that never contains the expected values, and strict mode (CI) raises."""

from pathlib import Path

import nbformat
import numpy as np
import pytest

from cnnkit import student
from cnnkit.exercises import ExerciseFailed, nb03

ROOT = Path(__file__).resolve().parent.parent

CM = np.array([[8, 2, 0, 1], [1, 6, 1, 0], [4, 3, 9, 2], [0, 0, 1, 7]])  # row and column totals differ
SIMPLE = np.array([5, 5, 9, 12, 40, 3])
TRAIN = np.array([1, 2, 5, 7, 9, 9, 100])


def _no_leak(res, *values):
    for v in values:
        assert str(v) not in res.message and f"{v:,}" not in res.message


# ---------------------------------------------------------------- Exercise 3: shared smears

def test_shared_count_helper():
    assert nb03.shared_count(SIMPLE, TRAIN) == 3  # 5, 5 and 9
    assert nb03.shared_count([], TRAIN) == 0


def test_shared_count_right(lenient):
    assert nb03.check_shared_count(3, SIMPLE, TRAIN)
    assert nb03.check_shared_count(np.int64(3), SIMPLE, TRAIN)


def test_shared_count_distinct_smears_is_named(lenient):
    res = nb03.check_shared_count(2, SIMPLE, TRAIN)  # 2 distinct smears (5 and 9), 3 images
    assert not res and "distinct" in res.message and "images" in res.message


def test_shared_count_reversed_isin_is_named(lenient):
    query, train = np.array([5, 9, 40]), np.array([5, 5, 5, 9, 1])  # images: 2 the right way, 4 reversed
    assert nb03.shared_count(query, train) == 2 and nb03.shared_count(train, query) == 4
    assert nb03.check_shared_count(2, query, train)
    res = nb03.check_shared_count(int(np.isin(train, query).sum()), query, train)
    assert not res and "np.isin" in res.message and "wrong way round" in res.message
    _no_leak(res, 2)


def test_shared_count_wrong_value(lenient):
    res = nb03.check_shared_count(4, SIMPLE, TRAIN)
    assert not res and "too large" in res.message
    _no_leak(res, 3)


def test_shared_count_wrong_type(lenient):
    res = nb03.check_shared_count(np.isin(SIMPLE, TRAIN), SIMPLE, TRAIN)  # the mask, not its sum
    assert not res and "whole number" in res.message and "ndarray" in res.message


def test_shared_count_strict_raises(strict):
    with pytest.raises(ExerciseFailed):
        nb03.check_shared_count(0, SIMPLE, TRAIN)


# ---------------------------------------------------------------- Exercise 1: float32 bytes

def test_array_bytes():
    assert nb03.array_bytes(12_500, 200, 200, 3, 4) == 6_000_000_000
    assert nb03.array_bytes(2, 3, 4, 1, 1) == 24


def test_float32_bytes_right(lenient):
    assert nb03.check_float32_bytes(12_500 * 200 * 200 * 3 * 4)
    assert nb03.check_float32_bytes(2 * 10 * 10 * 3 * 4, n_images=2, height=10, width=10)


@pytest.mark.parametrize("answer, phrase", [
    (1_500_000_000, "uint8"),
    (12_000_000_000, "float64"),
    (2_000_000_000, "colour channels"),
    (6_000, "MB or GB"),
    (6, "MB or GB"),
])
def test_float32_bytes_named_mistakes(lenient, answer, phrase):
    res = nb03.check_float32_bytes(answer)
    assert not res and phrase in res.message
    _no_leak(res, 6_000_000_000)


def test_float32_bytes_wrong_value(lenient):
    res = nb03.check_float32_bytes(5_999_999_999)
    assert not res and "too small" in res.message
    _no_leak(res, 6_000_000_000)


def test_float32_bytes_rejects_a_float(lenient):
    res = nb03.check_float32_bytes(6e9)  # right value, but the task asks for an int
    assert not res and "int" in res.message and "float" in res.message
    _no_leak(res, 6_000_000_000)


def test_float32_bytes_wrong_type(lenient):
    res = nb03.check_float32_bytes("6 GB")
    assert not res and "whole number" in res.message and "str" in res.message


def test_float32_bytes_strict_raises(strict):
    with pytest.raises(ExerciseFailed):
        nb03.check_float32_bytes(1)


# ---------------------------------------------------------------- Exercise 2: dense parameters

def test_article_dense_params_matches_keras():
    from cnnkit import models

    for size in (200, 64):
        model = models.article_blood_cells(input_shape=(size, size, 3))
        dense = [layer for layer in model.layers if layer.name.startswith("dense")][0]
        assert dense.count_params() == nb03.article_dense_params(size)
    assert nb03.article_dense_params(200) == 10_240_128


def test_dense_params_right(lenient):
    assert nb03.check_article_dense_params(10_240_128)
    assert nb03.check_article_dense_params(nb03.article_dense_params(64), image_size=64)


def test_dense_params_missing_biases(lenient):
    res = nb03.check_article_dense_params(10_240_000)
    assert not res and "bias" in res.message
    _no_leak(res, 10_240_128)


def test_dense_params_one_pooling_forgotten(lenient):
    res = nb03.check_article_dense_params(nb03.article_dense_params(400))
    assert not res and "halves" in res.message


def test_dense_params_wrong_value(lenient):
    res = nb03.check_article_dense_params(10_250_788)  # the whole model's count
    assert not res and "too large" in res.message
    _no_leak(res, 10_240_128)


def test_dense_params_wrong_type(lenient):
    res = nb03.check_article_dense_params([10_240_128])
    assert not res and "whole number" in res.message and "list" in res.message


def test_dense_params_strict_raises(strict):
    with pytest.raises(ExerciseFailed):
        nb03.check_article_dense_params(0)


# ---------------------------------------------------------------- Exercise 5: recall

def test_recall_is_the_shared_checker():
    from cnnkit import exercises

    assert nb03.check_recall is exercises.check_recall  # tested in test_exercises.py


# ---------------------------------------------------------------- Exercise 4: build, compile, train

@pytest.fixture(scope="module")
def few_images():
    """32 real TRAIN images at 64x64 (8 per class) with their labels, or skip without the data pack."""
    import os

    from cnnkit import data

    if not os.environ.get("CNNKIT_DATA"):
        pytest.skip("CNNKIT_DATA does not point at the offline data pack")
    ds = data.blood_cells("TRAIN", image_size=(64, 64), batch_size=None, shuffle=False, limit_per_class=8, seed=1,
                          verbose=False)
    images, labels = zip(*[(x.numpy(), int(y)) for x, y in ds])
    return np.stack(images), np.array(labels)


BLANK = (np.zeros((4, 64, 64, 3), "float32"), np.arange(4))  # enough for answers that fail before training


def small_cnn(flip="horizontal_and_vertical", filters=16, bias=False, conv_activation=None, padding="same",
              flatten=False, units=4, out="softmax", loss="sparse_categorical_crossentropy", optimizer=None,
              metrics=("accuracy",), compile=True, relu=None, input_shape=(64, 64, 3), functional=False):
    """The spec's model, or one with a typical slip (each argument away from its default is one)."""
    import keras
    from keras import layers

    relu = relu or (lambda: layers.Activation("relu"))
    stack = [layers.RandomFlip(flip), layers.Rescaling(1 / 255),
             layers.Conv2D(filters, 3, padding=padding, use_bias=bias, activation=conv_activation),
             layers.BatchNormalization(), relu(), layers.MaxPooling2D(2),
             layers.Conv2D(32, 3, padding=padding, use_bias=bias), layers.BatchNormalization(), relu(),
             layers.Flatten() if flatten else layers.GlobalAveragePooling2D(), layers.Dense(units, activation=out)]
    if functional:
        inputs = x = keras.Input(input_shape)
        for layer in stack:
            x = layer(x)
        model = keras.Model(inputs, x)
    else:
        model = keras.Sequential([keras.Input(input_shape), *stack])
    if compile:
        model.compile(optimizer=optimizer or keras.optimizers.Adam(1e-3), loss=loss, metrics=list(metrics))
    return model


def test_small_cnn_spec_matches_the_notebook_solution_and_count():
    model = small_cnn()
    assert [nb03.layer_kind(layer) for layer in model.layers] == [kind for kind, _ in nb03.SMALL_CNN_SPEC]
    assert model.count_params() == 3 * 3 * 3 * 16 + 4 * 16 + 3 * 3 * 16 * 32 + 4 * 32 + (32 + 1) * 4


def test_small_cnn_right_trains_a_copy(few_images, capsys):
    x, y = few_images
    model = small_cnn()
    before = [w.copy() for w in model.get_weights()]
    res = nb03.check_small_cnn(model, x, y)
    assert res and "loss fell" in res.message
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))  # the learner's model is untouched


def test_small_cnn_right_in_other_spellings(few_images):
    import keras
    from keras import layers

    x, y = few_images
    assert nb03.check_small_cnn(small_cnn(relu=layers.ReLU, functional=True,
                                          loss=keras.losses.SparseCategoricalCrossentropy(),
                                          metrics=[keras.metrics.SparseCategoricalAccuracy()]), x, y)


def test_small_cnn_that_cannot_learn_is_named(lenient, few_images):
    import keras

    x, y = few_images
    model = small_cnn(compile=False)
    model.trainable = False
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    with pytest.warns(UserWarning, match="trainable weights"):  # Keras's own warning, for the frozen copy
        res = nb03.check_small_cnn(model, x, y)
    assert not res and "did not learn" in res.message and "trainable" in res.message


@pytest.mark.parametrize("slip, phrase", [
    (dict(flip="horizontal"), "both ways"),
    (dict(filters=32), "first convolution has 32 filters"),
    (dict(bias=True), "use_bias=False"),
    (dict(conv_activation="relu"), "activation of its own"),
    (dict(padding="valid"), "'same'"),
    (dict(flatten=True), "global average pooling"),
    (dict(units=3), "one per class"),
    (dict(out=None), "softmax"),
    (dict(loss="categorical_crossentropy"), "one-hot"),
    (dict(metrics=()), "'accuracy'"),
    (dict(compile=False), "not compiled"),
    (dict(input_shape=(200, 200, 3)), "keras.Input(shape=(64, 64, 3))"),
])
def test_small_cnn_typical_slips(lenient, slip, phrase):
    res = nb03.check_small_cnn(small_cnn(**slip), *BLANK)
    assert not res and phrase in res.message, res.message
    assert res.message.count(". ") <= 1  # one sentence


def test_small_cnn_optimiser_and_loss_slips(lenient):
    import keras

    res = nb03.check_small_cnn(small_cnn(optimizer=keras.optimizers.SGD(1e-3)), *BLANK)
    assert not res and "Adam" in res.message
    res = nb03.check_small_cnn(small_cnn(optimizer=keras.optimizers.Adam(0.01)), *BLANK)
    assert not res and "learning rate" in res.message and "0.001" not in res.message
    res = nb03.check_small_cnn(small_cnn(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True)), *BLANK)
    assert not res and "from_logits" in res.message


def test_small_cnn_layer_order_and_count(lenient):
    import keras
    from keras import layers

    model = small_cnn(compile=False)
    swapped = keras.Sequential([keras.Input((64, 64, 3)), *model.layers[:3], model.layers[4], model.layers[3],
                                *model.layers[5:]])  # ReLU before batch norm
    swapped.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    res = nb03.check_small_cnn(swapped, *BLANK)
    assert not res and "fourth layer" in res.message and "BatchNormalization" in res.message
    extra = keras.Sequential([keras.Input((64, 64, 3)), *small_cnn(compile=False).layers, layers.Dropout(0.2)])
    res = nb03.check_small_cnn(extra, *BLANK)
    assert not res and "more than the spec" in res.message


def test_small_cnn_wrong_type_and_bad_input(lenient):
    res = nb03.check_small_cnn(None, *BLANK)
    assert not res and "Keras model" in res.message and "NoneType" in res.message
    with pytest.raises(ValueError, match="batch of"):
        nb03.check_small_cnn(small_cnn(), np.zeros((4, 32, 32, 3)), np.arange(4))


def test_small_cnn_strict_raises(strict):
    with pytest.raises(ExerciseFailed):
        nb03.check_small_cnn(small_cnn(bias=True), *BLANK)


def test_notebook_solution_passes_and_the_student_edition_hides_it(few_images):
    """The instructor notebook's own solution of exercise 4 passes its checker; the student edition keeps the
    task and the hint but not the solution."""
    import keras

    nb = nbformat.read(ROOT / "notebooks" / "03_blood_cells.ipynb", as_version=4)
    cell = next(c for c in nb.cells if "exercise" in c.metadata.get("tags", []) and "small_cnn" in c.source)
    solution = cell.source.split(student.BEGIN)[1].split(student.END)[0]
    namespace = {"keras": keras}
    exec(compile(solution, "exercise 4", "exec"), namespace)
    assert nb03.check_small_cnn(namespace["small_cnn"], *few_images)
    stripped = student.strip_solution(cell.source)
    task = cell.source.split(student.BEGIN)[0]  # the comment and the hint, kept
    raise_line, _, rest = stripped[len(task):].partition("\n")
    assert stripped.startswith(task) and raise_line.startswith("raise NotImplementedError(")
    code = [line.strip() for line in solution.splitlines() if len(line.strip()) > 12]
    assert code and not [line for line in code if line in rest]  # no line of the solution is left
    with pytest.raises(NotImplementedError, match="Exercise 4.*Hint"):
        exec(compile(stripped, "exercise 4", "exec"), {"keras": keras})
