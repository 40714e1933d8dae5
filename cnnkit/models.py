"""The course's Keras models.

The ``seed_*`` functions and :func:`lenet5` rebuild the source articles' architectures exactly (same
layers, sizes and parameter counts), written in Keras 3: ``keras.Input`` first, string activations,
``Rescaling`` inside the model so raw uint8 pixels go in at training and at prediction alike.
:func:`vgg_style` is the readable, stronger family the notebooks improve them with.

Every function returns an uncompiled ``keras.Sequential`` or functional model.
"""

from __future__ import annotations

import keras
from keras import layers


def _rescale(rescale: bool):
    return [layers.Rescaling(1.0 / 255, name="rescale")] if rescale else []


def _augment(augment):
    return [augment] if augment is not None else []


def _conv_bn_relu_layers(width: int, names: tuple[str, str, str], batch_norm: bool = True,
                         bn_momentum: float = 0.99) -> list:
    """3x3 'same' convolution, batch norm, ReLU, as Sequential layers named ``names`` (conv, bn, relu).

    The convolution has no bias when batch norm follows (its shift does that job). ``bn_momentum`` 0.99 is
    Keras's default.
    """
    conv, bn, relu = names
    stack = [layers.Conv2D(width, 3, padding="same", use_bias=not batch_norm, name=conv)]
    if batch_norm:
        stack.append(layers.BatchNormalization(momentum=bn_momentum, name=bn))
    return stack + [layers.Activation("relu", name=relu)]


def lenet5(input_shape=(28, 28, 1), num_classes: int = 10, rescale: bool = True) -> keras.Sequential:
    """The source article's "LeNet": conv 6@5x5 same, avg-pool, conv 16@5x5 same, avg-pool, dense 120-84-10.

    ReLU activations and a softmax output; 107,786 parameters at 28x28x1 with 10 classes. It is
    LeNet-*style*: LeCun et al.'s 1998 LeNet-5 takes 32x32 inputs, uses valid convolutions, trainable
    sub-sampling, scaled tanh, a sparse C3 table and RBF outputs (about 60,000 parameters).
    """
    return keras.Sequential(
        [keras.Input(shape=input_shape), *_rescale(rescale),
         layers.Conv2D(6, 5, padding="same", activation="relu", name="c1"),
         layers.AveragePooling2D(2, name="s2"),
         layers.Conv2D(16, 5, padding="same", activation="relu", name="c3"),
         layers.AveragePooling2D(2, name="s4"),
         layers.Flatten(name="flatten"),
         layers.Dense(120, activation="relu", name="f5"),
         layers.Dense(84, activation="relu", name="f6"),
         layers.Dense(num_classes, activation="softmax", name="output")],
        name="lenet5",
    )


def fashion_cnn(input_shape=(28, 28, 1), num_classes: int = 10, filters=(32, 64), dense: int = 256,
                dropout: float = 0.5, translation: float = 0.1, flip: bool = True,
                bn_momentum: float = 0.9, rescale: bool = True, convs_per_block: int = 2) -> keras.Sequential:
    """Notebook 04's improvement on :func:`lenet5`: LeNet's layout (two stages of convolution and pooling,
    then dense layers), modernised.

    Augmentation first (active only in training): random translation by up to ``translation`` of the
    image size, filled with black like the background, with nearest-neighbour interpolation (whole-pixel
    shifts, no blur), and a horizontal flip; no vertical flip or rotation, because every garment in the
    dataset stands upright. Then per width in ``filters`` one stage: ``convs_per_block`` times a 3x3 conv
    (no bias) + batch norm + ReLU, then 2x2 max-pool. Two stacked 3x3 convolutions see the same 5x5 patch
    as one of LeNet's 5x5 convolutions, with fewer weights and one more ReLU. Layers are numbered in
    order: ``conv1``/``bn1``/``relu1`` ... and ``pool1``, ``pool2``. Then a flattened head with dropout,
    a dense layer with batch norm + ReLU, dropout and a softmax. 871,978 parameters with the defaults
    (896 of them batch-norm statistics, not trained); ``convs_per_block=1`` gives 825,514.
    ``bn_momentum`` 0.9 (Keras's default is 0.99) lets the running statistics that batch norm uses at
    inference settle within a few dozen steps, which a short (reduced-mode) run needs.
    """
    if convs_per_block < 1:
        raise ValueError(f"convs_per_block must be at least 1, got {convs_per_block}")
    aug = []
    if translation:
        aug.append(layers.RandomTranslation(translation, translation, fill_mode="constant",
                                            interpolation="nearest", name="random_translation"))
    if flip:
        aug.append(layers.RandomFlip("horizontal", name="random_flip"))
    stack = [keras.Input(shape=input_shape), *_rescale(rescale), *aug]
    n = 0
    for block, width in enumerate(filters, start=1):
        for _ in range(convs_per_block):
            n += 1
            stack += _conv_bn_relu_layers(width, (f"conv{n}", f"bn{n}", f"relu{n}"), bn_momentum=bn_momentum)
        stack.append(layers.MaxPooling2D(2, name=f"pool{block}"))
    stack += [layers.Flatten(name="flatten"), layers.Dropout(dropout / 2, name="dropout1"),
              layers.Dense(dense, use_bias=False, name="dense"),
              layers.BatchNormalization(momentum=bn_momentum, name="bn_dense"),
              layers.Activation("relu", name="relu_dense"),
              layers.Dropout(dropout, name="dropout2"),
              layers.Dense(num_classes, activation="softmax", name="output")]
    return keras.Sequential(stack, name="fashion_cnn")


def seed_blood_cells(input_shape=(200, 200, 3), num_classes: int = 4, rescale: bool = True,
                     augment=None) -> keras.Sequential:
    """The blood-cell articles' CNN, fixed: the missing ``Flatten`` restored (10,250,788 parameters).

    conv 32@3x3 same, max-pool, conv 32@3x3 same, max-pool, dropout 0.5, flatten, dense 128, softmax.
    """
    return keras.Sequential(
        [keras.Input(shape=input_shape), *_augment(augment), *_rescale(rescale),
         layers.Conv2D(32, 3, padding="same", activation="relu"),
         layers.MaxPooling2D(),
         layers.Conv2D(32, 3, padding="same", activation="relu"),
         layers.MaxPooling2D(),
         layers.Dropout(0.5),
         layers.Flatten(),
         layers.Dense(128, activation="relu"),
         layers.Dense(num_classes, activation="softmax")],
        name="seed_blood_cells",
    )


def seed_cifar10(input_shape=(32, 32, 3), num_classes: int = 10, rescale: bool = True,
                 augment=None) -> keras.Sequential:
    """The CIFAR-10 article's CNN: conv 32-64-128 (3x3, valid) each with max-pool, dense 128, softmax.

    160,202 parameters (the article's table says 162,202, which is not the sum of its own rows).
    """
    return keras.Sequential(
        [keras.Input(shape=input_shape), *_rescale(rescale), *_augment(augment),
         layers.Conv2D(32, 3, activation="relu"),
         layers.MaxPooling2D(),
         layers.Conv2D(64, 3, activation="relu"),
         layers.MaxPooling2D(),
         layers.Conv2D(128, 3, activation="relu"),
         layers.MaxPooling2D(),
         layers.Flatten(),
         layers.Dense(128, activation="relu"),
         layers.Dense(num_classes, activation="softmax")],
        name="seed_cifar10",
    )


def seed_cats_dogs(input_shape=(64, 64, 3), rescale: bool = True, augment=None) -> keras.Sequential:
    """The cats-vs-dogs article's classifier: conv 32@3x3, max-pool, dense 128, one sigmoid unit.

    Written as the article meant it (``Conv2D(32, (3, 3))``; its ``Convolution2D(32, 3, 3)`` would set
    strides to 3 in Keras 2+). 3,937,409 parameters at 64x64x3; 66,065,537 at 256x256x3 (7,226,497 with
    the literal stride 3). ``augment`` (e.g. :func:`augmentation`) runs first, then ``Rescaling``.
    """
    return keras.Sequential(
        [keras.Input(shape=input_shape), *_augment(augment), *_rescale(rescale),
         layers.Conv2D(32, (3, 3), activation="relu"),
         layers.MaxPooling2D(pool_size=(2, 2)),
         layers.Flatten(),
         layers.Dense(128, activation="relu"),
         layers.Dense(1, activation="sigmoid")],
        name="seed_cats_dogs",
    )


def cats_dogs_cnn(input_shape=(128, 128, 3), filters=(32, 64, 128, 256), dropout: float = 0.3,
                  bn_momentum: float = 0.9, augment=None, rescale: bool = True) -> keras.Sequential:
    """A small binary CNN for cats vs dogs, the course's improvement on :func:`seed_cats_dogs`.

    One block per entry of ``filters``: 3x3 conv (same padding, no bias), batch norm, ReLU, 2x2 max-pool.
    Then global average pooling, dropout and one sigmoid unit (``P(class 1)``). Global average pooling
    makes the parameter count independent of the input size: 390,113 with the default filters
    (960 of them batch-norm moving statistics, not trained), against 3,937,409 for the article's model
    at 64x64 and 66,065,537 at 256x256.

    Batch norm uses ``bn_momentum=0.9`` (Keras's default is 0.99): the moving statistics used at inference
    then settle within a few dozen steps, which a small dataset (20 batches per epoch for 640 photos) needs;
    with 0.99 the validation accuracy stayed at 0.5 for 9 epochs on the course's 1,000-photo sample
    (64x64, Adam 0.001).
    """
    stack = [keras.Input(shape=input_shape), *_augment(augment), *_rescale(rescale)]
    for i, width in enumerate(filters):
        block = f"block{i + 1}"
        stack += _conv_bn_relu_layers(width, (f"{block}_conv", f"{block}_bn", f"{block}_relu"),
                                      bn_momentum=bn_momentum)
        stack.append(layers.MaxPooling2D(name=f"{block}_pool"))
    stack.append(layers.GlobalAveragePooling2D(name="gap"))
    if dropout:
        stack.append(layers.Dropout(dropout, name="dropout"))
    stack.append(layers.Dense(1, activation="sigmoid", name="output"))
    return keras.Sequential(stack, name="cats_dogs_cnn")


def vgg_style(input_shape, num_classes: int, filters=(32, 64, 128), convs_per_block: int = 2,
              batch_norm: bool = True, dropout: float = 0.3, augment=None, rescale: bool = True,
              name: str = "vgg_style") -> keras.Sequential:
    """VGG-style blocks: ``convs_per_block`` x (3x3 conv [+ batch norm] + ReLU), then 2x2 max-pool.

    The head is global average pooling, dropout and a dense output: softmax for ``num_classes >= 2``,
    or a single sigmoid unit for ``num_classes == 1`` (binary). Batch norm comes before the ReLU and
    the convolution then needs no bias.
    """
    if num_classes < 1:
        raise ValueError(f"num_classes must be >= 1, got {num_classes}")
    stack = [keras.Input(shape=input_shape), *_augment(augment), *_rescale(rescale)]
    for i, width in enumerate(filters):
        for j in range(convs_per_block):
            stack += _conv_bn_relu_layers(
                width, (f"block{i + 1}_conv{j + 1}", f"block{i + 1}_bn{j + 1}", f"block{i + 1}_relu{j + 1}"),
                batch_norm=batch_norm)
        stack.append(layers.MaxPooling2D(name=f"block{i + 1}_pool"))
    stack += [layers.GlobalAveragePooling2D(name="gap")]
    if dropout:
        stack.append(layers.Dropout(dropout, name="dropout"))
    if num_classes == 1:
        stack.append(layers.Dense(1, activation="sigmoid", name="output"))
    else:
        stack.append(layers.Dense(num_classes, activation="softmax", name="output"))
    return keras.Sequential(stack, name=name)


def _conv_bn_relu(x, filters: int, name: str, batch_norm: bool, weight_decay: float):
    """3x3 convolution (no bias when batch norm follows), batch norm, ReLU: the ResNet-9 building block."""
    reg = keras.regularizers.L2(weight_decay / 2) if weight_decay else None  # L2(l) adds l*sum(w**2)
    x = layers.Conv2D(filters, 3, padding="same", use_bias=not batch_norm, kernel_regularizer=reg,
                      name=f"{name}_conv")(x)
    if batch_norm:
        # PyTorch's BatchNorm2d defaults (momentum 0.1, eps 1e-5), as in the recipe this model follows.
        x = layers.BatchNormalization(momentum=0.9, epsilon=1e-5, gamma_regularizer=reg, beta_regularizer=reg,
                                      name=f"{name}_bn")(x)
    return layers.Activation("relu", name=f"{name}_relu")(x)


def resnet9(input_shape=(32, 32, 3), num_classes: int = 10, widths=(64, 128, 256, 512), batch_norm: bool = True,
            residual: bool = True, weight_decay: float = 5e-4, logit_scale: float = 0.125, augment=None,
            rescale: bool = True, name: str = "resnet9") -> keras.Model:
    """A small ResNet for CIFAR-10: D. Page's "ResNet-9" (myrtle.ai, "How to train your ResNet", 2018).

    prep:   conv-BN-ReLU (widths[0])
    layer1: conv-BN-ReLU (widths[1]), max-pool 2, plus a residual block (two conv-BN-ReLU, added back)
    layer2: conv-BN-ReLU (widths[2]), max-pool 2
    layer3: conv-BN-ReLU (widths[3]), max-pool 2, plus a residual block
    head:   global max-pool, dense without bias, logits times ``logit_scale``, softmax (float32)

    6,577,600 parameters at the default widths (8,960 of them batch-norm statistics, not trained).
    ``weight_decay`` is the coefficient ``wd`` of SGD-style weight decay (the gradient of each weight
    gets ``wd * w``), applied to every kernel and batch-norm weight, as in Page's recipe.
    ``batch_norm=False`` and ``residual=False`` build the variants the course's ablation compares.
    """
    if len(widths) != 4:
        raise ValueError(f"widths needs 4 numbers (prep, layer1, layer2, layer3), got {widths!r}")
    prep, w1, w2, w3 = widths

    def block(x, filters, block_name):
        return _conv_bn_relu(x, filters, block_name, batch_norm, weight_decay)

    def residual_block(x, filters, block_name):
        y = block(block(x, filters, f"{block_name}_res1"), filters, f"{block_name}_res2")
        return layers.Add(name=f"{block_name}_add")([x, y]) if residual else y

    inputs = keras.Input(shape=input_shape, name="image")
    x = inputs
    for layer in _augment(augment) + _rescale(rescale):
        x = layer(x)
    x = block(x, prep, "prep")
    x = layers.MaxPooling2D(name="layer1_pool")(block(x, w1, "layer1"))
    x = residual_block(x, w1, "layer1")
    x = layers.MaxPooling2D(name="layer2_pool")(block(x, w2, "layer2"))
    x = layers.MaxPooling2D(name="layer3_pool")(block(x, w3, "layer3"))
    x = residual_block(x, w3, "layer3")
    x = layers.GlobalMaxPooling2D(name="global_pool")(x)
    reg = keras.regularizers.L2(weight_decay / 2) if weight_decay else None
    x = layers.Dense(num_classes, use_bias=False, kernel_regularizer=reg, name="logits")(x)
    x = layers.Rescaling(logit_scale, name="logit_scale")(x)  # scales logits, not pixels
    outputs = layers.Activation("softmax", dtype="float32", name="softmax")(x)  # float32 under mixed precision
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
