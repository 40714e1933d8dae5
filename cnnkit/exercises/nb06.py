"""Checkers for notebook 06 (cats vs dogs: a binary classifier with one sigmoid output).

Each checker computes the right answer itself and prints one sentence (see :mod:`cnnkit.exercises`).
"""

from __future__ import annotations

import numpy as np

from ..data import CATS_VS_DOGS_CLASSES as CLASS_NAMES  # label 0 and label 1
from . import Check, as_array, check_array, check_int, report, typename


def article_params(size: int, stride: int = 1, channels: int = 3) -> int:
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
        if int(answer) == article_params(256, stride=1):
            return report(False, f"{name} is the count for stride 1 (a 3x3 kernel moved one pixel at a time); "
                                "the literal Convolution2D(32, 3, 3) moves it 3 pixels at a time.")
    return check_int(answer, article_params(256, stride=3), name=name)


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
        arr = as_array(answer)
        if arr is None:
            return report(False, f"{label} should be an array of numbers (a NumPy array), but it is a "
                                f"{typename(answer)}.")
        if arr.shape != shape:
            return report(False, f"{label} has shape {arr.shape}, expected {shape}: one column (or value) per "
                                "class, Cat first, then Dog.")
        answers[label] = arr.astype(np.float64)
    h = np.abs(np.random.default_rng(0).normal(size=(64, features)))  # ReLU/GAP features are >= 0
    p_dog = _sigmoid(h @ w + b)[:, 0]
    p_head = _softmax(h @ answers["kernel2"] + answers["bias2"])[:, 1]
    if not np.all(np.isfinite(p_head)):
        return report(False, "your head gives NaN or infinite probabilities.")
    if np.allclose(p_head, p_dog, atol=1e-5):
        return report(True, "Correct: your 2-unit softmax head gives the same P(Dog) as the sigmoid unit "
                           "on 64 random feature vectors.")
    if np.allclose(p_head, 1.0 - p_dog, atol=1e-5):
        return report(False, "your head puts P(Cat) in column 1: the columns are swapped (column 0 is Cat, "
                            "column 1 is Dog).")
    wrong = int((~np.isclose(p_head, p_dog, atol=1e-5)).sum())
    return report(False, f"your head's P(Dog) differs from the sigmoid's on {wrong} of 64 feature vectors; "
                        "remember that softmax only depends on the difference of the two logits.")


def _precision_recall(y, pred):
    """[precision, recall] of label 1 from 0/1 predictions; 0/0 counts as 0 (scikit-learn's zero_division=0)."""
    y, pred = np.asarray(y).astype(bool), np.asarray(pred).astype(bool)
    tp, fp, fn = (pred & y).sum(), (pred & ~y).sum(), (~pred & y).sum()
    return np.array([tp / (tp + fp) if tp + fp else 0.0, tp / (tp + fn) if tp + fn else 0.0])


def _pr_cases():
    """The checker's own test cases: (description, labels, P(Dog), threshold). Each one makes a common mistake
    (precision and recall swapped, Cat as the positive class, >= instead of >, the threshold ignored, 0/0)
    give a different answer from the right one."""
    y10 = np.array([1, 1, 1, 1, 0, 0, 0, 0, 0, 1])
    p10 = np.array([0.9, 0.8, 0.6, 0.3, 0.75, 0.2, 0.1, 0.65, 0.4, 0.72])
    rng = np.random.default_rng(6)
    y40 = rng.integers(0, 2, size=40)
    p40 = np.clip(0.35 * y40 + rng.uniform(0.0, 0.65, size=40), 0.0, 1.0)
    return [
        ("10 photos at the threshold 0.7", y10, p10, 0.7),
        ("the same 10 photos at the threshold 0.95, where no photo is called Dog", y10, p10, 0.95),
        ("5 photos at the threshold 0.55, two of them exactly at the threshold",
         np.array([1, 0, 1, 0, 1]), np.array([0.55, 0.55, 0.9, 0.2, 0.4]), 0.55),
        ("40 random photos at the threshold 0.3", y40, p40, 0.3),
    ]


def check_precision_recall(precision_recall) -> Check:
    """Exercise 3: a function ``precision_recall(y_true, p_dog, threshold)`` returning
    ``np.array([precision, recall])`` of Dog (label 1), Dog predicted for ``p_dog > threshold``.

    The checker calls the function on its own cases (:func:`_pr_cases`), so the answer does not depend on how
    well the notebook's model was trained. A precision with no Dog prediction at all (0/0) counts as 0.
    """
    name = "precision_recall"
    if not callable(precision_recall):
        return report(False, f"{name} should be a function (def precision_recall(y_true, p_dog, threshold): ...), "
                            f"but it is a {typename(precision_recall)}.")
    cases = _pr_cases()
    answers = []
    for what, y, p, t in cases:
        try:
            result = precision_recall(y.copy(), p.copy(), t)
        except Exception as err:  # the learner's code may raise anything
            first_line = (str(err).splitlines() or [""])[0]
            return report(False, f"{name} raised {type(err).__name__} ({first_line}) on {what}.")
        arr = as_array(result)
        if arr is None:
            return report(False, f"{name} should return an array of two numbers, but it returned a "
                                f"{typename(result)} (on {what}).")
        if arr.shape != (2,):
            return report(False, f"{name} returned shape {arr.shape}, expected (2,): precision first, then recall.")
        arr = arr.astype(np.float64)
        if not np.all(np.isfinite(arr)):
            return report(False, f"{name} returned NaN or infinite values on {what}: when nothing is called Dog, "
                                "count precision as 0 instead of dividing 0 by 0.")
        answers.append(arr)

    def matches(rule):
        return all(np.allclose(a, rule(y, p, t), atol=1e-9) for a, (_, y, p, t) in zip(answers, cases))

    if matches(lambda y, p, t: _precision_recall(y, p > t)):
        return report(True, f"Correct: {name} gives the right precision and recall on {len(cases)} test cases, "
                           "including one where no photo is called Dog and one with probabilities exactly at "
                           "the threshold.")
    if matches(lambda y, p, t: _precision_recall(y, p > t)[::-1]):
        return report(False, f"{name} looks swapped: return precision first, then recall.")
    if matches(lambda y, p, t: _precision_recall(1 - y, p <= t)):
        return report(False, f"{name} gives the precision and recall of Cat; here the positive class is Dog "
                            "(label 1).")
    if matches(lambda y, p, t: _precision_recall(y, p >= t)):
        return report(False, f"{name} calls a photo Dog when its probability equals the threshold; predict Dog "
                            "only when p_dog > threshold.")
    if matches(lambda y, p, t: _precision_recall(y, p > 0.5)):
        return report(False, f"{name} ignores its threshold argument and uses 0.5.")
    for answer, (what, y, p, t) in zip(answers, cases):
        wrong = ~np.isclose(answer, _precision_recall(y, p > t), atol=1e-9)
        if wrong.any():
            which = "precision and recall are" if wrong.all() else ("precision is" if wrong[0] else "recall is")
            n_wrong = sum(not np.allclose(a, _precision_recall(yy, pp > tt), atol=1e-9)
                          for a, (_, yy, pp, tt) in zip(answers, cases))
            return report(False, f"{name} is wrong on {n_wrong} of {len(cases)} test cases; on {what} its "
                                f"{which} wrong. Recount TP, FP and FN.")
    return report(False, f"{name} is wrong.")  # not reached: some case differs


def _pipeline_pixels(path, image_size):
    """The photo at path as the course's training pipeline gives it: a (1, height, width, 3) uint8 batch."""
    from cnnkit import data

    ds = data.from_paths([str(path)], [0], CLASS_NAMES, image_size=tuple(image_size), batch_size=1,
                         label_mode=None, shuffle=False, dtype="uint8")
    return next(iter(ds)).numpy()


def _tf_resize(path, image_size, **kwargs):
    import tensorflow as tf

    raw = tf.io.decode_image(tf.io.read_file(str(path)), channels=3, expand_animations=False)
    return tf.image.resize(raw, tuple(image_size), **kwargs).numpy()[None]


def _load_img(path, image_size, interpolation):
    import keras

    img = keras.utils.load_img(path, target_size=tuple(image_size), interpolation=interpolation)
    return np.expand_dims(keras.utils.img_to_array(img), axis=0)


def check_image_batch(answer, path, image_size) -> Check:
    """Exercise 4: the photo at ``path`` as a batch of one, decoded and resized exactly as in training.

    The expected pixels are those of :func:`cnnkit.data.from_paths` (``tf.io.decode_image``, then
    ``tf.image.resize``, bilinear without antialiasing, rounded to ``uint8``); unrounded ``float32`` values
    and truncation to ``uint8`` are accepted (``atol=1``). ``keras.utils.load_img`` (Pillow) is not the same.
    """
    name = "x_one"
    expected = _pipeline_pixels(path, image_size).astype(np.float64)
    arr = as_array(answer)
    if arr is None:
        return report(False, f"{name} should be an array of pixel values, but it is a {typename(answer)}.")
    if arr.shape == expected.shape[1:]:
        return report(False, f"{name} is one image without the batch dimension; the model expects a batch, "
                            f"shape {expected.shape}.")
    if arr.shape != expected.shape:
        return report(False, f"{name} has shape {arr.shape}, expected {expected.shape}: check the size passed to "
                            "tf.image.resize (height, width) and the batch dimension.")
    arr = arr.astype(np.float64)
    if not np.all(np.isfinite(arr)):
        return report(False, f"{name} contains NaN or infinite values.")
    if np.allclose(arr, expected, atol=1.0):
        return report(True, f"Correct: {name} has shape {arr.shape} and the training pipeline's pixels.")
    if arr.max() <= 1.0 < expected.max():
        return report(False, f"{name} looks divided by 255; the model's Rescaling layer does that, so feed raw "
                            "0-255 pixels.")
    others = [
        (lambda: _load_img(path, image_size, "bilinear"), "keras.utils.load_img with 'bilinear' (Pillow "
         "antialiases when it shrinks, tf.image.resize does not)"),
        (lambda: _load_img(path, image_size, "nearest"), "keras.utils.load_img with its default 'nearest'"),
        (lambda: _tf_resize(path, image_size, antialias=True), "tf.image.resize with antialias=True (the "
         "pipeline uses the default, antialias=False)"),
        (lambda: _tf_resize(path, image_size, method="nearest"), "tf.image.resize with method='nearest' (the "
         "pipeline uses the default, 'bilinear')"),
    ]
    for make, what in others:
        if np.allclose(arr, make(), atol=1.0):
            return report(False, f"{name} looks made with {what}: close to the training pixels, but not the same. "
                                "Decode with tf.io.decode_image and resize with tf.image.resize, as the pipeline "
                                "does.")
    return check_array(arr, expected, name=name, atol=1.0)
