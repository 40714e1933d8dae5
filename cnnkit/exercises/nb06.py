"""Checkers for notebook 06 (cats vs dogs: a binary classifier with one sigmoid output).

Each checker computes the right answer itself and prints one sentence (see :mod:`cnnkit.exercises`).
"""

from __future__ import annotations

import numpy as np

from . import Check, _as_array, _done, _typename, check_array, check_int

CLASS_NAMES = ["Cat", "Dog"]  # label 0 and label 1, as cnnkit.data.cats_vs_dogs orders them


def source_model_params(size: int, stride: int = 1, channels: int = 3) -> int:
    """Parameters of the source article's model on ``size`` x ``size`` x ``channels`` images.

    conv 32@3x3 ('valid' padding, the given stride) + ReLU, 2x2 max-pool, flatten, dense 128, dense 1.
    ``stride=3`` is what the article's ``Convolution2D(32, 3, 3)`` means in Keras 2 and 3.
    """
    conv_out = (size - 3) // stride + 1  # 'valid': the kernel must fit inside the image
    pooled = conv_out // 2  # 2x2 max-pool with stride 2 drops an odd last row/column
    conv = 3 * 3 * channels * 32 + 32
    dense = pooled * pooled * 32 * 128 + 128
    return conv + dense + (128 + 1)


def check_stride3_params(answer) -> Check:
    """Exercise 1: parameters of the literal ``Convolution2D(32, 3, 3)`` model at 256x256x3."""
    name = "your parameter count"
    if not isinstance(answer, bool) and isinstance(answer, (int, np.integer)):
        if int(answer) == source_model_params(256, stride=1):
            return _done(False, f"{name} is the count for stride 1 (a 3x3 kernel moved one pixel at a time); "
                                "the literal Convolution2D(32, 3, 3) moves it 3 pixels at a time.")
    return check_int(answer, source_model_params(256, stride=3), name=name)


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def _softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def check_softmax_head(kernel2, bias2, kernel, bias) -> Check:
    """Exercise 2: a 2-unit softmax head (``kernel2`` (F, 2), ``bias2`` (2,)) equivalent to the sigmoid unit.

    ``kernel`` (F, 1) and ``bias`` (1,) are the sigmoid unit's weights. Any head whose column 1 minus
    column 0 equals the sigmoid's weights is right, so the check compares probabilities, not weights.
    """
    w = np.asarray(kernel, dtype=np.float64).reshape(-1, 1)
    b = np.asarray(bias, dtype=np.float64).reshape(1)
    features = w.shape[0]
    answers = {}
    for label, answer, shape in (("kernel2", kernel2, (features, 2)), ("bias2", bias2, (2,))):
        arr = _as_array(answer)
        if arr is None:
            return _done(False, f"{label} should be an array of numbers (a NumPy array), but it is a "
                                f"{_typename(answer)}.")
        if arr.shape != shape:
            return _done(False, f"{label} has shape {arr.shape}, expected {shape}: one column (or value) per "
                                "class, Cat first, then Dog.")
        answers[label] = arr.astype(np.float64)
    h = np.abs(np.random.default_rng(0).normal(size=(64, features)))  # ReLU/GAP features are >= 0
    p_dog = _sigmoid(h @ w + b)[:, 0]
    p_head = _softmax(h @ answers["kernel2"] + answers["bias2"])[:, 1]
    if not np.all(np.isfinite(p_head)):
        return _done(False, "your head gives NaN or infinite probabilities.")
    if np.allclose(p_head, p_dog, atol=1e-5):
        return _done(True, "Correct: your 2-unit softmax head gives the same P(Dog) as the sigmoid unit "
                           "on 64 random feature vectors.")
    if np.allclose(p_head, 1.0 - p_dog, atol=1e-5):
        return _done(False, "your head puts P(Cat) in column 1: the columns are swapped (column 0 is Cat, "
                            "column 1 is Dog).")
    wrong = int((~np.isclose(p_head, p_dog, atol=1e-5)).sum())
    return _done(False, f"your head's P(Dog) differs from the sigmoid's on {wrong} of 64 feature vectors; "
                        "remember that softmax only depends on the difference of the two logits.")


def _precision_recall(y, pred):
    from sklearn.metrics import precision_score, recall_score

    return np.array([precision_score(y, pred, zero_division=0), recall_score(y, pred, zero_division=0)])


def check_precision_recall(answer, y_true, probs, threshold: float) -> Check:
    """Exercise 3: ``[precision, recall]`` of Dog (label 1) when Dog is predicted for ``probs > threshold``.

    A precision with no Dog prediction at all (0/0) counts as 0, as in scikit-learn's ``zero_division=0``.
    """
    name = "[precision, recall]"
    y = np.asarray(y_true).reshape(-1).astype(int)
    p = np.asarray(probs, dtype=np.float64).reshape(-1)
    expected = _precision_recall(y, (p > threshold).astype(int))
    arr = _as_array(answer)
    if arr is None:
        return _done(False, f"{name} should be an array of two numbers, but it is a {_typename(answer)}.")
    if arr.shape != (2,):
        return _done(False, f"{name} has shape {arr.shape}, expected (2,): precision first, then recall.")
    arr = arr.astype(np.float64)
    if not np.all(np.isfinite(arr)):
        return _done(False, f"{name} contains NaN or infinite values: when nothing is predicted Dog, count "
                            "precision as 0 instead of dividing 0 by 0.")
    if not np.allclose(arr, expected, atol=1e-6):
        if np.allclose(arr[::-1], expected, atol=1e-6):
            return _done(False, f"{name} looks swapped: precision first, then recall.")
        if np.allclose(arr, _precision_recall(1 - y, (p <= threshold).astype(int)), atol=1e-6):
            return _done(False, f"{name} are those of Cat; here the positive class is Dog (label 1).")
        if threshold != 0.5 and np.allclose(arr, _precision_recall(y, (p > 0.5).astype(int)), atol=1e-6):
            return _done(False, f"{name} look computed at the threshold 0.5, not at the threshold given.")
    return check_array(arr, expected, name=name, atol=1e-6)


def _load(path, image_size, interpolation):
    import keras

    img = keras.utils.load_img(path, target_size=tuple(image_size), interpolation=interpolation)
    return np.expand_dims(keras.utils.img_to_array(img), axis=0)


def check_image_batch(answer, path, image_size) -> Check:
    """Exercise 4: the photo at ``path`` as a batch of one raw-pixel image, resized with bilinear interpolation."""
    name = "x_one"
    expected = _load(path, image_size, "bilinear")
    arr = _as_array(answer)
    if arr is None:
        return _done(False, f"{name} should be an array of pixel values, but it is a {_typename(answer)}.")
    if arr.shape == expected.shape[1:]:
        return _done(False, f"{name} is one image without the batch dimension; the model expects a batch, "
                            f"shape {expected.shape}.")
    if arr.shape != expected.shape:
        return _done(False, f"{name} has shape {arr.shape}, expected {expected.shape}: check target_size and "
                            "the batch dimension.")
    arr = arr.astype(np.float64)
    if arr.max() <= 1.0 < expected.max():
        return _done(False, f"{name} looks divided by 255; the model's Rescaling layer does that, so feed raw "
                            "0-255 pixels.")
    if not np.allclose(arr, expected, atol=0.5) and np.allclose(arr, _load(path, image_size, "nearest"), atol=0.5):
        return _done(False, f"{name} was resized with 'nearest' interpolation (load_img's default); pass "
                            "interpolation=\"bilinear\".")
    return check_array(arr, expected, name=name, atol=0.5)
