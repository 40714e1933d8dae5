"""Checkers for notebook 03 (blood cells: the walkthrough done right).

Each checker computes the right answer itself from its inputs and prints one sentence; it never
prints the expected values. Exercise 4's checker, :func:`check_small_cnn`, checks a model the learner
builds and compiles, layer by layer, and then trains a copy of it for a few steps on real images.
"""

from __future__ import annotations

import numpy as np

from . import Check, check_int, check_recall, report, typename  # check_recall: exercise 5, the shared checker

__all__ = ["array_bytes", "check_float32_bytes", "article_dense_params", "check_article_dense_params",
           "shared_count", "check_shared_count", "SMALL_CNN_SPEC", "SMALL_CNN_INPUT", "layer_kind",
           "check_small_cnn", "check_recall"]


def array_bytes(n_images: int, height: int, width: int, channels: int = 3, bytes_per_value: int = 4) -> int:
    """Bytes of an ``(n_images, height, width, channels)`` array with ``bytes_per_value`` bytes per value."""
    return int(n_images) * int(height) * int(width) * int(channels) * int(bytes_per_value)


def check_float32_bytes(answer, n_images: int = 12_500, height: int = 200, width: int = 200,
                        channels: int = 3) -> Check:
    """Exercise 1: bytes of the articles' float32 copy of ``n_images`` images of ``height x width x channels``."""
    expected = array_bytes(n_images, height, width, channels, 4)
    if hasattr(answer, "item") and np.ndim(answer) == 0:
        answer = answer.item()
    if isinstance(answer, float):  # the task asks for an int; 6e9 or 12_500 * 2.4e5 is a float
        return report(False, "float32_bytes should be a whole number (int), but it is a float: compute it with "
                            "integers only (no 'e' notation, no '/').")
    if isinstance(answer, int) and not isinstance(answer, bool) and answer != expected:
        wrong = {
            array_bytes(n_images, height, width, channels, 1): "that is the uint8 size: a float32 value takes 4 bytes",
            array_bytes(n_images, height, width, channels, 8): "that is the float64 size: a float32 value takes 4 bytes",
            array_bytes(n_images, height, width, 1, 4): "you left out the 3 colour channels",
        }
        if answer in wrong:
            return report(False, f"float32_bytes is not right: {wrong[answer]}.")
        if answer * 10**6 == expected or answer * 10**9 == expected or answer * 2**30 == expected:
            return report(False, "float32_bytes looks like it is in MB or GB; give the number of bytes.")
    return check_int(answer, expected, name="float32_bytes")


def article_dense_params(image_size: int = 200, filters: int = 32, units: int = 128) -> int:
    """Weights and biases of the articles' ``Dense(units)`` after two 2x2 poolings and ``Flatten``."""
    side = (int(image_size) // 2) // 2
    return side * side * int(filters) * int(units) + int(units)


def check_article_dense_params(answer, image_size: int = 200) -> Check:
    """Exercise 2: parameters of the articles' model's ``Dense(128)`` layer for ``image_size x image_size`` input."""
    expected = article_dense_params(image_size)
    if hasattr(answer, "item") and np.ndim(answer) == 0:
        answer = answer.item()
    if isinstance(answer, int) and not isinstance(answer, bool):
        if answer == expected - 128:
            return report(False, "dense_params is missing the 128 biases (one per unit).")
        if answer == article_dense_params(image_size * 2) or answer == article_dense_params(image_size * 2) - 128:
            return report(False, "dense_params is too large: each of the two 2x2 poolings halves the height and "
                                "the width.")
    return check_int(answer, expected, name="dense_params")


def shared_count(query_sources, train_sources) -> int:
    """How many entries of ``query_sources`` also occur somewhere in ``train_sources``."""
    return int(np.isin(np.asarray(query_sources), np.asarray(train_sources)).sum())


def check_shared_count(answer, query_sources, train_sources) -> Check:
    """Exercise 3: the number of query images whose source smear also has images in the training set."""
    expected = shared_count(query_sources, train_sources)
    if hasattr(answer, "item") and np.ndim(answer) == 0:
        answer = answer.item()
    if isinstance(answer, int) and not isinstance(answer, bool) and answer != expected:
        distinct = len(np.intersect1d(np.asarray(query_sources), np.asarray(train_sources)))
        if answer == distinct and distinct != expected:
            return report(False, "n_shared counts distinct smears; the exercise asks for images (a smear can "
                                "have several images).")
        if answer == shared_count(train_sources, query_sources):
            return report(False, "n_shared counts TRAIN images whose smear is in TEST_SIMPLE: the arguments of "
                                "np.isin are the wrong way round (the first is the array whose elements are "
                                "counted).")
    return check_int(answer, expected, name="n_shared")


# ---------------------------------------------------------------- Exercise 4: build, compile, train

SMALL_CNN_INPUT = (64, 64, 3)
# The layers of exercise 4's model after its input, as (kind, settings); kinds are those of layer_kind.
SMALL_CNN_SPEC = [
    ("RandomFlip", {"mode": "horizontal_and_vertical"}),
    ("Rescaling", {}),
    ("Conv2D", {"filters": 16}),
    ("BatchNormalization", {}),
    ("ReLU", {}),
    ("MaxPooling2D", {}),
    ("Conv2D", {"filters": 32}),
    ("BatchNormalization", {}),
    ("ReLU", {}),
    ("GlobalAveragePooling2D", {}),
    ("Dense", {"units": 4}),
]
TRAIN_STEPS = 20  # steps of the short training run of check_small_cnn
_ORDINAL = ["first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth",
            "eleventh", "twelfth"]


def layer_kind(layer) -> str:
    """A layer's kind for comparing it with a spec: its class name, except that ``Activation("relu")`` and a
    plain ``ReLU()`` are both ``"ReLU"`` and ``Activation("softmax")`` is ``"Softmax"``."""
    name = type(layer).__name__
    if name == "Activation":
        act = getattr(layer.activation, "__name__", str(layer.activation))
        return {"relu": "ReLU", "softmax": "Softmax"}.get(act, f"Activation({act})")
    if name == "ReLU":
        cfg = layer.get_config()
        plain = cfg.get("max_value") is None and not cfg.get("negative_slope") and not cfg.get("threshold")
        return "ReLU" if plain else "ReLU (with other settings)"
    return name


def _activation_name(layer) -> str:
    act = getattr(layer, "activation", None)
    return getattr(act, "__name__", str(act))


def _structure_problem(model) -> str | None:
    """The first way ``model``'s layers depart from SMALL_CNN_SPEC, in one sentence, or None."""
    found = [layer for layer in model.layers if type(layer).__name__ != "InputLayer"]
    kinds = [layer_kind(layer) for layer in found]
    expected = [kind for kind, _ in SMALL_CNN_SPEC]
    if "Flatten" in kinds:
        return ("small_cnn uses Flatten; the spec instead averages each feature map to one number "
                "(global average pooling, section 7).")
    for layer in found:
        if type(layer).__name__ == "Conv2D" and _activation_name(layer) != "linear":
            return ("a convolution of small_cnn has an activation of its own; in the spec the ReLU is a layer "
                    "of its own, after batch normalisation.")
    if kinds[-1:] == ["Softmax"] and kinds[:-1] == expected:
        return "put the softmax into the output Dense layer (activation='softmax') instead of a layer of its own."
    for k, (got, want) in enumerate(zip(kinds, expected)):
        if got != want:
            return (f"the {_ORDINAL[k]} layer after the input is a {got}, where the spec has a {want}; "
                    "compare your layers with the spec one by one.")
    if len(kinds) != len(expected):
        more = "more" if len(kinds) > len(expected) else "fewer"
        return (f"small_cnn has {len(kinds)} layers after the input, {more} than the spec's "
                f"{len(expected)}; compare them one by one.")
    flip, rescale, conv1, _, _, pool, conv2, _, _, _, out = found
    if flip.mode != "horizontal_and_vertical":
        return "RandomFlip should flip both ways, 'horizontal_and_vertical': a smear has no left or right, up or down."
    if not (np.isclose(float(rescale.scale), 1 / 255) and float(rescale.offset) == 0):
        return "Rescaling should map the pixels 0-255 to 0-1 (scale 1/255, no offset)."
    for conv, which, (_, settings) in ((conv1, "first", SMALL_CNN_SPEC[2]), (conv2, "second", SMALL_CNN_SPEC[6])):
        if conv.filters != settings["filters"]:
            return f"the {which} convolution has {conv.filters} filters, not the number the spec gives."
        if tuple(conv.kernel_size) != (3, 3):
            return f"the {which} convolution's kernel is {conv.kernel_size}; the spec uses 3x3 kernels."
        if tuple(conv.strides) != (1, 1):
            return f"the {which} convolution has strides {conv.strides}; the spec's convolutions move one pixel."
        if conv.padding != "same":
            return (f"the {which} convolution has padding '{conv.padding}', which shrinks the maps; the spec "
                    "keeps their size ('same').")
        if conv.use_bias:
            return (f"the {which} convolution has a bias, which the batch norm after it makes redundant "
                    "(use_bias=False).")
    if tuple(pool.pool_size) != (2, 2):
        return f"the max pooling has pool size {pool.pool_size}; the spec pools 2x2 blocks."
    if out.units != SMALL_CNN_SPEC[-1][1]["units"]:
        return f"the output layer has {out.units} units; it needs one per class (four)."
    if _activation_name(out) != "softmax":
        return "the output layer should end in a softmax, so that it gives four probabilities that sum to 1."
    return None


def _loss_problem(loss) -> str | None:
    if isinstance(loss, str):
        name, logits = loss, False
    elif callable(loss) and not hasattr(loss, "get_config"):
        name, logits = getattr(loss, "__name__", ""), False
    else:
        cfg = loss.get_config() if hasattr(loss, "get_config") else {}
        name, logits = type(loss).__name__, bool(cfg.get("from_logits", False))
    norm = name.replace("_", "").lower()
    if norm == "categoricalcrossentropy":
        return ("categorical_crossentropy expects one-hot labels, but the pipeline gives integer labels: use "
                "the sparse version (section 6).")
    if norm != "sparsecategoricalcrossentropy":
        return f"the loss is {name or typename(loss)}; the spec asks for the cross-entropy for integer labels (section 6)."
    if logits:
        return ("the loss has from_logits=True, but small_cnn ends in a softmax and gives probabilities, not "
                "logits: leave from_logits at False.")
    return None


def _metric_names(metrics) -> list:
    if metrics is None:
        return []
    if isinstance(metrics, str):
        return [metrics]
    if isinstance(metrics, dict):
        return [str(metrics.get("class_name", "")), str((metrics.get("config") or {}).get("name", ""))]
    if isinstance(metrics, (list, tuple)):
        return [n for m in metrics for n in _metric_names(m)]
    return [type(metrics).__name__, str(getattr(metrics, "name", ""))]


def _compile_problem(model) -> str | None:
    import keras

    if not getattr(model, "compiled", False) or getattr(model, "optimizer", None) is None:
        return "small_cnn is not compiled yet: call small_cnn.compile(optimizer=..., loss=..., metrics=[...])."
    if not isinstance(model.optimizer, keras.optimizers.Adam):
        return f"the optimiser is {type(model.optimizer).__name__}; the spec asks for Adam (section 6.2)."
    lr = float(keras.ops.convert_to_numpy(model.optimizer.learning_rate))
    if not np.isclose(lr, 1e-3, rtol=1e-4):
        return f"Adam's learning rate is {lr:g}, not the one the spec gives."
    problem = _loss_problem(model.loss)
    if problem:
        return problem
    names = {n.replace("_", "").lower() for n in _metric_names(model.get_compile_config().get("metrics"))}
    if not names & {"accuracy", "acc", "sparsecategoricalaccuracy"}:
        return "the metrics should include 'accuracy', so that fit reports it."
    return None


def check_small_cnn(model, x, y, steps: int = TRAIN_STEPS) -> Check:
    """Exercise 4: ``model`` follows :data:`SMALL_CNN_SPEC`, is compiled as asked, and trains.

    Checks the layers one by one and the compile settings (Adam with learning rate 0.001, the sparse
    cross-entropy, accuracy), then trains a fresh copy of the model (new weights, the learner's own model is
    left as it is) for ``steps`` steps on the batch ``x`` (``(n, 64, 64, 3)`` images, 0-255) with labels ``y``
    (integers 0-3), and checks that the loss falls.
    """
    import keras

    if not isinstance(model, keras.Model):
        return report(False, f"small_cnn should be a Keras model (keras.Sequential), but it is a {typename(model)}.")
    x, y = np.asarray(x, dtype="float32"), np.asarray(y)
    if x.ndim != 4 or x.shape[1:] != SMALL_CNN_INPUT:
        raise ValueError(f"x must be a batch of {SMALL_CNN_INPUT} images, got shape {x.shape}")
    shape = tuple(model.input_shape[1:]) if not isinstance(model.input_shape, list) else None
    if shape != SMALL_CNN_INPUT:
        return report(False, f"small_cnn takes inputs of shape {shape}, but the spec's images are 64x64 RGB: "
                             "start with keras.Input(shape=(64, 64, 3)).")
    problem = _structure_problem(model) or _compile_problem(model)
    if problem:
        return report(False, problem)
    try:
        fresh = keras.models.clone_model(model)
    except Exception as err:  # subclassed models cannot be cloned
        return report(False, f"small_cnn could not be copied to train it ({type(err).__name__}); build it with "
                             "keras.Sequential.")
    fresh.compile_from_config(model.get_compile_config())
    losses = np.array(fresh.fit(x, y, batch_size=len(x), epochs=steps, shuffle=False, verbose=0).history["loss"])
    first, last = losses[:3].mean(), losses[-3:].mean()  # the first and the last three steps
    if not np.all(np.isfinite(losses)):
        return report(False, "small_cnn follows the spec, but its loss became NaN or infinite during a short "
                             "training run.")
    if not last < first - 0.03:
        return report(False, f"small_cnn follows the spec, but it did not learn: over {steps} training steps on "
                             f"{len(x)} images its loss went from {first:.3f} to {last:.3f} (are its layers "
                             "trainable?).")
    return report(True, f"Correct: small_cnn follows the spec ({model.count_params():,} parameters) and learns: "
                        f"over {steps} training steps on {len(x)} images its loss fell from {first:.3f} to "
                        f"{last:.3f}.")
