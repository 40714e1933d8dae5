"""Checkers for notebook 07 (transfer learning, fine-tuning and Grad-CAM).

Each checker computes the right answer itself and prints one sentence (see :mod:`cnnkit.exercises`).
"""

from __future__ import annotations

import keras
import numpy as np

from . import Check, as_array, check_array, check_int, quietly, report, text_of, typename


def _trainable_layers(model) -> list[str]:
    names = []
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            names += [f"{layer.name}/{n}" for n in _trainable_layers(layer)]
        elif layer.trainable and layer.trainable_weights:
            names.append(layer.name)
    return names


def check_frozen_base(model, base, n_trainable) -> Check:
    """Exercise 1: ``base`` frozen inside ``model``, and ``n_trainable`` the number of values that still train.

    The checker counts the trainable values of ``model`` itself (cnnkit.transfer.count_weights does the same).
    """
    if not isinstance(model, keras.Model) or not isinstance(base, keras.Model):
        return report(False, f"model and base should be Keras models, but they are a {typename(model)} and a "
                             f"{typename(base)}.")
    if base not in model.layers:
        return report(False, "base is not a layer of model: build model on top of this base.")
    still = _trainable_layers(base)
    if still:
        return report(False, f"the base still has {len(still)} layer(s) with trainable weights (e.g. "
                             f"{still[0]}): freeze the whole base with one attribute.")
    head = list(model.trainable_weights)
    if not head:
        return report(False, "nothing in model trains any more: freeze the base only, not the head.")
    expected = int(sum(int(np.prod(w.shape)) for w in head))
    name = "your number of trainable weights"
    if not isinstance(n_trainable, bool) and isinstance(n_trainable, (int, np.integer)):
        if int(n_trainable) == model.count_params():
            return report(False, f"{name} counts every weight of the model; count only those that still train.")
        if int(n_trainable) == expected - 1:
            return report(False, f"{name} is one short: the output unit has a bias as well as its weights.")
    result = quietly(check_int, n_trainable, expected, name=name)
    if result:
        return report(True, f"Correct: the base is frozen and {name} is right.")
    return report(False, text_of(result))


def check_mobilenet_preprocess(preprocess) -> Check:
    """Exercise 2: a function mapping raw 0-255 pixels to MobileNetV2's input range, like its preprocess_input."""
    from keras.applications import mobilenet_v2

    if not callable(preprocess):
        return report(False, f"mobilenet_preprocess should be a function, but it is a {typename(preprocess)}.")
    probe = np.linspace(0.0, 255.0, 2 * 3 * 4 * 3, dtype="float32").reshape(2, 3, 4, 3)
    try:
        raw = preprocess(probe.copy())
    except Exception as err:  # noqa: BLE001  (any error in the learner's function)
        return report(False, f"calling mobilenet_preprocess on a batch of pixels raised {type(err).__name__}: {err}")
    expected = np.asarray(mobilenet_v2.preprocess_input(probe.copy()))
    got = as_array(raw)
    if got is None or got.shape != expected.shape:
        return report(False, f"mobilenet_preprocess should return an array of the input's shape {probe.shape}, "
                             f"but it returns {'a ' + typename(raw) if got is None else 'shape ' + str(got.shape)}.")
    got = got.astype("float64")
    if np.allclose(got, probe / 255.0, atol=1e-4):
        return report(False, "your values run from 0 to 1; MobileNetV2 was trained on pixels scaled to a range "
                             "centred on 0.")
    if np.allclose(got, probe, atol=1e-4):
        return report(False, "your function returns the pixels unchanged.")
    result = quietly(check_array, got, expected, name="the preprocessed batch", atol=1e-4)
    if result:
        return report(True, "Correct: your function maps 0-255 pixels exactly as "
                            "keras.applications.mobilenet_v2.preprocess_input does.")
    low, high = float(got.min()), float(got.max())
    return report(False, f"your function maps 0-255 to {low:.3g}..{high:.3g}, which is not the range "
                         "MobileNetV2 expects.")


def check_channel_weights(weights, grads) -> Check:
    """Exercise 3: Grad-CAM's channel weights, one per image and channel, from ``grads`` ``(N, h, w, K)``."""
    grads = np.asarray(grads.numpy() if hasattr(grads, "numpy") else grads, dtype="float64")
    if grads.ndim != 4:
        raise ValueError(f"grads must have shape (N, h, w, K), got {grads.shape}")
    expected = grads.mean(axis=(1, 2))
    arr = as_array(weights)
    name = "weights"
    if arr is None:
        return report(False, f"{name} should be an array of numbers (a NumPy array), but it is a {typename(weights)}.")
    if arr.shape != expected.shape:
        if arr.shape == grads.shape[:3]:
            return report(False, f"{name} has shape {arr.shape}: you averaged over the channels; average over the "
                                 "height and width instead, keeping one weight per channel.")
        return report(False, f"{name} has shape {arr.shape}, expected {expected.shape}: one weight per image and "
                             "channel.")
    arr = arr.astype("float64")
    h, w = grads.shape[1:3]
    if h * w > 1 and np.allclose(arr, expected * h * w, rtol=1e-4, atol=1e-8) and not np.allclose(arr, expected):
        return report(False, f"{name} is {h * w} times too large: that is a sum over the {h}x{w} positions; "
                             "Grad-CAM averages them.")
    if np.allclose(arr, np.abs(grads).mean(axis=(1, 2)), rtol=1e-4, atol=1e-8) and not np.allclose(arr, expected):
        return report(False, f"{name} never comes out negative: average the gradients themselves, not their "
                             "absolute values.")
    result = quietly(check_array, arr, expected, name=name, rtol=1e-4, atol=1e-8)
    if result:
        return report(True, f"Correct: {name} holds one average gradient per image and channel.")
    return report(False, text_of(result))


def check_cell_share(share, cam, cell) -> Check:
    """Exercise 4: the share of one Grad-CAM map that lies on the stained cell (``cell``: a boolean mask)."""
    from ..explain import share_inside

    expected = float(share_inside(np.asarray(cam, dtype="float32")[None], np.asarray(cell, dtype=bool))[0])
    name = "share"
    if hasattr(share, "item") and np.ndim(share) == 0:
        share = share.item()
    if isinstance(share, bool) or not isinstance(share, (int, float)):
        return report(False, f"{name} should be one number (a float), but it is a {typename(share)}.")
    if not np.isfinite(share):
        return report(False, f"{name} is {share}, not a finite number.")
    if share > 1.0:
        return report(False, f"{name} is above 1: divide by the map's total, so that the share lies between 0 and 1.")
    area = float(np.mean(cell))
    if abs(share - area) < 1e-6 and abs(expected - area) > 1e-3:
        return report(False, f"{name} is the cell's share of the image area; weight each pixel by the map.")
    if abs(share - expected) <= 1e-3:
        return report(True, f"Correct: {name} is the part of the map's total that lies on the cell.")
    return report(False, f"{name} is too {'large' if share > expected else 'small'}; stretch the map to the "
                         "image's size first (explain.upsample), then sum it over the cell's pixels and divide by "
                         "its total.")
