"""Checkers for notebook 06 (cats vs dogs: a binary classifier with one sigmoid output).

Each checker computes the right answer itself and prints one sentence (see :mod:`cnnkit.exercises`).
"""

from __future__ import annotations

import numpy as np

from ..data import CATS_VS_DOGS_CLASSES as CLASS_NAMES  # label 0 and label 1
from . import Check, as_array, check_array, check_int, error_clause, layers_of, report, short_run, typename
from . import input_shape as model_input_shape


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


def small_cnn_params(channels: int = 3) -> int:
    """Parameters of exercise 3's model: conv 16@3x3 and 32@3x3 with biases, and one output unit after global
    average pooling (the image size does not matter)."""
    return (3 * 3 * channels * 16 + 16) + (3 * 3 * 16 * 32 + 32) + (32 + 1)


def _loss_name(loss) -> tuple:
    """The name of a compiled loss (string, function or ``keras.losses.Loss``) and whether it takes logits."""
    import keras

    if isinstance(loss, str):
        try:
            loss = keras.losses.get(loss)
        except ValueError:
            return loss, False
    if isinstance(loss, keras.losses.Loss):
        config = loss.get_config()
        fn = getattr(loss, "fn", None)
        return getattr(fn, "__name__", config.get("name", type(loss).__name__)), bool(config.get("from_logits"))
    return getattr(loss, "__name__", typename(loss)), False


SMALL_RUN_SIZE = (32, 32)  # the short run trains a 32x32 copy: fast, and the spec must follow input_shape
SMALL_RUN_STEPS = 30
SMALL_RUN_LEARNING_RATE = 3e-3  # larger than the notebook's, so that 30 steps show the loss falling
SMALL_LOSS_FALL = 0.05


def check_small_cnn(build, photos, labels, input_shape, learning_rate) -> Check:
    """Exercise 3: ``build(input_shape)`` returns a new, compiled binary classifier built to the spec.

    The spec: ``keras.Input(input_shape)``, ``Rescaling(1/255)``, two blocks of a 3x3 'same' convolution with
    ReLU (16, then 32 filters) and 2x2 max pooling, global average pooling, one sigmoid output unit; compiled
    with Adam at ``learning_rate``, binary cross-entropy and accuracy. Each departure gets its own sentence
    (two output units, a softmax or no activation, a loss for softmax outputs, logits, no compile, the
    learning rate, ``Flatten``...). Then the function builds a model for 32x32 photos, which is recompiled
    with a larger learning rate and its own loss and trained for a few steps on ``photos`` (a batch of
    training photos, uint8, resized here) and their 0/1 ``labels``: the loss must fall.
    """
    import keras
    from keras import layers

    name = "small_binary_cnn"
    if not callable(build) or isinstance(build, keras.Model):
        return report(False, f"{name} should be a function (def {name}(input_shape): ...) that builds and returns "
                            f"a new model, but it is a {typename(build)}.")

    def call(shape):
        try:
            return build(tuple(shape)), None
        except Exception as err:  # the learner's code may raise anything
            return None, report(False, f"{name}({tuple(shape)}) raised {error_clause(err)}.")

    model, failed = call(input_shape)
    if failed is not None:
        return failed
    if not isinstance(model, keras.Model):
        return report(False, f"{name} should return a Keras model, but it returned a {typename(model)}.")
    shape = model_input_shape(model)
    if shape is None:
        return report(False, f"{name}'s model has no input shape: start it with keras.Input(input_shape).")
    if shape != (None, *input_shape):
        return report(False, f"{name}({tuple(input_shape)}) builds a model for inputs of shape {shape[1:]}: use "
                            "the input_shape argument in keras.Input.")
    found = layers_of(model)
    kinds = [type(layer).__name__ for layer in found]
    if not found or not isinstance(found[0], layers.Rescaling) or not np.isclose(float(found[0].scale), 1 / 255):
        return report(False, f"{name}'s model does not start with Rescaling(1/255): the pipeline gives raw 0-255 "
                            "pixels, so the model must scale them itself.")
    convs = [layer for layer in found if isinstance(layer, layers.Conv2D)]
    if [layer.filters for layer in convs] != [16, 32]:
        return report(False, f"{name}'s convolutions have {[layer.filters for layer in convs]} filters; the spec "
                            "has two, with 16 and then 32 filters.")
    if any(tuple(c.kernel_size) != (3, 3) or c.padding != "same" or tuple(c.strides) != (1, 1) for c in convs):
        return report(False, f"{name}'s convolutions should be 3x3 with 'same' padding and stride 1 (Conv2D(filters, "
                            "(3, 3), padding=\"same\")).")
    if any(getattr(c.activation, "__name__", "") != "relu" for c in convs):
        return report(False, f"{name}'s convolutions should use the ReLU activation.")
    pools = [layer for layer in found if isinstance(layer, layers.MaxPooling2D)]
    if len(pools) != 2 or any(tuple(p.pool_size) != (2, 2) for p in pools):
        return report(False, f"{name} should have a 2x2 max pooling after each convolution ({len(pools)} "
                            "MaxPooling2D found).")
    if "Flatten" in kinds or "GlobalAveragePooling2D" not in kinds:
        return report(False, f"{name} should average each final feature map with GlobalAveragePooling2D (no "
                            "Flatten), so that the output layer reads 32 numbers whatever the image size.")
    last = found[-1]
    if not isinstance(last, layers.Dense):
        return report(False, f"{name}'s last layer is a {kinds[-1]}; the spec ends with the output unit, a Dense "
                            "layer.")
    activation = getattr(last.activation, "__name__", str(last.activation))
    if last.units != 1:
        return report(False, f"{name}'s output layer has {last.units} units; a binary classifier needs one unit "
                            "that gives P(Dog) (section 8), and its labels have shape (batch, 1).")
    if activation != "sigmoid":
        why = (" (a softmax over one unit always outputs 1)" if activation == "softmax" else "")
        return report(False, f"{name}'s output unit has the activation '{activation}'{why}; the spec asks for a "
                            "probability between 0 and 1 from one unit.")
    if not getattr(model, "compiled", False):
        return report(False, f"{name} returns a model that is not compiled: call model.compile(...) before "
                            "returning it.")
    if not isinstance(model.optimizer, keras.optimizers.Adam):
        return report(False, f"{name} compiles with {typename(model.optimizer)}; the spec asks for Adam.")
    rate = float(keras.ops.convert_to_numpy(model.optimizer.learning_rate))
    if not np.isclose(rate, learning_rate, rtol=1e-4):
        return report(False, f"{name} compiles Adam with the learning rate {rate:g}; use LEARNING_RATE (pass it "
                            "to keras.optimizers.Adam), as for the notebook's models.")
    loss, from_logits = _loss_name(model.loss)
    if loss in ("sparse_categorical_crossentropy", "categorical_crossentropy"):
        return report(False, f"{name} compiles with {loss}, a loss for a softmax over one unit per class; one "
                            "sigmoid unit and 0/1 labels need the loss that section 8 pairs with it.")
    if loss != "binary_crossentropy":
        return report(False, f"{name} compiles with the loss {loss}; a sigmoid unit and 0/1 labels need the loss "
                            "that section 8 pairs with it.")
    if from_logits:
        return report(False, f"{name}'s loss expects logits (from_logits=True), but the sigmoid unit already "
                            "outputs probabilities.")
    metrics = model.get_compile_config().get("metrics") or []
    if not any("acc" in str(m).lower() for m in metrics):
        return report(False, f"{name} compiles without the accuracy metric (metrics=[\"accuracy\"]).")
    expected = small_cnn_params(input_shape[-1])
    if model.count_params() != expected:
        return report(False, f"{name}'s model has the right kinds of layers but not the spec's parameter count: "
                            "compare its summary with the spec, layer by layer.")
    small, failed = call((*SMALL_RUN_SIZE, input_shape[-1]))
    if failed is not None:
        return failed
    import tensorflow as tf

    x = np.round(tf.image.resize(np.asarray(photos, dtype="float32"), SMALL_RUN_SIZE).numpy())
    y = np.asarray(labels, dtype="float32").reshape(-1, 1)
    small.compile(optimizer=keras.optimizers.Adam(SMALL_RUN_LEARNING_RATE), loss=small.loss)
    before, after, problem = short_run(small, x, y, SMALL_RUN_STEPS, fall=SMALL_LOSS_FALL)
    if problem:
        return report(False, f"{name}'s model follows the spec, but in a short run of a 32x32 copy {problem}.")
    return report(True, f"Correct: {name} builds and compiles the spec's model ({expected:,} parameters), and a "
                       f"32x32 copy trained for {SMALL_RUN_STEPS} steps on {len(x)} photos lowered its loss from "
                       f"{before:.3f} to {after:.3f}.")


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
    """Exercise 4: a function ``precision_recall(y_true, p_dog, threshold)`` returning
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
    """Exercise 5: the photo at ``path`` as a batch of one, decoded and resized exactly as in training.

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
