"""The checkers of notebook 06 (cats vs dogs, one sigmoid output)."""

import numpy as np
import pytest
from PIL import Image

from cnnkit.exercises import ExerciseFailed, nb06

STRIDE3 = 7_226_497  # the seed audit's count for the literal Convolution2D(32, 3, 3) at 256x256x3


def _hidden(message, *values):
    """The message reveals none of the expected values."""
    for v in values:
        for text in {str(v), f"{v:,}" if isinstance(v, int) else str(v)}:
            assert text not in message, (text, message)


# ---------------------------------------------------------------------------------------------------
# Exercise 1: parameter count of the stride-3 model


def test_article_params_matches_keras_and_the_audit():
    import keras
    from keras import layers

    from cnnkit import models

    assert nb06.article_params(256) == 66_065_537
    assert nb06.article_params(256, stride=3) == STRIDE3
    assert nb06.article_params(64) == 3_937_409
    for size in (32, 45):
        assert nb06.article_params(size) == models.article_cats_dogs((size, size, 3)).count_params()
        literal = keras.Sequential([keras.Input((size, size, 3)), layers.Convolution2D(32, 3, 3),
                                    layers.MaxPooling2D((2, 2)), layers.Flatten(), layers.Dense(128),
                                    layers.Dense(1)])
        assert nb06.article_params(size, stride=3) == literal.count_params()


def test_stride3_right(capsys):
    assert nb06.check_stride3_params(STRIDE3)
    assert nb06.check_stride3_params(np.int64(STRIDE3))
    assert "✓" in capsys.readouterr().out


@pytest.mark.parametrize("answer, words", [(STRIDE3 + 128, "too large"), (STRIDE3 - 1, "too small"),
                                           (66_065_537, "stride 1")])
def test_stride3_wrong_value(lenient, answer, words):
    result = nb06.check_stride3_params(answer)
    assert not result and words in result.message
    _hidden(result.message, STRIDE3)


@pytest.mark.parametrize("answer", ["7226497", [STRIDE3], 7226497.5, None])
def test_stride3_wrong_type(lenient, answer):
    result = nb06.check_stride3_params(answer)
    assert not result and "whole number" in result.message
    _hidden(result.message, STRIDE3)


def test_stride3_strict_raises():
    with pytest.raises(ExerciseFailed):
        nb06.check_stride3_params(STRIDE3 + 1)


# ---------------------------------------------------------------------------------------------------
# Exercise 2: a two-unit softmax head equal to the sigmoid unit


@pytest.fixture
def head():
    rng = np.random.default_rng(1)
    return rng.normal(size=(8, 1)).astype("float32"), rng.normal(size=(1,)).astype("float32")


def test_softmax_head_right(head):
    w, b = head
    assert nb06.check_softmax_head(np.concatenate([np.zeros_like(w), w], 1), np.array([0.0, b[0]]), w, b)
    # any pair of columns whose difference is (w, b) is right as well
    assert nb06.check_softmax_head(np.concatenate([-w / 2, w / 2], 1), np.array([-b[0] / 2, b[0] / 2]), w, b)
    assert nb06.check_softmax_head(np.concatenate([w + 3, 2 * w + 3], 1), np.array([1.0, 1.0 + b[0]]), w, b)


def test_softmax_head_swapped_columns(lenient, head):
    w, b = head
    result = nb06.check_softmax_head(np.concatenate([w, np.zeros_like(w)], 1), np.array([b[0], 0.0]), w, b)
    assert not result and "swapped" in result.message


def test_softmax_head_wrong_value(lenient, head):
    w, b = head
    result = nb06.check_softmax_head(np.concatenate([np.zeros_like(w), 2 * w], 1), np.array([0.0, b[0]]), w, b)
    assert not result and "differs" in result.message
    _hidden(result.message, *np.round(w[:, 0], 3))


@pytest.mark.parametrize("kernel2, bias2, words", [
    (np.zeros((2, 8)), np.zeros(2), "kernel2 has shape (2, 8)"),
    (np.zeros((8, 1)), np.zeros(2), "kernel2 has shape (8, 1)"),
    (np.zeros((8, 2)), np.zeros((1, 2)), "bias2 has shape (1, 2)"),
])
def test_softmax_head_wrong_shape(lenient, head, kernel2, bias2, words):
    w, b = head
    result = nb06.check_softmax_head(kernel2, bias2, w, b)
    assert not result and words in result.message


def test_softmax_head_wrong_type(lenient, head):
    w, b = head
    result = nb06.check_softmax_head("w", np.zeros(2), w, b)
    assert not result and "kernel2 should be an array" in result.message
    result = nb06.check_softmax_head(np.zeros((8, 2)), None, w, b)
    assert not result and "bias2 should be an array" in result.message


def test_softmax_head_strict_raises(head):
    w, b = head
    with pytest.raises(ExerciseFailed):
        nb06.check_softmax_head(np.zeros((8, 2)), np.zeros(2), w, b)


# ---------------------------------------------------------------------------------------------------
# Exercise 4: a function for precision and recall at a threshold


def pr_right(y_true, p_dog, threshold):
    pred, dog = np.asarray(p_dog) > threshold, np.asarray(y_true) == 1
    tp, fp, fn = (pred & dog).sum(), (pred & ~dog).sum(), (~pred & dog).sum()
    return np.array([tp / (tp + fp) if tp + fp else 0.0, tp / (tp + fn) if tp + fn else 0.0])


def pr_sklearn(y_true, p_dog, threshold):
    from sklearn.metrics import precision_score, recall_score

    pred = (np.asarray(p_dog) > threshold).astype(int)
    return [precision_score(y_true, pred, zero_division=0), recall_score(y_true, pred, zero_division=0)]


def test_precision_recall_cases_are_informative():
    """Each checker case has both classes, and case 1 is the notebook's hand-countable demo."""
    cases = nb06._pr_cases()
    for _, y, p, _t in cases:
        assert set(np.unique(y)) == {0, 1}
        assert len(y) == len(p)
    _, y, p, t = cases[0]
    np.testing.assert_allclose(pr_right(y, p, t), [0.75, 0.6])  # TP 3 (0.9, 0.8, 0.72), FP 1 (0.75), FN 2
    assert any(pr_right(y, p, t)[0] == 0 for _, y, p, t in cases)  # one case calls nothing Dog
    assert any(np.any(p == t) for _, y, p, t in cases)  # one case has probabilities at the threshold


@pytest.mark.parametrize("fn", [pr_right, pr_sklearn, lambda y, p, t: tuple(pr_right(y, p, t))])
def test_precision_recall_right(fn, capsys):
    assert nb06.check_precision_recall(fn)
    assert "✓" in capsys.readouterr().out


def pr_cat(y_true, p_dog, threshold):
    """Cat as the positive class: predicted Cat when p_dog <= threshold."""
    pred, cat = np.asarray(p_dog) <= threshold, np.asarray(y_true) == 0
    tp, fp, fn = (pred & cat).sum(), (pred & ~cat).sum(), (~pred & cat).sum()
    return np.array([tp / (tp + fp) if tp + fp else 0.0, tp / (tp + fn) if tp + fn else 0.0])


def _values_hidden(message):
    for _, y, p, t in nb06._pr_cases():
        for v in pr_right(y, p, t):
            if v not in (0.0, 1.0):
                _hidden(message, round(float(v), 2), round(float(v), 3), round(float(v), 4))


@pytest.mark.parametrize("fn, words", [
    (lambda y, p, t: pr_right(y, p, t)[::-1], "swapped"),
    (lambda y, p, t: pr_cat(y, p, t), "of Cat"),
    (lambda y, p, t: pr_right(y, np.asarray(p) + 1e-12, t), "equals the threshold"),
    (lambda y, p, t: pr_right(y, p, 0.5), "uses 0.5"),
    (lambda y, p, t: np.zeros(2), "wrong on 3 of 4 test cases"),  # right only where nothing is Dog
    (lambda y, p, t: np.ones(2), "wrong on"),
    (lambda y, p, t: pr_right(y, p, t) * [1, 0.5], "its recall is wrong"),
])
def test_precision_recall_wrong(lenient, fn, words):
    result = nb06.check_precision_recall(fn)
    assert not result and words in result.message, result.message
    _values_hidden(result.message)


def test_precision_recall_zero_answer_names_the_first_case(lenient):
    result = nb06.check_precision_recall(lambda y, p, t: np.array([0.0, 0.0]))
    assert not result and "on 10 photos at the threshold 0.7" in result.message
    assert "precision and recall are wrong" in result.message


def test_precision_recall_nan(lenient):
    def divides_by_zero(y, p, t):
        pred, dog = np.asarray(p) > t, np.asarray(y) == 1
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.array([(pred & dog).sum() / pred.sum(), (pred & dog).sum() / dog.sum()])

    result = nb06.check_precision_recall(divides_by_zero)
    assert not result and "NaN" in result.message and "0 by 0" in result.message


def test_precision_recall_raises_inside(lenient):
    def not_written(y, p, t):
        raise NotImplementedError("Exercise 3. Hint: ...")

    result = nb06.check_precision_recall(not_written)
    assert not result and "raised NotImplementedError" in result.message


@pytest.mark.parametrize("fn, words", [
    (lambda y, p, t: np.array([0.75, 0.6, 0.0]), "shape (3,)"),
    (lambda y, p, t: np.array([[0.75, 0.6]]), "shape (1, 2)"),
    (lambda y, p, t: "0.75, 0.6", "returned a str"),
    (lambda y, p, t: None, "returned a NoneType"),
])
def test_precision_recall_wrong_shape_or_type(lenient, fn, words):
    result = nb06.check_precision_recall(fn)
    assert not result and words in result.message


@pytest.mark.parametrize("answer", [np.array([0.75, 0.6]), [0.75, 0.6], "pr", None])
def test_precision_recall_not_a_function(lenient, answer):
    result = nb06.check_precision_recall(answer)
    assert not result and "should be a function" in result.message


def test_precision_recall_strict_raises():
    with pytest.raises(ExerciseFailed):
        nb06.check_precision_recall(lambda y, p, t: pr_right(y, p, t)[::-1])


# ---------------------------------------------------------------------------------------------------
# Exercise 5: one photo as a batch, decoded as the training pipeline does


@pytest.fixture
def photo(tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "pet.jpg"
    Image.fromarray(rng.integers(0, 256, size=(90, 70, 3), dtype=np.uint8)).save(path, quality=90)
    return str(path)


def _tf_batch(path, size, **kwargs):
    import tensorflow as tf

    raw = tf.io.decode_image(tf.io.read_file(path), channels=3, expand_animations=False)
    return np.expand_dims(tf.image.resize(raw, size, **kwargs).numpy(), 0)


def _pil_batch(path, size, interpolation):
    import keras

    img = keras.utils.load_img(path, target_size=size, interpolation=interpolation)
    return np.expand_dims(keras.utils.img_to_array(img), 0)


def test_image_batch_matches_the_pipeline(photo):
    from cnnkit import data

    ds = data.from_paths([photo], [0], ["Cat", "Dog"], image_size=(32, 40), batch_size=1, label_mode=None,
                         shuffle=False, dtype="uint8")
    pipeline = next(iter(ds)).numpy()
    assert np.abs(_tf_batch(photo, (32, 40)) - pipeline).max() <= 0.5
    assert nb06.check_image_batch(pipeline, photo, (32, 40))


def test_image_batch_right(photo):
    x = _tf_batch(photo, (32, 40))
    assert nb06.check_image_batch(x, photo, (32, 40))
    assert nb06.check_image_batch(np.round(x).astype("uint8"), photo, (32, 40))
    assert nb06.check_image_batch(x.astype("uint8"), photo, (32, 40))  # truncated instead of rounded


def test_image_batch_without_batch_dimension(lenient, photo):
    result = nb06.check_image_batch(_tf_batch(photo, (32, 40))[0], photo, (32, 40))
    assert not result and "without the batch dimension" in result.message


def test_image_batch_wrong_size(lenient, photo):
    result = nb06.check_image_batch(_tf_batch(photo, (40, 32)), photo, (32, 40))
    assert not result and "(height, width)" in result.message


def test_image_batch_divided_by_255(lenient, photo):
    result = nb06.check_image_batch(_tf_batch(photo, (32, 40)) / 255.0, photo, (32, 40))
    assert not result and "divided by 255" in result.message


@pytest.mark.parametrize("make, words", [
    (lambda path: _pil_batch(path, (32, 40), "bilinear"), "load_img with 'bilinear'"),
    (lambda path: _pil_batch(path, (32, 40), "nearest"), "load_img with its default 'nearest'"),
    (lambda path: _tf_batch(path, (32, 40), antialias=True), "antialias=True"),
    (lambda path: _tf_batch(path, (32, 40), method="nearest"), "method='nearest'"),
])
def test_image_batch_other_resizers(lenient, photo, make, words):
    result = nb06.check_image_batch(make(photo), photo, (32, 40))
    assert not result and words in result.message and "tf.image.resize" in result.message


def test_image_batch_wrong_value(lenient, photo):
    x = _tf_batch(photo, (32, 40))
    x[0, 3, 4, 1] += 40
    result = nb06.check_image_batch(x, photo, (32, 40))
    assert not result and "1 of" in result.message


def test_image_batch_wrong_type(lenient, photo):
    result = nb06.check_image_batch(photo, photo, (32, 40))
    assert not result and "should be an array" in result.message


def test_image_batch_strict_raises(photo):
    with pytest.raises(ExerciseFailed):
        nb06.check_image_batch(_tf_batch(photo, (32, 40))[0], photo, (32, 40))


# ---------------------------------------------------------------------------------------------------
# Exercise 3: a small binary CNN, built and compiled from the spec, that trains

LR = 3e-4
SHAPE = (64, 64, 3)


@pytest.fixture(scope="module")
def pets():
    """32 real PetImages photos (uint8, 64x64) and their 0/1 labels, from the offline pack."""
    import os
    from pathlib import Path

    pack = os.environ.get("CNNKIT_DATA", "")
    if not pack or not (Path(pack) / "fashion-mnist").is_dir():
        pytest.skip("CNNKIT_DATA does not point at the offline data pack")
    from cnnkit import data

    index = data.index_folder(data.ensure_cats_vs_dogs(), class_names=["Cat", "Dog"], limit_per_class=16, seed=0)
    ds = data.from_paths(index.paths, index.labels, ["Cat", "Dog"], image_size=SHAPE[:2], batch_size=32,
                         label_mode="binary", shuffle=True, seed=0, dtype="uint8")
    x, y = next(iter(ds))
    return x.numpy(), y.numpy()


def small_cnn(units=1, activation="sigmoid", loss="binary_crossentropy", lr=LR, head="gap", compile_model=True,
              metrics=("accuracy",), fixed_shape=None, optimizer="adam", filters=(16, 32), frozen=False):
    """A builder in the exercise's shape; the keyword arguments make the usual mistakes."""
    import keras
    from keras import layers

    def build(input_shape):
        model = keras.Sequential([
            keras.Input(fixed_shape or input_shape), layers.Rescaling(1 / 255),
            layers.Conv2D(filters[0], 3, padding="same", activation="relu"), layers.MaxPooling2D(2),
            layers.Conv2D(filters[1], 3, padding="same", activation="relu"), layers.MaxPooling2D(2),
            layers.GlobalAveragePooling2D() if head == "gap" else layers.Flatten(),
            layers.Dense(units, activation=activation)])
        if frozen:
            for layer in model.layers:
                layer.trainable = False
        if compile_model:
            opt = keras.optimizers.Adam(lr) if optimizer == "adam" else keras.optimizers.SGD(lr)
            model.compile(optimizer=opt, loss=loss() if callable(loss) and isinstance(loss, type) else loss,
                          metrics=list(metrics))
        return model

    return build


def test_small_cnn_params_match_keras():
    assert nb06.small_cnn_params(3) == small_cnn()(SHAPE).count_params() == 5_121


def test_small_cnn_right(pets, capsys):
    import keras

    assert nb06.check_small_cnn(small_cnn(), *pets, SHAPE, LR)
    assert "✓" in capsys.readouterr().out
    assert nb06.check_small_cnn(small_cnn(loss=keras.losses.BinaryCrossentropy, metrics=("binary_accuracy",)),
                                *pets, SHAPE, LR)


@pytest.mark.parametrize("kwargs, words", [
    ({"units": 2, "activation": "softmax"}, "2 units"),
    ({"activation": None}, "'linear'"),
    ({"activation": "softmax"}, "always outputs 1"),
    ({"loss": "sparse_categorical_crossentropy"}, "softmax over one unit per class"),
    ({"loss": "categorical_crossentropy"}, "softmax over one unit per class"),
    ({"loss": "mse"}, "mean_squared_error"),
    ({"lr": 1e-3}, "LEARNING_RATE"),
    ({"optimizer": "sgd"}, "SGD"),
    ({"head": "flatten"}, "GlobalAveragePooling2D"),
    ({"compile_model": False}, "not compiled"),
    ({"metrics": ()}, "accuracy"),
    ({"fixed_shape": (128, 128, 3)}, "input_shape argument"),
    ({"filters": (32, 64)}, "16 and then 32"),
])
def test_small_cnn_usual_slips_get_their_sentence(lenient, pets, kwargs, words):
    res = nb06.check_small_cnn(small_cnn(**kwargs), *pets, SHAPE, LR)
    assert not res and words in res.message, res.message
    assert "binary_crossentropy" not in res.message  # the answer to the exercise's question is not given away


def test_small_cnn_logits_loss(lenient, pets):
    import keras

    res = nb06.check_small_cnn(small_cnn(loss=keras.losses.BinaryCrossentropy(from_logits=True)), *pets, SHAPE, LR)
    assert not res and "from_logits" in res.message


def test_small_cnn_not_a_function_or_raising(lenient, pets):
    res = nb06.check_small_cnn(small_cnn()(SHAPE), *pets, SHAPE, LR)
    assert not res and "should be a function" in res.message

    def broken(input_shape):
        raise ValueError("bad layer")

    res = nb06.check_small_cnn(broken, *pets, SHAPE, LR)
    assert not res and "raised ValueError (bad layer)" in res.message
    res = nb06.check_small_cnn(lambda input_shape: "model", *pets, SHAPE, LR)
    assert not res and "returned a str" in res.message


@pytest.mark.filterwarnings("ignore:The model does not have any trainable weights")
def test_small_cnn_that_cannot_learn_fails_the_short_run(lenient, pets):
    res = nb06.check_small_cnn(small_cnn(frozen=True), *pets, SHAPE, LR)
    assert not res and "loss did not fall" in res.message


def test_small_cnn_strict_raises(pets):
    with pytest.raises(ExerciseFailed):
        nb06.check_small_cnn(small_cnn(units=2, activation="softmax"), *pets, SHAPE, LR)
