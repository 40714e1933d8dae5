"""Reuse a trained network on a new task (notebook 07): transfer learning and fine-tuning.

* :func:`resize_input`: a trained functional model rebuilt for another image size, with the same weights
  (a convolutional network with global pooling accepts any size; only its ``Input`` declares one).
* :func:`feature_extractor`: the part of a model up to one layer, e.g. the pooled features before its head.
* :func:`classifier`: a new head (dropout and one sigmoid unit) on a base, with optional augmentation and
  preprocessing in front.
* :func:`unfreeze_top`: which layers of a base train when fine-tuning; it keeps batch normalisation
  frozen, and so in inference mode (see below). :func:`count_weights` counts the numbers that train.
* :func:`imagenet_base`: a ``keras.applications`` network with ImageNet weights and its own
  ``preprocess_input``, or :class:`WeightsUnavailable` in one sentence when the weights cannot be had
  (offline, ``CNNKIT_OFFLINE=1``).

**Batch normalisation while fine-tuning.** A ``BatchNormalization`` layer whose ``trainable`` is False
runs in inference mode (it normalises with its stored statistics and never updates them), whatever mode
the model runs in: Keras ties the two for this layer. The Keras guide's ``base(x, training=False)``, written
when a functional model is built, does not do that job in Keras 3: ``fit`` calls the model with
``training=True``, and that value reaches every layer inside, overriding the ``False`` stored at build time
(keras-team/keras#20285; notebook 07 measures it). So :func:`unfreeze_top` leaves the batch norms frozen.
"""

from __future__ import annotations

import socket

import keras
import numpy as np

__all__ = ["resize_input", "feature_extractor", "classifier", "unfreeze_top", "count_weights",
           "batch_norm_layers", "IMAGENET_BASES", "imagenet_base", "WeightsUnavailable"]


def resize_input(model, input_shape, name: str | None = None):
    """``model`` rebuilt for images of ``input_shape`` ``(height, width, channels)``, sharing no variables
    with it but holding a copy of its weights.

    Only functional models with one input; the layers must accept the new size (convolutions and global
    pooling do; a ``Flatten`` followed by ``Dense`` does not, and the error says so).
    """
    if not isinstance(model, keras.Model) or isinstance(model, keras.Sequential) or len(model.inputs) != 1:
        raise ValueError("resize_input takes a functional keras.Model with one input "
                         f"(got {type(model).__name__})")
    input_shape = tuple(int(d) for d in input_shape)
    if len(input_shape) != 3:
        raise ValueError(f"input_shape must be (height, width, channels), got {input_shape}")
    if input_shape[-1] != model.inputs[0].shape[-1]:
        raise ValueError(f"{model.name} takes {model.inputs[0].shape[-1]} channels, not {input_shape[-1]}")
    config = model.get_config()
    first = config["layers"][0]
    if first.get("class_name") != "InputLayer":
        raise ValueError(f"{model.name}'s first layer is not its Input")
    first["config"]["batch_shape"] = (None, *input_shape)
    if name:
        config["name"] = name
    from . import layers, training  # noqa: F401  (register the course's custom layers for from_config)

    try:
        rebuilt = keras.Model.from_config(config)
    except ValueError as err:
        first_line = str(err).strip().splitlines()[0]
        raise ValueError(f"{model.name} cannot take {input_shape[0]}x{input_shape[1]} images: {first_line}") from None
    rebuilt.set_weights(model.get_weights())
    return rebuilt


def feature_extractor(model, layer: str, name: str | None = None):
    """A model from ``model``'s input to the output of its layer ``layer``, sharing its layers (and weights)."""
    try:
        out = model.get_layer(layer).output
    except ValueError:
        raise ValueError(f"{model.name} has no layer {layer!r}") from None
    return keras.Model(model.inputs[0], out, name=name or f"{model.name}_features")


def classifier(base, *, preprocess=None, augment=None, dropout: float = 0.2, pooling: str = "avg",
               name: str = "transfer"):
    """Augmentation (training only), preprocessing, ``base``, global pooling (if the base gives feature
    maps), dropout and one sigmoid unit ``predictions`` that outputs P(class 1).

    The input takes raw pixels of the base's input size.

    Args:
        base: a model, e.g. :func:`feature_extractor` of a trained network or :func:`imagenet_base`.
        preprocess: a function or layer applied to the raw pixels first, e.g. a ``keras.applications``
            network's ``preprocess_input`` (None: the base takes raw pixels, as the course's models do).
        augment: augmentation layer(s), active during ``fit`` only.
        dropout: rate of the dropout before the output (0: none).
        pooling: ``"avg"`` or ``"max"``, for a base whose output is still feature maps ``(h, w, channels)``.
        name: the model's name.

    Returns:
        An uncompiled functional ``keras.Model``; the base is one layer of it (``model.get_layer(base.name)``).
    """
    from keras import layers

    if pooling not in ("avg", "max"):
        raise ValueError(f"pooling must be 'avg' or 'max', got {pooling!r}")
    inputs = keras.Input(base.inputs[0].shape[1:], name="image")
    x = inputs
    for layer in ([] if augment is None else list(augment) if isinstance(augment, (list, tuple)) else [augment]):
        x = layer(x)
    if preprocess is not None:
        x = preprocess(x) if isinstance(preprocess, keras.layers.Layer) else \
            layers.Lambda(preprocess, name="preprocess")(x)
    x = base(x)
    if len(x.shape) == 4:
        x = (layers.GlobalAveragePooling2D if pooling == "avg" else layers.GlobalMaxPooling2D)(name="pool")(x)
    if dropout:
        x = layers.Dropout(dropout, name="dropout")(x)
    outputs = layers.Dense(1, activation="sigmoid", name="predictions")(x)
    return keras.Model(inputs, outputs, name=name)


def batch_norm_layers(model) -> list:
    """Every ``BatchNormalization`` layer in ``model``, nested models included."""
    found = []
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            found.append(layer)
        elif isinstance(layer, keras.Model):
            found += batch_norm_layers(layer)
    return found


def unfreeze_top(base, first_layer: str, keep_batch_norm_frozen: bool = True) -> list[str]:
    """Make the layers of ``base`` from ``first_layer`` to the end trainable, and the earlier ones not.

    Batch norms stay frozen (``keep_batch_norm_frozen``), so they keep running in inference mode with the
    statistics learned on the original data (see the module's note). Layers that were built non-trainable on
    purpose are not part of "the top" and need no exception: only layers from ``first_layer`` on change.
    Recompile the model that contains ``base`` afterwards.

    Returns:
        The names of the layers left trainable (those that have weights).
    """
    names = [layer.name for layer in base.layers]
    if first_layer not in names:
        raise ValueError(f"{base.name} has no layer {first_layer!r}")
    start = names.index(first_layer)
    base.trainable = True  # the model's own flag; each layer's flag below decides
    unfrozen = []
    for i, layer in enumerate(base.layers):
        is_bn = isinstance(layer, keras.layers.BatchNormalization)
        layer.trainable = i >= start and not (is_bn and keep_batch_norm_frozen)
        if layer.trainable and layer.weights:
            unfrozen.append(layer.name)
    return unfrozen


def count_weights(model, trainable: bool = True) -> int:
    """The number of trainable (or, with ``trainable=False``, non-trainable) values in ``model``."""
    weights = model.trainable_weights if trainable else model.non_trainable_weights
    return int(sum(int(np.prod(w.shape)) for w in weights))


class WeightsUnavailable(RuntimeError):
    """Pretrained weights cannot be loaded here (offline, or the download failed); the message says why."""


# name -> (builder, module whose preprocess_input goes with it)
IMAGENET_BASES = {
    "MobileNetV2": ("MobileNetV2", "mobilenet_v2"),
    "EfficientNetB0": ("EfficientNetB0", "efficientnet"),
    "ResNet50": ("ResNet50", "resnet50"),
}


def imagenet_base(name: str = "MobileNetV2", input_shape=(128, 128, 3), weights: str | None = "imagenet",
                  timeout: float = 30.0):
    """A ``keras.applications`` network without its classifier (``include_top=False``) and its preprocessing.

    Args:
        name: one of :data:`IMAGENET_BASES`.
        input_shape: ``(height, width, 3)``; each network lists the sizes its weights exist for.
        weights: ``"imagenet"`` (downloaded once by ``keras.utils.get_file`` into ``~/.keras/models``), or
            None for random weights (what the unit tests build, offline).
        timeout: seconds a stalled connection may wait before the download gives up.

    Returns:
        ``(base, preprocess_input)``: the base outputs feature maps; ``preprocess_input`` maps raw 0-255
        pixels to what the network was trained on.

    Raises:
        WeightsUnavailable: ``CNNKIT_OFFLINE=1`` forbids the download, or it failed (no connection,
            a server error); one sentence, no traceback from inside Keras.
        ValueError: an unknown ``name``.
    """
    import importlib

    from .data.common import OFFLINE_ENV, offline

    if name not in IMAGENET_BASES:
        raise ValueError(f"unknown network {name!r}; choose one of {list(IMAGENET_BASES)}")
    builder_name, module = IMAGENET_BASES[name]
    builder = getattr(keras.applications, builder_name)
    preprocess = importlib.import_module(f"keras.applications.{module}").preprocess_input
    if weights == "imagenet" and offline():
        raise WeightsUnavailable(f"{name}'s ImageNet weights were not loaded: {OFFLINE_ENV}=1 forbids downloads")
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(timeout)  # urllib, under keras.utils.get_file, would otherwise wait indefinitely
    try:
        base = builder(include_top=False, weights=weights, input_shape=tuple(input_shape))
    except ValueError:
        raise  # a wrong input shape or argument: Keras's own message says which
    except Exception as err:  # noqa: BLE001  (get_file raises a plain Exception for any network failure)
        first_line = (str(err).strip().splitlines() or [type(err).__name__])[0]
        # get_file's message is "URL fetch failure on <url>: <code> -- <reason>"; the reason says it all
        reason = first_line.rsplit(" -- ", 1)[-1].strip() or first_line
        raise WeightsUnavailable(f"{name}'s ImageNet weights could not be downloaded "
                                 f"({reason[:160]})") from None
    finally:
        socket.setdefaulttimeout(previous)
    return base, preprocess
