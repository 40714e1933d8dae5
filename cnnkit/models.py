"""The course's Keras models: the articles' networks rebuilt, and one VGG-style family that improves on them.

* The articles' models, layer for layer (same layers, sizes and parameter counts), in Keras 3:
  :func:`lenet5` (the LeNet article), :func:`article_blood_cells`, :func:`article_cifar10`,
  :func:`article_cats_dogs`.
* :func:`vgg_style`: blocks of 3x3 convolutions, each block ending in a 2x2 max-pool, then a head; its presets
  :func:`fashion_cnn` (notebook 04), :func:`cats_dogs_cnn` (notebook 06) and :func:`blood_cells_cnn` (notebooks 03
  and 07).
* :func:`airbench` (notebook 05: Jordan's fast CIFAR-10 network) and :func:`augmentation` (random augmentation
  layers).

Every convolution of these models comes from :func:`conv_block`, and layers are named as in
``keras.applications``: ``block{i}_conv{j}``, ``block{i}_bn{j}``, ``block{i}_relu{j}`` and ``block{i}_pool`` for
the convolutional part (airbench adds ``block{i}_shift{j}`` and ``block{i}_gelu{j}``), then ``flatten`` or ``gap``, ``dense{k}`` (with ``dense{k}_bn`` and ``dense{k}_relu``),
``dropout{k}`` and ``predictions``. Raw 0-255 pixels go in: ``Rescaling(1/255)`` (layer ``rescale``) is
inside every model, so training and prediction scale alike. Every function returns an uncompiled model.
"""

from __future__ import annotations

import math

import keras
import numpy as np
from keras import layers

__all__ = ["conv_block", "lenet5", "article_blood_cells", "article_cifar10", "article_cats_dogs", "vgg_style",
           "fashion_cnn", "cats_dogs_cnn", "blood_cells_cnn", "airbench", "CIFAR10_MEAN", "CIFAR10_STD",
           "augmentation"]


def _rescale(rescale: bool):
    return [layers.Rescaling(1.0 / 255, name="rescale")] if rescale else []


def _augment(augment):
    if augment is None:
        return []
    return list(augment) if isinstance(augment, (list, tuple)) else [augment]


def conv_block(filters: int, block: int, index: int = 1, *, kernel_size=3, padding: str = "same",
               batch_norm: bool = True, bn_momentum: float = 0.99, activation: str = "relu", pool: bool = False,
               bn_epsilon: float = 1e-3, shift_speedup: float | None = None, kernel_initializer="glorot_uniform",
               regularizer=None) -> list:
    """One convolution, batch norm (optional) and an activation, as layers for a ``keras.Sequential`` model.

    Args:
        filters: number of filters (output channels).
        block, index: the layers are named ``block{block}_conv{index}``, ``block{block}_bn{index}`` and
            ``block{block}_{activation}{index}``.
        kernel_size: the kernel's height and width.
        padding: ``"same"`` (keeps the size) or ``"valid"`` (no padding).
        batch_norm: with batch norm, the convolution has no bias (the norm's learned shift does that job)
            and the activation is a layer of its own, after the norm. Without, the activation is built into
            the convolution, as the articles (and ``keras.applications.VGG16``) write it.
        bn_momentum: momentum of the norm's running statistics (Keras's default 0.99 averages over about
            the last 100 batches, 0.9 over about 10).
        activation: a Keras activation name.
        pool: a 2x2 max-pool (``block{block}_pool``) right after the convolution, before the norm, as in
            airbench's groups (pooling first makes the norm and activation 4 times cheaper).
        bn_epsilon: the norm's epsilon.
        shift_speedup: None keeps the norm's own shift (beta) and scale (gamma). A number ``k`` drops both
            and adds the shift as :class:`cnnkit.layers.ScaledBias` (``block{block}_shift{index}``), which
            learns ``k`` times faster than the other weights (airbench uses 64).
        kernel_initializer: the convolution's initialiser.
        regularizer: a Keras regulariser (weight decay) for the kernel and, with ``shift_speedup``, the shift.

    Returns:
        A list of 1 to 5 layers.
    """
    conv = f"block{block}_conv{index}"
    if not batch_norm:
        return [layers.Conv2D(filters, kernel_size, padding=padding, activation=activation,
                              kernel_initializer=kernel_initializer, kernel_regularizer=regularizer, name=conv),
                *([layers.MaxPooling2D(2, name=f"block{block}_pool")] if pool else [])]
    stack = [layers.Conv2D(filters, kernel_size, padding=padding, use_bias=False, kernel_initializer=kernel_initializer,
                           kernel_regularizer=regularizer, name=conv)]
    if pool:
        stack.append(layers.MaxPooling2D(2, name=f"block{block}_pool"))
    own_shift = shift_speedup is None
    stack.append(layers.BatchNormalization(momentum=bn_momentum, epsilon=bn_epsilon, center=own_shift,
                                           scale=own_shift, name=f"block{block}_bn{index}"))
    if not own_shift:
        from .layers import ScaledBias

        stack.append(ScaledBias(math.sqrt(shift_speedup), regularizer=regularizer, name=f"block{block}_shift{index}"))
    return stack + [layers.Activation(activation, name=f"block{block}_{activation}{index}")]


def lenet5(input_shape=(28, 28, 1), num_classes: int = 10, rescale: bool = True) -> keras.Sequential:
    """The LeNet article's network: conv 6@5x5, avg-pool, conv 16@5x5, avg-pool, dense 120 and 84, softmax.

    ReLU activations, 'same' padding; 107,786 parameters at 28x28x1 with 10 classes. It is LeNet-*style*:
    LeCun et al.'s 1998 LeNet-5 differs in almost every detail (notebook 04 compares them).

    Args:
        input_shape: ``(height, width, channels)`` of the images.
        num_classes: number of classes (softmax units).
        rescale: start with ``Rescaling(1/255)``.

    Returns:
        An uncompiled ``keras.Sequential`` named ``lenet5``.
    """
    return keras.Sequential(
        [keras.Input(shape=input_shape), *_rescale(rescale),
         *conv_block(6, 1, kernel_size=5, batch_norm=False),
         layers.AveragePooling2D(2, name="block1_pool"),
         *conv_block(16, 2, kernel_size=5, batch_norm=False),
         layers.AveragePooling2D(2, name="block2_pool"),
         layers.Flatten(name="flatten"),
         layers.Dense(120, activation="relu", name="dense1"),
         layers.Dense(84, activation="relu", name="dense2"),
         layers.Dense(num_classes, activation="softmax", name="predictions")],
        name="lenet5",
    )


def article_blood_cells(input_shape=(200, 200, 3), num_classes: int = 4, rescale: bool = True,
                        augment=None) -> keras.Sequential:
    """The blood-cell articles' network, with the ``Flatten`` one of them forgot restored.

    conv 32@3x3 'same', max-pool, conv 32@3x3 'same', max-pool, dropout 0.5, flatten, dense 128, softmax;
    10,250,788 parameters at 200x200x3 with 4 classes, 99.9% of them in the dense layer.

    Args:
        input_shape: ``(height, width, channels)`` of the images.
        num_classes: number of classes.
        rescale: include ``Rescaling(1/255)``.
        augment: augmentation layer(s) run first, in training only (e.g. :func:`augmentation`).

    Returns:
        An uncompiled ``keras.Sequential`` named ``article_blood_cells``.
    """
    return keras.Sequential(
        [keras.Input(shape=input_shape), *_augment(augment), *_rescale(rescale),
         *conv_block(32, 1, batch_norm=False),
         layers.MaxPooling2D(name="block1_pool"),
         *conv_block(32, 2, batch_norm=False),
         layers.MaxPooling2D(name="block2_pool"),
         layers.Dropout(0.5, name="dropout1"),
         layers.Flatten(name="flatten"),
         layers.Dense(128, activation="relu", name="dense1"),
         layers.Dense(num_classes, activation="softmax", name="predictions")],
        name="article_blood_cells",
    )


def article_cifar10(input_shape=(32, 32, 3), num_classes: int = 10, rescale: bool = True,
                    augment=None) -> keras.Sequential:
    """The CIFAR article's network: conv 32, 64 and 128 (3x3, 'valid'), each with a max-pool, dense 128, softmax.

    160,202 parameters at 32x32x3 (the article's table says 162,202, which is not the sum of its own rows).

    Args:
        input_shape: ``(height, width, channels)`` of the images.
        num_classes: number of classes.
        rescale: include ``Rescaling(1/255)``.
        augment: augmentation layer(s), run after the rescaling, in training only.

    Returns:
        An uncompiled ``keras.Sequential`` named ``article_cifar10``.
    """
    return keras.Sequential(
        [keras.Input(shape=input_shape), *_rescale(rescale), *_augment(augment),
         *conv_block(32, 1, padding="valid", batch_norm=False),
         layers.MaxPooling2D(name="block1_pool"),
         *conv_block(64, 2, padding="valid", batch_norm=False),
         layers.MaxPooling2D(name="block2_pool"),
         *conv_block(128, 3, padding="valid", batch_norm=False),
         layers.MaxPooling2D(name="block3_pool"),
         layers.Flatten(name="flatten"),
         layers.Dense(128, activation="relu", name="dense1"),
         layers.Dense(num_classes, activation="softmax", name="predictions")],
        name="article_cifar10",
    )


def article_cats_dogs(input_shape=(64, 64, 3), rescale: bool = True, augment=None) -> keras.Sequential:
    """The cats-vs-dogs article's classifier: conv 32@3x3 'valid', max-pool, flatten, dense 128, one sigmoid unit.

    Written as the article meant it, ``Conv2D(32, (3, 3))``: its ``Convolution2D(32, 3, 3)`` sets the stride
    to 3 in Keras 2 and 3. 3,937,409 parameters at 64x64x3, 66,065,537 at 256x256x3.

    Args:
        input_shape: ``(height, width, channels)`` of the images.
        rescale: include ``Rescaling(1/255)``.
        augment: augmentation layer(s) run first, in training only (e.g. :func:`augmentation`).

    Returns:
        An uncompiled ``keras.Sequential`` named ``article_cats_dogs`` whose output is P(class 1).
    """
    return keras.Sequential(
        [keras.Input(shape=input_shape), *_augment(augment), *_rescale(rescale),
         *conv_block(32, 1, padding="valid", batch_norm=False),
         layers.MaxPooling2D(pool_size=(2, 2), name="block1_pool"),
         layers.Flatten(name="flatten"),
         layers.Dense(128, activation="relu", name="dense1"),
         layers.Dense(1, activation="sigmoid", name="predictions")],
        name="article_cats_dogs",
    )


def vgg_style(input_shape, num_classes: int, filters=(32, 64, 128), convs_per_block: int = 2, *,
              batch_norm: bool = True, bn_momentum: float = 0.99, pooling: str = "avg", dense=(), dropout=0.3,
              augment=None, rescale: bool = True, name: str = "vgg_style") -> keras.Sequential:
    """A VGG-style CNN: blocks of 3x3 convolutions that end in a 2x2 max-pool, then a classification head.

    Block ``i`` has ``convs_per_block`` :func:`conv_block` layers of ``filters[i]`` filters ('same' padding),
    so each block halves the height and width. The head: global average pooling (``pooling="avg"``, layer
    ``gap``: the parameter count does not depend on the image size) or ``Flatten`` (``"flatten"``); one dense
    layer per entry of ``dense`` (without bias, batch norm and ReLU when ``batch_norm``); dropout after the
    pooling and after each dense layer; the output.

    Args:
        input_shape: ``(height, width, channels)`` of the images.
        num_classes: number of classes; 1 gives a single sigmoid unit (P(class 1), for
            ``binary_crossentropy``), 2 or more a softmax.
        filters: filters of each block.
        convs_per_block: convolutions per block (two 3x3 convolutions see a 5x5 patch).
        batch_norm: batch norm after each convolution and hidden dense layer.
        bn_momentum: momentum of the batch norms' running statistics.
        pooling: ``"avg"`` or ``"flatten"``.
        dense: widths of the hidden dense layers (none by default).
        dropout: one rate for every dropout layer, or one rate per dropout layer (``len(dense) + 1`` of
            them: after the pooling, then after each dense layer); a rate of 0 leaves the layer out.
        augment: augmentation layer(s) run first, in training only.
        rescale: include ``Rescaling(1/255)``.
        name: the model's name.

    Returns:
        An uncompiled ``keras.Sequential``.
    """
    if num_classes < 1:
        raise ValueError(f"num_classes must be >= 1, got {num_classes}")
    if convs_per_block < 1:
        raise ValueError(f"convs_per_block must be at least 1, got {convs_per_block}")
    if pooling not in {"avg", "flatten"}:
        raise ValueError(f"pooling must be 'avg' or 'flatten', got {pooling!r}")
    dense = list(dense)
    rates = list(dropout) if isinstance(dropout, (list, tuple)) else [dropout] * (len(dense) + 1)
    if len(rates) != len(dense) + 1:
        raise ValueError(f"dropout needs one rate, or {len(dense) + 1} (after the pooling and after each dense "
                         f"layer), got {dropout!r}")
    stack = [keras.Input(shape=input_shape), *_augment(augment), *_rescale(rescale)]
    for i, width in enumerate(filters, start=1):
        for j in range(1, convs_per_block + 1):
            stack += conv_block(width, i, j, batch_norm=batch_norm, bn_momentum=bn_momentum)
        stack.append(layers.MaxPooling2D(2, name=f"block{i}_pool"))
    stack.append(layers.GlobalAveragePooling2D(name="gap") if pooling == "avg" else layers.Flatten(name="flatten"))
    for k, rate in enumerate(rates, start=1):
        if rate:
            stack.append(layers.Dropout(rate, name=f"dropout{k}"))
        if k <= len(dense):
            stack.append(layers.Dense(dense[k - 1], use_bias=not batch_norm, name=f"dense{k}",
                                      activation=None if batch_norm else "relu"))
            if batch_norm:
                stack += [layers.BatchNormalization(momentum=bn_momentum, name=f"dense{k}_bn"),
                          layers.Activation("relu", name=f"dense{k}_relu")]
    if num_classes == 1:
        stack.append(layers.Dense(1, activation="sigmoid", name="predictions"))
    else:
        stack.append(layers.Dense(num_classes, activation="softmax", name="predictions"))
    return keras.Sequential(stack, name=name)


def fashion_cnn(input_shape=(28, 28, 1), num_classes: int = 10, filters=(32, 64), dense: int = 256,
                dropout: float = 0.5, translation: float = 0.1, flip: bool = True,
                bn_momentum: float = 0.9, rescale: bool = True, convs_per_block: int = 2) -> keras.Sequential:
    """Notebook 04's improvement on :func:`lenet5`: LeNet's layout (convolution stages, then dense layers), modernised.

    A :func:`vgg_style` preset: augmentation (a random shift by up to ``translation`` of the image size, filled
    with black like the background, by whole pixels; a horizontal flip: clothing is photographed upright, so
    no vertical flip or rotation), two blocks of ``convs_per_block`` 3x3 convolutions with batch norm, then
    flatten, dropout ``dropout / 2``, a dense layer with batch norm, dropout ``dropout`` and the softmax.
    871,978 parameters with the defaults (896 of them batch-norm running statistics, not trained);
    ``convs_per_block=1`` gives 825,514.

    Args:
        input_shape, num_classes, filters, convs_per_block, bn_momentum, rescale: as for :func:`vgg_style`.
        dense: width of the hidden dense layer.
        dropout: the rate before the output (half of it after ``Flatten``).
        translation: largest shift as a fraction of the height and width (0: no shift layer).
        flip: include the horizontal flip.

    Returns:
        An uncompiled ``keras.Sequential`` named ``fashion_cnn``; its augmentation layers are named
        ``random_translation`` and ``random_flip``.
    """
    aug = []
    if translation:
        aug.append(layers.RandomTranslation(translation, translation, fill_mode="constant",
                                            interpolation="nearest", name="random_translation"))
    if flip:
        aug.append(layers.RandomFlip("horizontal", name="random_flip"))
    return vgg_style(input_shape, num_classes, filters, convs_per_block, bn_momentum=bn_momentum, pooling="flatten",
                     dense=(dense,), dropout=(dropout / 2, dropout), augment=aug, rescale=rescale, name="fashion_cnn")


def cats_dogs_cnn(input_shape=(128, 128, 3), filters=(32, 64, 128, 256), dropout: float = 0.3,
                  bn_momentum: float = 0.9, augment=None, rescale: bool = True) -> keras.Sequential:
    """Notebook 06's improvement on :func:`article_cats_dogs`: a :func:`vgg_style` preset with one sigmoid output.

    One 3x3 convolution with batch norm per block, global average pooling, dropout and one sigmoid unit
    (P(class 1)). 390,113 parameters with the default filters (960 of them batch-norm running statistics),
    whatever the image size.

    Args:
        input_shape: ``(height, width, channels)`` of the images.
        filters: filters of each block.
        dropout: rate of the dropout before the output.
        bn_momentum: momentum of the batch norms' running statistics (0.9: they settle within a few dozen
            steps, which a small dataset with few batches per epoch needs).
        augment: augmentation layer(s) run first, in training only.
        rescale: include ``Rescaling(1/255)``.

    Returns:
        An uncompiled ``keras.Sequential`` named ``cats_dogs_cnn``.
    """
    return vgg_style(input_shape, 1, filters, convs_per_block=1, bn_momentum=bn_momentum, dropout=dropout,
                     augment=augment, rescale=rescale, name="cats_dogs_cnn")


def blood_cells_cnn(input_shape=(200, 200, 3), num_classes: int = 4, filters=(16, 32, 64, 128), dropout: float = 0.3,
                    bn_momentum: float = 0.9, augment=None, rescale: bool = True,
                    name: str = "bn_gap_augment") -> keras.Sequential:
    """Notebook 03's improved blood-cell model (03 saves it for notebook 07's Grad-CAM): a :func:`vgg_style` preset.

    One 3x3 convolution with batch norm and ReLU per block, each block ending in a 2x2 max-pool, global
    average pooling, dropout and a softmax. 98,676 parameters with the defaults (480 of them batch-norm
    running statistics), whatever the image size.

    Args:
        input_shape: ``(height, width, channels)`` of the images.
        num_classes: number of classes.
        filters: filters of each block.
        dropout: rate of the dropout before the output.
        bn_momentum: momentum of the batch norms' running statistics.
        augment: augmentation layer(s) run first, in training only.
        rescale: include ``Rescaling(1/255)``.
        name: the model's name (notebook 03 records its results under ``bn_gap_augment``).

    Returns:
        An uncompiled ``keras.Sequential``.
    """
    return vgg_style(input_shape, num_classes, filters, convs_per_block=1, bn_momentum=bn_momentum, dropout=dropout,
                     augment=augment, rescale=rescale, name=name)


# Per-channel mean and standard deviation of CIFAR-10's training pixels (scaled to [0, 1]), as airbench uses them.
CIFAR10_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR10_STD = (0.2470, 0.2435, 0.2616)


def airbench(input_shape=(32, 32, 3), num_classes: int = 10, widths=(64, 256, 256), *, mean=CIFAR10_MEAN,
             std=CIFAR10_STD, whitening_kernel=None, weight_decay: float = 1.33e-3, bn_momentum: float = 0.6,
             shift_speedup: float = 64.0, logit_scale: float = 1 / 9, identity_init: bool = True,
             name: str = "airbench") -> keras.Model:
    """The network of Keller Jordan's airbench94 (arXiv:2404.00498, 2024), in Keras 3.

    image (raw 0-255) -> ``normalize`` (per-channel ``mean``/``std`` of the [0, 1] pixels)
    -> ``whiten``: a fixed 2x2 convolution with 2 * 12 filters (:func:`cnnkit.layers.whitening_filters`),
    ``whiten_shift`` (a learned bias), GELU
    -> three groups ``block{i}``: conv 3x3 -> max-pool 2 -> batch norm -> GELU -> conv 3x3 -> batch norm -> GELU
    -> global max-pool -> ``head`` (dense, no bias) -> ``logits`` (times ``logit_scale``) -> softmax.

    The convolutions have no bias; each batch norm has neither scale nor shift of its own and is followed by a
    shift that learns ``shift_speedup`` times faster (:func:`conv_block`). ``bn_momentum`` 0.6 lets the running
    statistics follow the last few batches (PyTorch writes the same as momentum 0.4). With ``identity_init``
    the convolutions start as the identity on their first channels (:class:`cnnkit.layers.IdentityInit`), the
    head uniform in ``±1/sqrt(widths[-1])`` (PyTorch's default); otherwise Keras's defaults.

    Args:
        input_shape: ``(height, width, 3)``; the convolutional part accepts any size (notebook 07 uses that).
        num_classes: number of classes.
        widths: filters of the three groups.
        mean, std: per-channel statistics of the training pixels in [0, 1].
        whitening_kernel: the ``whiten`` layer's fixed kernel, ``(2, 2, 3, 24)``; None leaves it random (set it
            later with ``model.get_layer("whiten").set_weights([kernel])``).
        weight_decay: ``wd`` of coupled (SGD-style) weight decay: every kernel and shift gets an
            ``L2(wd / 2)`` regulariser, which adds ``wd * w`` to its gradient.
        bn_momentum: momentum of the norms' running statistics.
        shift_speedup: learning-rate multiplier of the norms' shifts.
        logit_scale: the logits are the head's outputs times this.
        identity_init: airbench's initialisation (see above).
        name: the model's name.

    Returns:
        An uncompiled functional ``keras.Model``; its output (``predictions``) is a float32 softmax.
    """
    from .layers import IdentityInit, ScaledBias

    if len(widths) != 3:
        raise ValueError(f"widths needs 3 numbers (one per group), got {widths!r}")
    channels = input_shape[-1]
    whiten_width = 2 * 2 * 2 * channels
    reg = keras.regularizers.L2(weight_decay / 2) if weight_decay else None
    mean, std = np.asarray(mean, "float64"), np.asarray(std, "float64")
    inputs = keras.Input(shape=input_shape, name="image")
    x = layers.Normalization(mean=mean * 255, variance=(std * 255) ** 2, name="normalize")(inputs)
    whiten = layers.Conv2D(whiten_width, 2, use_bias=False, trainable=False, name="whiten")
    x = whiten(x)
    x = ScaledBias(1.0, regularizer=reg, name="whiten_shift")(x)
    x = layers.Activation("gelu", name="whiten_gelu")(x)
    if whitening_kernel is not None:
        whiten.set_weights([np.asarray(whitening_kernel, "float32")])
    conv_init = IdentityInit() if identity_init else "glorot_uniform"
    for block, width in enumerate(widths, start=1):
        for index in (1, 2):
            for layer in conv_block(width, block, index, activation="gelu", pool=index == 1, bn_momentum=bn_momentum,
                                    bn_epsilon=1e-12, shift_speedup=shift_speedup, kernel_initializer=conv_init,
                                    regularizer=reg):
                x = layer(x)
    x = layers.GlobalMaxPooling2D(name="global_max")(x)
    head_init = (keras.initializers.VarianceScaling(1 / 3, "fan_in", "uniform") if identity_init
                 else "glorot_uniform")
    x = layers.Dense(num_classes, use_bias=False, kernel_initializer=head_init, kernel_regularizer=reg,
                     name="head")(x)
    x = layers.Rescaling(logit_scale, name="logits")(x)
    outputs = layers.Activation("softmax", dtype="float32", name="predictions")(x)  # float32 under mixed precision
    return keras.Model(inputs, outputs, name=name)


def augmentation(flip: str | None = "horizontal", rotation: float = 0.0, translation: float = 0.0,
                 zoom: float = 0.0, contrast: float = 0.0, seed: int | None = None,
                 name: str = "augmentation") -> keras.Sequential:
    """Random augmentation layers, active only in training (``model.fit``), identity at inference.

    ``rotation`` is a fraction of a full turn (0.05 = up to 18 degrees); ``translation`` and ``zoom``
    are fractions of the image size. Zero turns a transform off. Each layer gets its own seed
    (``seed``, ``seed + 1``, ...): layers sharing one seed would draw correlated random numbers.
    """
    seeds = iter(range(seed, seed + 5)) if seed is not None else iter([None] * 5)
    stack = []
    if flip:
        stack.append(layers.RandomFlip(flip, seed=next(seeds)))
    if rotation:
        stack.append(layers.RandomRotation(rotation, fill_mode="reflect", seed=next(seeds)))
    if translation:
        stack.append(layers.RandomTranslation(translation, translation, fill_mode="reflect", seed=next(seeds)))
    if zoom:
        stack.append(layers.RandomZoom(zoom, fill_mode="reflect", seed=next(seeds)))
    if contrast:
        stack.append(layers.RandomContrast(contrast, seed=next(seeds)))
    if not stack:
        raise ValueError("augmentation() with every transform off; pass augment=None instead")
    return keras.Sequential(stack, name=name)
