"""Checkers for notebook 05 (CIFAR-10 with data augmentation).

Each checker computes the right answer itself and prints one sentence (see :mod:`cnnkit.exercises`).
"""

from __future__ import annotations

import numpy as np

from . import Check, as_array, check_array, error_clause, quietly, report, text_of, typename

__all__ = ["pad_and_crop", "check_pad_and_crop", "conv_params", "dense_params", "article_params",
           "check_whitening", "GROUP_SPEC", "check_conv_group", "triangular_lr", "check_triangular"]


def pad_and_crop(image, top: int, left: int, pad: int = 4) -> np.ndarray:
    """Mirror-pad an ``(H, W, C)`` image by ``pad`` pixels, then cut the ``(H, W)`` window at ``(top, left)``.

    NumPy's ``mode="symmetric"`` repeats the edge pixel (``d c b a | a b c d``), which is what Keras's
    ``fill_mode="reflect"`` does and what the course uses. (Page's cifar10-fast uses NumPy's
    ``mode="reflect"``, ``d c b | a b c d``, without the edge repeat.) ``top = left = pad`` gives the
    image back unchanged.
    """
    image = np.asarray(image)
    h, w = image.shape[:2]
    if not (0 <= top <= 2 * pad and 0 <= left <= 2 * pad):
        raise ValueError(f"top and left must lie in 0..{2 * pad}, got {top}, {left}")
    padded = np.pad(image, ((pad, pad), (pad, pad), (0, 0)), mode="symmetric")
    return padded[top:top + h, left:left + w]


def _crop_with(image, top, left, pad, mode):
    padded = np.pad(np.asarray(image), ((pad, pad), (pad, pad), (0, 0)), mode=mode)
    h, w = np.asarray(image).shape[:2]
    return padded[top:top + h, left:left + w]


def check_pad_and_crop(crop, image, top: int, left: int, pad: int = 4):
    """Exercise 1: the pad-and-crop shift of ``image`` at window ``(top, left)``, as ``uint8``."""
    expected = pad_and_crop(image, top, left, pad)
    result = quietly(check_array, crop, expected, name="crop")
    arr = as_array(crop)
    if not result:
        if arr is not None and arr.shape == expected.shape:
            if np.array_equal(arr, _crop_with(image, top, left, pad, "reflect")):
                return report(False, 'crop used mode="reflect", which does not repeat the edge pixel (d c b | a b c d); '
                                    'the task asks for mode="symmetric" (d c b a | a b c d), like Keras\'s "reflect".')
            if top != left and np.array_equal(arr, pad_and_crop(image, left, top, pad)):
                return report(False, "crop looks like TOP and LEFT are swapped: the first index of the padded "
                                    "array is the row (TOP), the second the column (LEFT).")
        return report(False, text_of(result))
    if arr.dtype != np.uint8:
        return report(False, f"crop has the right values but dtype {arr.dtype}; the task asks for uint8, like x_val[0] "
                            "(slice the padded uint8 array, without converting it).")
    return report(True, text_of(result))


def conv_params(kernel: int, c_in: int, c_out: int) -> int:
    """Weights plus biases of a ``kernel x kernel`` Conv2D from ``c_in`` to ``c_out`` channels."""
    return (kernel * kernel * c_in + 1) * c_out


def dense_params(n_in: int, n_out: int) -> int:
    """Weights plus biases of a ``Dense`` layer from ``n_in`` inputs to ``n_out`` units."""
    return (n_in + 1) * n_out


def article_params(padding: str = "valid", size: int = 32, channels: int = 3, num_classes: int = 10) -> int:
    """Parameters of the source article's CNN (conv 32-64-128, each 3x3 + max-pool 2, dense 128, output)."""
    total, c_in = 0, channels
    for c_out in (32, 64, 128):
        total += conv_params(3, c_in, c_out)
        if padding == "valid":
            size -= 2  # a 3x3 valid convolution loses one pixel on each side
        size //= 2  # 2x2 max-pool, stride 2, rounding down
        c_in = c_out
    return total + dense_params(size * size * c_in, 128) + dense_params(128, num_classes)


def check_whitening(W, cov, eps: float) -> Check:
    """Exercise 2: whitening filters ``W`` (one per column) for the patch covariance ``cov``.

    Right when ``W.T @ cov @ W`` is the diagonal matrix ``lam / (lam + eps)``, whatever the order and signs of
    the columns: uncorrelated outputs, of variance close to 1 along the strong directions and well below 1 along
    those whose variance ``lam`` is comparable to ``eps`` (``eps`` caps their gain).
    """
    cov = np.asarray(cov, dtype=np.float64)
    n = cov.shape[0]
    arr = as_array(W)
    if arr is None:
        return report(False, f"W should be a NumPy array, but it is a {typename(W)}.")
    if arr.shape != (n, n):
        return report(False, f"W has shape {arr.shape}, expected ({n}, {n}): one filter of {n} numbers per column.")
    arr = arr.astype(np.float64)
    if not np.all(np.isfinite(arr)):
        return report(False, "W contains NaN or infinite values: is an eigenvalue plus EPS negative or zero?")
    lam, vecs = np.linalg.eigh(cov)
    out = arr.T @ cov @ arr
    target = np.sort(lam / (lam + eps))
    off = np.abs(out - np.diag(np.diag(out))).max()
    diagonal = off < 1e-6 * max(1.0, np.abs(out).max())
    if diagonal and np.allclose(np.sort(np.diag(out)), target, rtol=1e-5, atol=1e-9):
        return report(True, f"Correct: W.T @ cov @ W is diagonal with entries lam / (lam + EPS): the whitened patches "
                            f"are uncorrelated, with variance close to 1 along the strong directions and down to "
                            f"{target.min():.2f} along the weakest, where EPS caps the gain.")
    if diagonal and np.allclose(np.diag(out), 1.0, rtol=1e-5, atol=1e-9) and not np.allclose(target, 1.0, rtol=1e-5):
        return report(False, "W.T @ cov @ W is exactly the identity, so W divides by sqrt(eigenvalue) without EPS: "
                            "add EPS to each eigenvalue, so that the weakest directions are not amplified without "
                            "limit.")
    if np.allclose(arr.T @ arr, np.eye(n), atol=1e-6) and off < 1e-6 * max(1.0, np.abs(out).max()):
        return report(False, "W's columns are the eigenvectors, but not yet divided by sqrt(eigenvalue + EPS): the "
                            "outputs are uncorrelated but keep their very different variances.")
    scaled_rows = vecs / np.sqrt(lam + eps)[:, None]
    if np.allclose(np.abs(arr), np.abs(scaled_rows), atol=1e-9):
        return report(False, "W divides each row by sqrt(eigenvalue + EPS): each eigenvalue belongs to a column "
                            "(an eigenvector), so divide the columns.")
    if np.allclose(np.abs(arr), np.abs(vecs * (lam + eps)[None, :] ** -1), rtol=1e-6, atol=1e-12):
        return report(False, "W divides by the eigenvalues themselves: the variance falls with the square of the "
                            "gain, so divide by their square roots.")
    if not diagonal:
        return report(False, "W.T @ cov @ W is not diagonal: the whitened patches would still be correlated. Use the "
                            "eigenvectors of cov as the columns, each scaled by its own number.")
    return report(False, "W.T @ cov @ W is diagonal, but its entries are not eigenvalue / (eigenvalue + EPS): check "
                        "the number each column is divided by.")


# Exercise 3: the layers of one airbench group, in order: (name suffix, class name, settings)
GROUP_SPEC = [
    ("conv1", "Conv2D", {"kernel_size": (3, 3), "padding": "same", "use_bias": False}),
    ("pool", "MaxPooling2D", {"pool_size": (2, 2)}),
    ("bn1", "BatchNormalization", {"momentum": 0.6, "center": False, "scale": False}),
    ("shift1", "ScaledBias", {"scale": 8.0}),
    ("gelu1", "Activation", {"activation": "gelu"}),
    ("conv2", "Conv2D", {"kernel_size": (3, 3), "padding": "same", "use_bias": False}),
    ("bn2", "BatchNormalization", {"momentum": 0.6, "center": False, "scale": False}),
    ("shift2", "ScaledBias", {"scale": 8.0}),
    ("gelu2", "Activation", {"activation": "gelu"}),
]


def _layer_setting(layer, key):
    config = layer.get_config()
    value = config.get(key)
    if key == "activation":
        value = getattr(layer.activation, "__name__", value)
    if isinstance(value, list):
        value = tuple(value)
    return value


def check_conv_group(conv_group, images, labels, width: int = 8, block: int = 7, steps: int = 12) -> Check:
    """Exercise 3: ``conv_group(x, width, block)`` builds one airbench group (:data:`GROUP_SPEC`).

    The checker applies it to a small input, compares the new layers with the specification, then trains a
    tiny model around it for ``steps`` steps on ``images``/``labels`` and checks that the loss falls.
    """
    import keras
    from keras import layers

    if not callable(conv_group):
        return report(False, f"conv_group should be a function, but it is a {typename(conv_group)}.")
    inputs = keras.Input((32, 32, 3))
    stem = layers.Conv2D(8, 3, padding="same", name="stem")(layers.Rescaling(1 / 255, name="rescale")(inputs))
    try:
        out = conv_group(stem, width, block)
    except Exception as err:  # the learner's code: report any error in one sentence
        return report(False, f"calling conv_group(x, {width}, {block}) raised {error_clause(err)}")
    if out is None or not hasattr(out, "shape"):
        return report(False, f"conv_group returned {typename(out)}; it should return the output tensor of the "
                            "last layer (return x).")
    try:
        model = keras.Model(inputs, out)
    except Exception as err:
        return report(False, f"the layers do not form a model from x to the returned tensor ({type(err).__name__}); "
                            "call each layer on the output of the previous one.")
    added = [layer for layer in model.layers if layer.name not in {"stem", "rescale"}
             and not isinstance(layer, keras.layers.InputLayer)]
    names = [layer.name for layer in added]
    expected = [f"block{block}_{suffix}" for suffix, _, _ in GROUP_SPEC]
    if len(added) != len(GROUP_SPEC):
        return report(False, f"conv_group adds {len(added)} layers; the specification has {len(GROUP_SPEC)} "
                            "(conv, pool, norm, shift, GELU, then conv, norm, shift, GELU).")
    for layer, want, (_, cls, settings) in zip(added, expected, GROUP_SPEC):
        if type(layer).__name__ != cls:
            return report(False, f"layer {names.index(layer.name) + 1} ({layer.name}) is a {type(layer).__name__}; "
                                f"step {want} should be a {cls}.")
        if layer.name != want:
            return report(False, f"layer {layer.name!r} should be named {want!r} (names follow "
                                "block{block}_conv1, ..._pool, ..._bn1, ..._shift1, ..._gelu1, ..._conv2, ...).")
        for key, value in settings.items():
            got = _layer_setting(layer, key)
            if got != value and not (isinstance(value, float) and isinstance(got, float) and abs(got - value) < 1e-9):
                return report(False, f"{layer.name} has {key}={got!r}; the specification says {value!r}.")
        if cls == "Conv2D" and layer.filters != width:
            return report(False, f"{layer.name} has {layer.filters} filters; it should have `width` ({width}).")
    if tuple(out.shape[1:]) != (16, 16, width):
        return report(False, f"the group's output has shape {tuple(out.shape[1:])}; expected (16, 16, {width}) for "
                            "a 32x32 input: one 2x2 pooling, 'same' convolutions.")
    # a short run: the loss must fall
    keras.utils.set_random_seed(0)
    head = layers.Dense(10, name="head")(layers.GlobalMaxPooling2D(name="gmp")(out))
    trainer = keras.Model(inputs, head)
    trainer.compile(keras.optimizers.SGD(0.05, momentum=0.85, nesterov=True),
                    keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    x = np.asarray(images, dtype="float32")[:32]
    y = np.asarray(labels).reshape(-1)[:32]
    before = float(trainer.evaluate(x, y, verbose=0))
    trainer.fit(x, y, batch_size=16, epochs=max(1, steps // 2), verbose=0, shuffle=False)
    after = float(trainer.evaluate(x, y, verbose=0))
    if not np.isfinite(after) or after >= before:
        return report(False, f"the layers match, but a tiny model with your group did not learn in {steps} steps "
                            f"(loss {before:.3f} -> {after:.3f}).")
    return report(True, f"Correct: your group has the 9 specified layers, output shape (16, 16, {width}), and a tiny "
                        f"model with it learns (loss {before:.3f} -> {after:.3f} in {steps} steps).")


def triangular_lr(step, peak: float, total: int, warmup: float = 0.23, start: float = 0.2, end: float = 0.07) -> float:
    """The triangular schedule at ``step``: ``start*peak`` -> ``peak`` at ``int(warmup*total)`` -> ``end*peak``."""
    top = int(warmup * total)
    if step < top:
        return peak * (start + (1 - start) * step / top)
    return peak * (1 + (end - 1) * (step - top) / (total - top))


def check_triangular(triangular, peak: float, total: int) -> Check:
    """Exercise 4: the function ``triangular(step)`` gives the triangular schedule at every step 0..total."""
    if not callable(triangular):
        return report(False, f"triangular should be a function, but it is a {typename(triangular)}.")
    steps = np.arange(total + 1)
    try:
        got = np.array([float(triangular(int(s))) for s in steps])
    except Exception as err:
        return report(False, f"triangular(step) raised {type(err).__name__}: {err}")
    expected = np.array([triangular_lr(int(s), peak, total) for s in steps])
    top = int(0.23 * total)
    if np.allclose(got, expected, rtol=1e-6, atol=1e-9):
        return report(True, f"Correct: triangular(step) matches the schedule at all {total + 1} steps.")
    if not np.isclose(got[0], expected[0]):
        return report(False, f"triangular(0) is {'too large' if got[0] > expected[0] else 'too small'}: the schedule "
                            "starts at 0.2 times the peak.")
    if not np.isclose(got[top], peak):
        return report(False, "triangular(TOP) should be the peak itself: the rise ends exactly at step TOP.")
    if not np.isclose(got[-1], expected[-1]):
        return report(False, f"triangular(TOTAL) is {'too large' if got[-1] > expected[-1] else 'too small'}: the "
                            "schedule ends at 0.07 times the peak.")
    first = int(np.flatnonzero(~np.isclose(got, expected, rtol=1e-6, atol=1e-9))[0])
    part = "rise" if first < top else "fall"
    return report(False, f"the start, peak and end are right, but the {part} is not a straight line (first "
                        f"difference at step {first}).")
