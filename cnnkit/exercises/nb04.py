"""Checkers for notebook 04 (LeNet on Fashion-MNIST).

Each checker computes the right answer itself from its inputs and prints one sentence; it never
prints the expected values.
"""

from __future__ import annotations

import numpy as np

from . import Check, as_array, check_array, error_clause, input_shape, layers_of, report, short_run, typename

__all__ = ["check_one_hot", "check_classic_lenet", "check_left_half_fraction", "check_clothing_augmentation",
           "classic_lenet_params", "left_half_fraction", "mean_of_image_shares", "pad_to_32"]


def check_one_hot(answer, labels, num_classes: int = 10) -> Check:
    """Exercise 2: ``answer`` is the one-hot encoding of the integer ``labels`` with ``num_classes`` columns."""
    labels = np.asarray(labels).astype(int).reshape(-1)
    expected = np.eye(num_classes)[labels]
    arr = as_array(answer)
    if arr is not None and arr.ndim == 2 and arr.shape[0] == len(labels) and arr.shape[1] != num_classes:
        return report(False, f"one_hot has {arr.shape[1]} columns, but there must be one column per class: "
                            "pass num_classes (to_categorical otherwise infers it from the largest label).")
    return check_array(answer, expected, name="one_hot")


def classic_lenet_params() -> int:
    """Parameters of the classic LeNet-5 layout in Keras (32x32x1 input, 'valid' 5x5 convolutions,
    2x2 pooling, dense 120-84-10; every C3 filter sees all six maps)."""
    c1 = (5 * 5 * 1 + 1) * 6
    c3 = (5 * 5 * 6 + 1) * 16
    side = ((32 - 4) // 2 - 4) // 2  # 32 -> 28 -> 14 -> 10 -> 5
    f5 = (side * side * 16 + 1) * 120
    f6 = (120 + 1) * 84
    out = (84 + 1) * 10
    return c1 + c3 + f5 + f6 + out


def pad_to_32(images) -> np.ndarray:
    """28x28 images framed by 2 black pixels on every side: 32x32, as LeCun et al. padded MNIST for LeNet-5."""
    images = np.asarray(images)
    if images.ndim == 3:
        images = images[..., None]
    return np.pad(images, ((0, 0), (2, 2), (2, 2), (0, 0))).astype("float32")


def _activation(layer) -> str:
    act = getattr(layer, "activation", None)
    return getattr(act, "__name__", str(act))


_ACTIVATION_LAYERS = ("Activation", "Softmax", "ReLU", "LeakyReLU", "ELU", "PReLU")


def _is_activation_layer(layer) -> bool:
    return type(layer).__name__ in _ACTIVATION_LAYERS


def _activation_layer_name(layer) -> str:
    kind = type(layer).__name__
    return _activation(layer) if kind == "Activation" else kind.lower()


def _effective_activations(found) -> tuple:
    """Each weighted layer's activation as the model computes it: its own ``activation=`` argument, or the
    activation layers (``Activation("tanh")``, ``Softmax()``...) that follow it directly, in the order applied
    ("linear" when there is none; two nonlinearities in a row are joined with "+").

    Returns ``(activations, stray)``: a dict from each Conv2D/Dense layer to its activation, and the activation
    layers that do not follow a weighted layer directly (e.g. a tanh after the pooling).
    """
    from keras import layers

    activations, stray, owner = {}, [], None
    for layer in found:
        if isinstance(layer, (layers.Conv2D, layers.Dense)):
            owner = layer
            own = _activation(layer)
            activations[layer] = [] if own == "linear" else [own]
        elif _is_activation_layer(layer) and owner is not None:
            activations[owner].append(_activation_layer_name(layer))
        elif _is_activation_layer(layer):
            stray.append(layer)
        else:
            owner = None
    return {layer: "+".join(chain) or "linear" for layer, chain in activations.items()}, stray


CLASSIC_RUN_STEPS = 10  # a few full-batch steps: the loss of a right model falls by a third or more
CLASSIC_LOSS_FALL = 0.1  # the smallest relative fall that counts as training


def check_classic_lenet(model, images, labels) -> Check:
    """Exercise 1: ``model`` is the classic LeNet-5 layout, built from the written spec, and it trains.

    The spec: a 32x32x1 input, ``Rescaling(1/255)``, conv 6@5x5 'valid' + tanh, 2x2 average pooling,
    conv 16@5x5 'valid' + tanh, 2x2 average pooling, ``Flatten``, dense 120 and 84 with tanh, dense 10 with
    softmax. The structure is checked layer by layer, with a sentence for the usual slips (no rescaling,
    'same' padding, max pooling, ReLU, the wrong number of filters or units, no softmax). Then a copy
    (``keras.models.clone_model``: new weights, the learner's model is not touched) is compiled with Adam
    and sparse cross-entropy and trained for a few steps on ``images`` (28x28 Fashion-MNIST images,
    padded to 32x32 here) and their integer ``labels``: its loss must fall.
    """
    import keras
    from keras import layers

    name = "classic"
    if not isinstance(model, keras.Model):
        return report(False, f"{name} should be a Keras model (keras.Sequential([...])), but it is a "
                            f"{typename(model)}.")
    shape = input_shape(model)
    if shape != (None, 32, 32, 1):
        got = f"takes inputs of shape {shape}" if shape else "has no input shape yet"
        return report(False, f"{name} {got}; the classic layout takes 32x32 images with one channel: start "
                            "with keras.Input((32, 32, 1)).")
    found = layers_of(model)
    kinds = [type(layer).__name__ for layer in found]
    if not found or not isinstance(found[0], layers.Rescaling):
        return report(False, f"{name} does not start with Rescaling(1/255): scale the pixels inside the model, "
                            "as lenet5 does, so that it can take raw 0-255 pixels.")
    if not np.isclose(float(found[0].scale), 1 / 255) or float(found[0].offset) != 0:
        return report(False, f"{name}'s Rescaling layer does not divide by 255: the pixels should end up "
                            "between 0 and 1.")
    convs = [layer for layer in found if isinstance(layer, layers.Conv2D)]
    pools = [layer for layer in found if isinstance(layer, (layers.AveragePooling2D, layers.MaxPooling2D))]
    denses = [layer for layer in found if isinstance(layer, layers.Dense)]
    if len(convs) != 2:
        return report(False, f"{name} has {len(convs)} convolution layer(s); the classic layout has two, "
                            "C1 and C3.")
    if [layer.filters for layer in convs] != [6, 16]:
        return report(False, f"{name}'s convolutions have {[layer.filters for layer in convs]} filters; the "
                            "spec asks for 6 in the first and 16 in the second.")
    if any(tuple(layer.kernel_size) != (5, 5) for layer in convs):
        return report(False, f"{name}'s convolutions have kernels {[tuple(c.kernel_size) for c in convs]}; "
                            "both are 5x5 in the classic layout.")
    if any(tuple(layer.strides) != (1, 1) for layer in convs):
        return report(False, f"{name}'s convolutions have strides {[tuple(c.strides) for c in convs]}; the "
                            "pooling layers do the downsampling here, so the convolutions keep stride 1.")
    if any(layer.padding != "valid" for layer in convs):
        return report(False, f"{name} pads its convolutions ('same'), which keeps their output as large as "
                            "their input; the classic layout's convolutions are 'valid' (Keras's default), "
                            "so 5x5 kernels shrink each side by 4.")
    if len(pools) != 2 or not all(isinstance(p, layers.AveragePooling2D) for p in pools):
        if any(isinstance(p, layers.MaxPooling2D) for p in pools):
            return report(False, f"{name} uses max pooling; the classic layout averages 2x2 blocks "
                                "(AveragePooling2D).")
        return report(False, f"{name} has {len(pools)} pooling layer(s); the spec has a 2x2 average pooling "
                            "after each convolution.")
    if any(tuple(p.pool_size) != (2, 2) for p in pools):
        return report(False, f"{name}'s pooling windows are {[tuple(p.pool_size) for p in pools]}; both are "
                            "2x2.")
    if "Flatten" not in kinds:
        return report(False, f"{name} has no Flatten layer: the feature maps must become one vector before "
                            "the dense layers.")
    if [layer.units for layer in denses] != [120, 84, 10]:
        return report(False, f"{name}'s dense layers have {[layer.units for layer in denses]} units; the "
                            "spec asks for 120, 84 and then 10, one per class.")
    acts, stray = _effective_activations(found)
    if stray:
        return report(False, f"{name} applies an activation layer ({_activation_layer_name(stray[0])}) that does not "
                            "directly follow a convolution or dense layer; in the spec each activation acts on its "
                            "own layer's output, before any pooling.")
    hidden = [acts[layer] for layer in convs + denses[:2]]
    if any(a != "tanh" for a in hidden):
        return report(False, f"{name}'s convolutions and hidden dense layers use {sorted(set(hidden))}; the "
                            "classic layout uses tanh in all four.")
    after_output = found[found.index(denses[-1]) + 1:]
    if any(not _is_activation_layer(layer) for layer in after_output):
        return report(False, f"{name} must end with the 10-unit output layer, but its last layer is a "
                            f"{kinds[-1]}.")
    output = acts[denses[-1]]
    if output != "softmax":
        return report(False, f"{name}'s output layer has the activation '{output}'; it must turn its 10 scores "
                            "into probabilities (softmax).")
    if model.count_params() != classic_lenet_params():
        return report(False, f"{name} has the right kinds of layers but not the classic layout's parameter "
                            "count: compare its summary with the spec, layer by layer.")
    x, y = pad_to_32(images), np.asarray(labels).astype("int32").reshape(-1)
    copy = keras.models.clone_model(model)
    copy.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy")
    before, after, problem = short_run(copy, x, y, CLASSIC_RUN_STEPS, fall=CLASSIC_LOSS_FALL)
    if problem:
        return report(False, f"{name} has the classic layout, but in a short run of a copy of it {problem}.")
    return report(True, f"Correct: {name} has the classic layout ({model.count_params():,} parameters), and a copy "
                       f"of it trained for {CLASSIC_RUN_STEPS} steps on {len(x)} Fashion-MNIST images, padded to "
                       f"32x32, lowered its loss from {before:.3f} to {after:.3f}.")


def _images_2d(images) -> np.ndarray:
    images = np.asarray(images, dtype=np.float64)
    return images[..., 0] if images.ndim == 4 else images


def left_half_fraction(images, labels, num_classes: int = 10, columns: int | None = None,
                       axis: int = 2) -> np.ndarray:
    """For each class, the share of all its pixel intensity (summed over all the class's images first) that
    lies in the first ``columns`` columns (default: half the width). ``axis=1`` takes rows instead."""
    images = _images_2d(images)
    labels = np.asarray(labels).reshape(-1)
    if columns is None:
        columns = images.shape[axis] // 2
    out = np.zeros(num_classes)
    for c in range(num_classes):
        cls = images[labels == c]
        part = cls[:, :, :columns] if axis == 2 else cls[:, :columns, :]
        out[c] = part.sum() / cls.sum()
    return out


def mean_of_image_shares(images, labels, num_classes: int = 10) -> np.ndarray:
    """The other reading of exercise 4: each image's own left-half share, averaged over the class
    (all-black images, whose share is undefined, are skipped)."""
    images = _images_2d(images)
    labels = np.asarray(labels).reshape(-1)
    half = images.shape[2] // 2
    totals = images.sum(axis=(1, 2))
    with np.errstate(divide="ignore", invalid="ignore"):
        shares = images[:, :, :half].sum(axis=(1, 2)) / totals
    return np.array([np.nanmean(shares[(labels == c) & (totals > 0)]) if np.any((labels == c) & (totals > 0))
                     else np.nan for c in range(num_classes)])


def check_left_half_fraction(answer, images, labels, num_classes: int = 10) -> Check:
    """Exercise 4: per class, the share of the class's summed intensity in the left half (columns < W/2).

    Targeted hints for the usual slips: the right half, rows instead of columns, a slice one column too
    short or too long, and the mean of the per-image shares instead of the share of the class's sum.
    """
    expected = left_half_fraction(images, labels, num_classes)
    arr = as_array(answer)
    if arr is not None and arr.shape == expected.shape and np.all(np.isfinite(arr)) \
            and not np.allclose(arr, expected, atol=1e-4, rtol=1e-4):
        width = _images_2d(images).shape[2]
        half = width // 2

        def like(alternative):
            alternative = np.asarray(alternative, dtype=np.float64)
            return np.all(np.isfinite(alternative)) and np.allclose(arr, alternative, atol=1e-4, rtol=1e-4)

        if like(1 - expected):
            return report(False, "left_fraction looks like the right half's share: the left half is the first "
                                "W/2 columns (the last axis of a (H, W) image).")
        if like(left_half_fraction(images, labels, num_classes, axis=1)):
            return report(False, "left_fraction looks like the share of the top half (rows): columns are the "
                                "last axis of a (H, W) image, so slice the last axis.")
        for cols in (half - 1, half + 1):
            if like(left_half_fraction(images, labels, num_classes, columns=cols)):
                return report(False, f"left_fraction counts {cols} columns as the left half instead of {half} "
                                    f"(W/2 for W = {width}): a slice's end index is excluded, so [:k] takes "
                                    "columns 0 to k - 1.")
        if like(mean_of_image_shares(images, labels, num_classes)):
            return report(False, "left_fraction looks like the average of each image's own share: sum the "
                                "intensity over all images of a class first, then take the left half's "
                                "share of that sum.")
    return check_array(answer, expected, name="left_fraction", atol=1e-4, rtol=1e-4)


AUGMENT_RUN_STEPS = 15
AUGMENT_LOSS_FALL = 0.05  # the batch changes at every step, so the loss falls less smoothly


def _factor_range(layer, axis: str) -> tuple:
    return float(getattr(layer, f"{axis}_lower")), float(getattr(layer, f"{axis}_upper"))


def check_clothing_augmentation(pipeline, images, labels) -> Check:
    """Exercise 4: ``pipeline`` (a ``keras.Sequential`` of augmentation layers) makes only the changes that
    suit clothing photos, and a model can train behind it.

    The spec, from the notebook's analysis: a horizontal flip (no vertical one), shifts of up to 10% of
    the height and the width, filled with black (``fill_mode="constant"``, ``fill_value=0``) and by whole
    pixels (``interpolation="nearest"``), nothing else (no rotation, no zoom). Then, on ``images`` (uint8,
    28x28x1): the pipeline leaves them unchanged outside training, changes them in training without
    leaving 0-255, and a small CNN with the pipeline in front lowers its loss on ``images``/``labels`` in a
    few training steps.
    """
    import keras
    from keras import layers

    name = "clothing_augmentation"
    if isinstance(pipeline, (list, tuple)):
        return report(False, f"{name} is a {typename(pipeline)} of layers; wrap them in keras.Sequential([...]) "
                            "so that they work as one model.")
    if not isinstance(pipeline, keras.Model):
        return report(False, f"{name} should be a keras.Sequential of augmentation layers, but it is a "
                            f"{typename(pipeline)}.")
    found = layers_of(pipeline)
    flips = [layer for layer in found if isinstance(layer, layers.RandomFlip)]
    shifts = [layer for layer in found if isinstance(layer, layers.RandomTranslation)]
    others = [type(layer).__name__ for layer in found if layer not in flips + shifts]
    if any(kind in ("RandomRotation", "RandomZoom") for kind in others):
        return report(False, f"{name} contains {', '.join(sorted(set(others)))}: every item in the dataset is "
                            "upright and the same size, so rotated or zoomed copies are images the test set "
                            "never shows; keep only the flip and the shift.")
    if others:
        return report(False, f"{name} contains {', '.join(others)}; the spec asks for a horizontal flip and a "
                            "shift, nothing else.")
    if len(flips) != 1 or len(shifts) != 1:
        return report(False, f"{name} has {len(flips)} RandomFlip and {len(shifts)} RandomTranslation layer(s); "
                            "the spec asks for one of each.")
    flip, shift = flips[0], shifts[0]
    if flip.mode == "horizontal_and_vertical":
        return report(False, f"{name}'s RandomFlip uses mode '{flip.mode}' (RandomFlip's default), which also "
                            "flips upside down; clothing is photographed upright, so flip left-right only.")
    if flip.mode != "horizontal":
        return report(False, f"{name}'s RandomFlip uses mode '{flip.mode}', which flips images upside down (never "
                            "seen in these upright photos) and never mirrors them left-right (which keeps the "
                            "label).")
    ranges = {axis: _factor_range(shift, axis) for axis in ("height", "width")}
    if any(lo == 0 and hi == 0 for lo, hi in ranges.values()):
        still = [axis for axis, (lo, hi) in ranges.items() if lo == 0 and hi == 0]
        return report(False, f"{name} never shifts along the {still[0]}: the items are off-centre in both "
                            "directions (the centre-of-intensity spread above), so shift both ways.")
    if not all(np.isclose(lo, -0.1) and np.isclose(hi, 0.1) for lo, hi in ranges.values()):
        return report(False, f"{name} shifts by other amounts than the spec: up to 10% of the image in each "
                            "direction, up and down as well as left and right.")
    if shift.fill_mode != "constant" or float(shift.fill_value) != 0:
        return report(False, f"{name} fills the uncovered border with fill_mode='{shift.fill_mode}'"
                            + ("" if shift.fill_mode != "constant" else f" and the value {shift.fill_value}")
                            + "; the background of these photos is black, so fill with the constant 0.")
    if shift.interpolation != "nearest":
        return report(False, f"{name} shifts with '{shift.interpolation}' interpolation, which blurs when a shift "
                            "is not a whole number of pixels; 'nearest' moves whole pixels.")
    x = np.asarray(images)
    y = np.asarray(labels).astype("int32").reshape(-1)
    try:
        kept = keras.ops.convert_to_numpy(pipeline(x, training=False))
        changed = keras.ops.convert_to_numpy(pipeline(x, training=True))
    except Exception as err:  # the learner's pipeline may raise anything
        return report(False, f"{name} raised {error_clause(err)} on a batch of images.")
    if kept.shape != x.shape or not np.array_equal(kept, x.astype(kept.dtype)):
        return report(False, f"{name} changes images outside training; augmentation must leave them as they are "
                            "when training=False.")
    if changed.shape != x.shape or np.mean(np.any(changed != x, axis=(1, 2, 3))) < 0.5:
        return report(False, f"{name} leaves most images unchanged in training (training=True).")
    if changed.min() < 0 or changed.max() > 255:
        return report(False, f"{name} produces pixel values outside 0-255.")
    model = keras.Sequential([keras.Input(x.shape[1:]), pipeline, layers.Rescaling(1 / 255),
                              layers.Conv2D(8, 3, activation="relu"), layers.MaxPooling2D(2), layers.Flatten(),
                              layers.Dense(10, activation="softmax")])
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy")
    before, after, problem = short_run(model, x.astype("float32"), y, AUGMENT_RUN_STEPS, fall=AUGMENT_LOSS_FALL)
    if problem:
        return report(False, f"{name} has the right layers, but in a short run of a small CNN behind it {problem}.")
    return report(True, f"Correct: {name} flips left-right and shifts by up to 10% with black, whole-pixel fills, "
                       f"leaves images alone outside training, and a small CNN behind it lowered its loss from "
                       f"{before:.3f} to {after:.3f} in {AUGMENT_RUN_STEPS} steps on {len(x)} images.")
