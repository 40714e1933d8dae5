"""See where a trained network looks: Grad-CAM and plain gradient saliency maps (notebook 07).

* :func:`grad_cam`: Selvaraju et al. (2017), "Grad-CAM: Visual Explanations from Deep Networks via
  Gradient-based Localization": the gradients of a class score with respect to one layer's feature maps,
  averaged per channel, weight those maps; their sum, through a ReLU and scaled to [0, 1], is the map.
* :func:`saliency`: the gradient of the class score with respect to the input pixels (Simonyan et al.,
  2014, "Deep Inside Convolutional Networks"), its largest absolute value over the colour channels.
* :func:`class_scores`: the scores both differentiate, and :func:`feature_map_layers`, the layers
  Grad-CAM can use.
* :func:`upsample` and :func:`share_inside`: a map at the image's size, and how much of it lies in a
  region (a patch, a stained cell): a number to check a map against what it should show.
* :func:`reinitialized` and :func:`rank_correlation`: the model-randomisation sanity check (Adebayo et al.,
  2018, "Sanity Checks for Saliency Maps"): a map that explains the trained model must change when its top
  layers get fresh random weights.

The *class score* is the one before the softmax or sigmoid (the logit), as in the paper: when the model's
last layer is a ``Dense`` or ``Activation`` layer ending in a softmax or sigmoid, its pre-activation is
used; otherwise the model's output itself. For one sigmoid unit (P(class 1)) the score of class 1 is the
logit ``z`` and the score of class 0 is ``-z``.

The layer may also sit inside a nested model (a pretrained base called as one layer of a classifier),
when the classifier is a chain of layers around it; the result is checked against the classifier's own
output.
"""

from __future__ import annotations

import keras
import numpy as np

__all__ = ["grad_cam", "saliency", "class_scores", "feature_map_layers", "upsample", "share_inside", "reinitialized",
           "rank_correlation"]

_FINAL_ACTIVATIONS = ("softmax", "sigmoid")


def _activation_name(layer) -> str | None:
    fn = getattr(layer, "activation", None)
    return getattr(fn, "__name__", None) if fn is not None else None


def _leaf_layers(model):
    """Layers of ``model`` without its input layers."""
    return [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]


def feature_map_layers(model, convolutions_only: bool = False) -> list[str]:
    """Names of the layers whose output is a stack of feature maps ``(batch, h, w, channels)``.

    Layers of a nested model (one level deep) are included. ``convolutions_only`` keeps the convolution
    layers (``Conv2D`` and its relatives), which the error messages list.
    """
    names = []
    for layer in _leaf_layers(model):
        if isinstance(layer, keras.Model):
            names += [n for n in feature_map_layers(layer, convolutions_only) if n not in names]
            continue
        try:
            shape = layer.output.shape
        except (AttributeError, ValueError):
            continue
        if len(shape) == 4 and (not convolutions_only or "Conv" in type(layer).__name__):
            names.append(layer.name)
    return names


def _pre_activation(last, x):
    """The last layer's output before its softmax or sigmoid, from that layer's input ``x``."""
    from keras import ops

    name = _activation_name(last)
    if isinstance(last, keras.layers.Activation) and name in _FINAL_ACTIVATIONS:
        return x
    if isinstance(last, keras.layers.Dense) and name in _FINAL_ACTIVATIONS:
        z = ops.matmul(x, last.kernel)
        return z + last.bias if last.use_bias else z
    return last(x, training=False)


def _final_kind(model) -> str:
    last = _leaf_layers(model)[-1]
    name = _activation_name(last)
    if isinstance(last, (keras.layers.Activation, keras.layers.Dense)) and name in _FINAL_ACTIVATIONS:
        return name
    return "linear"


def _select(scores, class_index, binary: bool):
    """Each image's score for its class: ``class_index`` (int, or one per image) or the predicted class."""
    import tensorflow as tf

    if binary:
        z = scores[:, 0]
        if class_index is None:
            chosen = tf.cast(z > 0, tf.int32)
        else:
            chosen = tf.constant(class_index, tf.int32) * tf.ones_like(z, tf.int32)
        return tf.where(chosen == 1, z, -z), chosen
    if class_index is None:
        chosen = tf.argmax(scores, axis=-1, output_type=tf.int32)
    else:
        chosen = tf.constant(class_index, tf.int32) * tf.ones(tf.shape(scores)[:1], tf.int32)
    return tf.gather(scores, chosen, axis=1, batch_dims=1), chosen


def _check_images(model, images) -> np.ndarray:
    x = np.asarray(images.numpy() if hasattr(images, "numpy") else images)
    expected = tuple(model.inputs[0].shape[1:]) if getattr(model, "inputs", None) else None
    if x.ndim == 3 and expected is not None and len(expected) == 3:
        raise ValueError(f"images must be a batch (N, height, width, channels); got one image of shape {x.shape}: "
                         "pass images[np.newaxis] (a batch of one)")
    if x.ndim != 4:
        raise ValueError(f"images must have shape (N, height, width, channels), got {x.shape}")
    if expected is not None and len(expected) == 3:
        for got, want, what in zip(x.shape[1:], expected, ("height", "width", "channels")):
            if want is not None and got != want:
                raise ValueError(f"images are {x.shape[1]}x{x.shape[2]}x{x.shape[3]} but {model.name} takes "
                                 f"{'x'.join(str(d) for d in expected)} (the {what} differs)")
    if not np.issubdtype(x.dtype, np.number):
        raise ValueError(f"images must be numbers, got dtype {x.dtype}")
    return x.astype("float32")


def _check_class_index(class_index, n: int, num_classes: int):
    if class_index is None:
        return None
    idx = np.asarray(class_index)
    if not np.issubdtype(idx.dtype, np.integer) or idx.ndim > 1 or (idx.ndim == 1 and len(idx) != n):
        raise ValueError(f"class_index must be None, one whole number or one per image ({n}), got {class_index!r}")
    if np.any(idx < 0) or np.any(idx >= num_classes):
        raise ValueError(f"class_index must be between 0 and {num_classes - 1}, got {class_index!r}")
    return idx.astype("int32")


class _Split:
    """``model`` cut at ``layer_name``: ``forward(x)`` returns that layer's feature maps and the input of the
    model's last layer, from which :func:`_pre_activation` gives the class scores."""

    def __init__(self, model, layer_name: str | None):
        self.model = model
        leaves = _leaf_layers(model)
        self.last = leaves[-1]
        if isinstance(self.last, keras.Model):
            raise ValueError(f"{model.name} ends in the nested model {self.last.name}; grad_cam needs the classifier "
                             "around it")
        self.nested = None
        self.chain = None
        if isinstance(model, keras.Sequential) and (layer_name is None or layer_name in {x.name for x in leaves}):
            # A Sequential model runs its layers one after another. Its layers' symbolic outputs may come
            # from different builds (a model loaded from a .keras file is built again), so a sub-model
            # between them can lose the path from the maps to the scores; calling the layers in turn cannot.
            k = None if layer_name is None else [x.name for x in leaves].index(layer_name)
            if k is not None:
                self._check_maps(leaves[k])
            self.chain = (leaves[:-1], k)
            return
        inputs = model.inputs[0] if len(model.inputs) == 1 else model.inputs
        if layer_name is None:
            self.maps_model = keras.Model(inputs, self.last.input)
            return
        top = {layer.name: layer for layer in leaves}
        if layer_name in top:
            layer = top[layer_name]
            self._check_maps(layer)
            self.maps_model = keras.Model(inputs, [layer.output, self.last.input])
            return
        for k, layer in enumerate(leaves):
            if isinstance(layer, keras.Model) and layer_name in {inner.name for inner in layer.layers}:
                inner = layer.get_layer(layer_name)
                self._check_maps(inner)
                self.nested = (leaves[:k], keras.Model(layer.inputs[0] if len(layer.inputs) == 1 else layer.inputs,
                                                              [inner.output, *layer.outputs]), leaves[k + 1:-1])
                return
        convs = feature_map_layers(model, convolutions_only=True) or feature_map_layers(model)
        raise ValueError(f"{model.name} has no layer named {layer_name!r}; its convolution layers are: "
                         f"{', '.join(convs) or 'none'} (any layer whose output is (batch, h, w, channels) works)")

    def _check_maps(self, layer):
        shape = tuple(layer.output.shape)
        if len(shape) != 4:
            raise ValueError(f"layer {layer.name!r} outputs shape {shape}, not feature maps (batch, h, w, channels); "
                             f"use a convolution layer: {', '.join(feature_map_layers(self.model, True))}")

    def forward(self, x):
        if self.chain is not None:
            layers_, k = self.chain
            h, maps = x, None
            for i, layer in enumerate(layers_):
                h = layer(h, training=False)
                if i == k:
                    maps = h
            return h if k is None else (maps, h)
        if self.nested is None:
            return self.maps_model(x, training=False)
        before, inner, after = self.nested
        try:
            h = x
            for layer in before:
                h = layer(h, training=False)
            maps, h = inner(h, training=False)
            for layer in after:
                h = layer(h, training=False)
        except Exception as err:  # noqa: BLE001  (a layer that needs more than the previous layer's output)
            raise ValueError(self._not_a_chain()) from err
        return maps, h

    def _not_a_chain(self) -> str:
        return (f"{self.model.name} is not a chain of layers around its nested model, so grad_cam cannot reach a "
                "layer inside it; build the classifier with that layer at its top level")

    def check_chain(self, x, scores):
        """A nested layer is reached by running the classifier's layers one after another: check that this
        gives the classifier's own output."""
        if self.nested is None:
            return
        from keras import ops

        ours = np.asarray(ops.convert_to_numpy(self._finish(scores)))
        theirs = np.asarray(ops.convert_to_numpy(self.model(x, training=False)), dtype="float32")
        if ours.shape != theirs.shape or not np.allclose(ours, theirs, atol=1e-4, rtol=1e-3):
            raise ValueError(self._not_a_chain())

    def _finish(self, scores):
        kind = _final_kind(self.model)
        if kind == "softmax":
            return keras.ops.softmax(scores, axis=-1)
        if kind == "sigmoid":
            return keras.ops.sigmoid(scores)
        return scores


def _batches(n: int, batch_size: int):
    if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive whole number, got {batch_size!r}")
    for start in range(0, n, batch_size):
        yield slice(start, min(n, start + batch_size))


def class_scores(model, images, batch_size: int = 32) -> np.ndarray:
    """The class scores Grad-CAM differentiates: ``(N, classes)`` float32 logits (``(N, 1)`` for one sigmoid
    unit), also for a model that computes in a lower precision (mixed precision)."""
    x = _check_images(model, images)
    split = _Split(model, None)
    if not len(x):
        raise ValueError("images is empty: pass at least one image")
    return np.concatenate([np.asarray(keras.ops.convert_to_numpy(keras.ops.cast(
        _pre_activation(split.last, split.forward(x[s])), "float32"))) for s in _batches(len(x), batch_size)])


def _scale(maps):
    """Each map divided by its maximum (maps that are zero everywhere stay zero)."""
    peak = maps.reshape(len(maps), -1).max(axis=1) if len(maps) else np.zeros(0)
    safe = np.where(peak > 0, peak, 1.0)
    return np.clip(maps / safe.reshape((-1,) + (1,) * (maps.ndim - 1)), 0.0, 1.0).astype("float32")


def grad_cam(model, images, layer_name: str, class_index=None, batch_size: int = 32,
             return_details: bool = False):
    """Grad-CAM maps of ``images`` for ``model`` at the layer ``layer_name``.

    For each image, with ``A`` the layer's feature maps (h, w, K) and ``y`` the class score (the logit):
    ``alpha_k = mean over (i, j) of dy/dA[i, j, k]`` (one weight per channel), then
    ``map = ReLU(sum_k alpha_k A[:, :, k])``, divided by its maximum. A map that is zero everywhere (no
    positive evidence) stays zero.

    Args:
        model: a Keras model (its batch norms and dropout run in inference mode here).
        images: array ``(N, height, width, channels)`` of what the model takes (raw pixels for the course's
            models, which rescale themselves).
        layer_name: a layer with feature maps, at the model's top level or inside a nested model;
            :func:`feature_map_layers` lists them. A late convolution gives coarse maps with class-specific
            evidence; an early one, finer maps of lower-level features.
        class_index: the class whose evidence to show: None for each image's predicted class, one whole
            number for all images, or one per image. For one sigmoid unit, 1 (P > 0.5) or 0.
        batch_size: images per gradient computation.
        return_details: also return a dict with ``scores`` (the chosen class's score per image), ``classes``
            (the chosen class), ``weights`` (the ``alpha``, ``(N, K)``) and ``maps`` (the raw sums before the
            ReLU, ``(N, h, w)``).

    Returns:
        float32 array ``(N, h, w)`` in [0, 1], h and w the layer's feature-map size (and the details with
        ``return_details``).

    Raises:
        ValueError: images of the wrong shape, an unknown layer (the message lists the convolution layers),
            a layer without feature maps, or a class index out of range.
    """
    import tensorflow as tf

    x = _check_images(model, images)
    split = _Split(model, layer_name)
    binary = model.outputs[0].shape[-1] == 1 if getattr(model, "outputs", None) else False
    num_classes = 2 if binary else int(model.outputs[0].shape[-1])
    idx = _check_class_index(class_index, len(x), num_classes)
    cams, details = [], {"scores": [], "classes": [], "weights": [], "maps": []}
    for s in _batches(len(x), batch_size):
        xb = tf.convert_to_tensor(x[s])
        with tf.GradientTape() as tape:
            maps, pre = split.forward(xb)
            scores = _pre_activation(split.last, pre)
            score, chosen = _select(tf.cast(scores, tf.float32), None if idx is None else
                                    (idx if idx.ndim == 0 else idx[s]), binary)
        if s.start == 0:
            split.check_chain(xb, scores)
        grads = tape.gradient(score, maps)  # each image's score depends on its own maps only
        maps, grads = tf.cast(maps, tf.float32).numpy(), tf.cast(grads, tf.float32).numpy()
        weights = grads.mean(axis=(1, 2))                        # alpha: (n, K), one weight per channel
        raw = np.einsum("nhwk,nk->nhw", maps, weights)           # weighted sum of the maps
        cams.append(_scale(np.maximum(raw, 0.0)))                # ReLU, then scaled to [0, 1]
        for key, value in (("scores", score.numpy()), ("classes", chosen.numpy()), ("weights", weights), ("maps", raw)):
            details[key].append(value)
    if not cams:
        raise ValueError("images is empty: pass at least one image")
    out = np.concatenate(cams)
    if return_details:
        return out, {k: np.concatenate(v) for k, v in details.items()}
    return out


def saliency(model, images, class_index=None, batch_size: int = 32) -> np.ndarray:
    """Plain gradient saliency: ``max over channels of |d score / d pixel|``, per image scaled to [0, 1].

    Args:
        model, images, class_index, batch_size: as for :func:`grad_cam`.

    Returns:
        float32 array ``(N, height, width)`` in [0, 1], the size of the images.
    """
    import tensorflow as tf

    x = _check_images(model, images)
    split = _Split(model, None)
    binary = model.outputs[0].shape[-1] == 1 if getattr(model, "outputs", None) else False
    idx = _check_class_index(class_index, len(x), 2 if binary else int(model.outputs[0].shape[-1]))
    out = []
    for s in _batches(len(x), batch_size):
        xb = tf.convert_to_tensor(x[s])
        with tf.GradientTape() as tape:
            tape.watch(xb)
            scores = _pre_activation(split.last, split.forward(xb))
            score, _ = _select(tf.cast(scores, tf.float32), None if idx is None else
                               (idx if idx.ndim == 0 else idx[s]), binary)
        grads = tape.gradient(score, xb).numpy()
        out.append(_scale(np.abs(grads).max(axis=-1)))
    if not out:
        raise ValueError("images is empty: pass at least one image")
    return np.concatenate(out)


def upsample(maps, size) -> np.ndarray:
    """Maps ``(N, h, w)`` stretched to ``size`` ``(height, width)`` with bilinear interpolation, as
    :func:`cnnkit.plots.overlay_heatmap` draws them (each map cell covers the same share of the image)."""
    import tensorflow as tf

    maps = np.asarray(maps, dtype="float32")
    if maps.ndim != 3:
        raise ValueError(f"maps must have shape (N, h, w), got {maps.shape}")
    return tf.image.resize(maps[..., None], tuple(int(s) for s in size), method="bilinear").numpy()[..., 0]


def share_inside(maps, masks) -> np.ndarray:
    """For each map, the share of its total that lies inside the boolean ``mask`` of the same image.

    Args:
        maps: ``(N, h, w)`` non-negative maps (Grad-CAM, saliency); stretched to the masks' size first.
        masks: ``(N, H, W)`` booleans (or one ``(H, W)`` mask for all), True inside the region.

    Returns:
        float array ``(N,)`` in [0, 1]; NaN for a map that is zero everywhere. Compare it with the mask's
        share of the image area, what a map spread evenly would give.
    """
    masks = np.asarray(masks, dtype=bool)
    maps = np.asarray(maps, dtype="float32")
    if masks.ndim == 2:
        masks = np.broadcast_to(masks, (len(maps), *masks.shape))
    if masks.ndim != 3 or len(masks) != len(maps):
        raise ValueError(f"masks must be (H, W) or one per map (N, H, W); got {masks.shape} for {len(maps)} maps")
    big = upsample(maps, masks.shape[1:])
    if np.any(big < -1e-6):
        raise ValueError("maps must be non-negative (Grad-CAM and saliency maps are)")
    total = big.reshape(len(big), -1).sum(axis=1)
    inside = (big * masks).reshape(len(big), -1).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, inside / np.where(total > 0, total, 1), np.nan)


def _find_layer(model, name: str):
    for layer in _leaf_layers(model):
        if layer.name == name:
            return layer
        if isinstance(layer, keras.Model):
            found = _find_layer(layer, name)
            if found is not None:
                return found
    return None


def reinitialized(model, layer_names, seed: int = 0):
    """A copy of ``model`` with the same weights, except that the layers ``layer_names`` (also inside a nested
    model) get fresh random weights from their own initialisers (``kernel_initializer``, ``bias_initializer``).

    The original is left unchanged. This is the "cascading randomisation" of Adebayo et al. (2018): re-initialise
    the top layers and check that an explanation of the model changes.

    Raises:
        ValueError: a name that is not a layer of the model, or a layer without a kernel to re-initialise.
    """
    names = [layer_names] if isinstance(layer_names, str) else list(layer_names)
    for name in names:
        layer = _find_layer(model, name)
        if layer is None:
            raise ValueError(f"{model.name} has no layer named {name!r}")
        if getattr(layer, "kernel", None) is None:
            raise ValueError(f"layer {name!r} has no kernel to re-initialise (use Dense or convolution layers)")
    copy = keras.models.clone_model(model)
    copy.set_weights(model.get_weights())
    for k, name in enumerate(names):
        layer = _find_layer(copy, name)
        for attr in ("kernel", "bias"):
            var = getattr(layer, attr, None)
            init = getattr(layer, f"{attr}_initializer", None)
            if var is None or init is None:
                continue
            config = init.get_config()
            if "seed" in config:
                init = init.__class__.from_config({**config, "seed": seed + k})
            var.assign(keras.ops.cast(init(tuple(var.shape), dtype="float32"), var.dtype))
    return copy


def rank_correlation(maps_a, maps_b) -> np.ndarray:
    """Spearman's rank correlation of each pair of maps (``(N, h, w)`` each, or ``(h, w)``): 1 when both rank
    the positions alike, about 0 when unrelated; NaN where a map is constant (it ranks nothing)."""
    from scipy import stats

    a, b = np.asarray(maps_a, dtype="float64"), np.asarray(maps_b, dtype="float64")
    if a.shape != b.shape:
        raise ValueError(f"the maps must have the same shape, got {a.shape} and {b.shape}")
    if a.ndim == 2:
        a, b = a[None], b[None]
    out = []
    for x, y in zip(a.reshape(len(a), -1), b.reshape(len(b), -1)):
        out.append(np.nan if x.std() == 0 or y.std() == 0 else stats.spearmanr(x, y).statistic)
    return np.array(out, dtype="float64")
