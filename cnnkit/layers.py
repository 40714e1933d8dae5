"""Custom pieces of the course's models: a bias with its own learning-rate scale, an identity initialiser,
and the filters of a whitening layer.

They serve :func:`cnnkit.models.airbench` (notebook 05) and are registered with Keras, so a saved model that
uses them loads with ``keras.models.load_model`` once ``cnnkit`` (or this module) is imported.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import layers, ops

__all__ = ["ScaledBias", "IdentityInit", "whitening_filters"]


@keras.saving.register_keras_serializable(package="cnnkit")
class ScaledBias(layers.Layer):
    """Adds a learned bias per channel, stored scaled down: the bias is ``scale * v`` and ``v`` is the weight.

    A gradient step of size ``lr`` on ``v`` moves the bias ``scale**2`` times as far as the same step on a
    plain bias would: a per-layer learning-rate multiplier of ``scale**2`` without a second optimiser.
    L2 weight decay on ``v`` (``regularizer``) shrinks the bias at the usual rate.

    Args:
        scale: the factor between the weight ``v`` and the bias.
        regularizer: a Keras regulariser for ``v`` (or None).
    """

    def __init__(self, scale: float = 1.0, regularizer=None, **kwargs):
        super().__init__(**kwargs)
        self.scale = float(scale)
        self.regularizer = keras.regularizers.get(regularizer)

    def build(self, input_shape):
        self.v = self.add_weight(name="v", shape=(input_shape[-1],), initializer="zeros",
                                 regularizer=self.regularizer)

    def call(self, x):
        return x + ops.cast(self.scale * self.v, x.dtype)

    def get_config(self):
        return {**super().get_config(), "scale": self.scale,
                "regularizer": keras.regularizers.serialize(self.regularizer)}


@keras.saving.register_keras_serializable(package="cnnkit")
class IdentityInit(keras.initializers.Initializer):
    """Kernel initialiser: filter ``k`` passes input channel ``k`` through unchanged, for the first
    ``min(C_in, C_out)`` filters; the other filters are uniform random in ``±1/sqrt(fan_in)``.

    This is PyTorch's default convolution initialisation followed by ``torch.nn.init.dirac_`` on the first
    filters, as in Jordan's airbench. A convolution so initialised starts as (partly) the identity map.

    Args:
        seed: seed of the random part.
    """

    def __init__(self, seed=None):
        self.seed = seed
        # VarianceScaling(1/3, fan_in, uniform) draws from ±sqrt(3 * (1/3) / fan_in) = ±1/sqrt(fan_in)
        self._uniform = keras.initializers.VarianceScaling(scale=1 / 3, mode="fan_in", distribution="uniform",
                                                           seed=seed)

    def __call__(self, shape, dtype=None):
        if len(shape) != 4:
            raise ValueError(f"IdentityInit is for Conv2D kernels (kh, kw, C_in, C_out), got shape {tuple(shape)}")
        kh, kw, cin, cout = shape
        n = min(cin, cout)
        keep = np.ones(shape, "float32")
        keep[..., :n] = 0
        eye = np.zeros(shape, "float32")
        eye[kh // 2, kw // 2, np.arange(n), np.arange(n)] = 1
        return ops.cast(self._uniform(shape, dtype="float32") * keep + eye, dtype or "float32")

    def get_config(self):
        return {"seed": self.seed}


def whitening_filters(images, patch: int = 2, eps: float = 5e-4) -> np.ndarray:
    """Convolution filters that whiten the ``patch`` x ``patch`` patches of ``images``.

    Every patch of ``images`` (N, H, W, C; already standardised) is a vector of ``patch*patch*C`` numbers.
    Their covariance (uncentred, as in airbench) is ``V diag(lam) V^T``; the filters ``V / sqrt(lam + eps)``
    map a patch to uncorrelated outputs of variance ``lam / (lam + eps)`` (principal component analysis, each
    component rescaled): near 1 for the strong components, well below 1 for components whose ``lam`` is
    comparable to ``eps`` (``eps`` caps the gain of the weakest, noisiest directions). The filters come sorted by ``lam``, largest first, followed by their
    negatives, so that a following GELU or ReLU keeps both signs of every component.

    Args:
        images: float array (N, H, W, C).
        patch: the patch size (the filters' height and width).
        eps: added to each eigenvalue; limits the gain of the weakest components.

    Returns:
        float32 array of shape ``(patch, patch, C, 2 * patch * patch * C)``: a ``Conv2D`` kernel.
    """
    x = np.asarray(images, dtype=np.float64)
    if x.ndim != 4:
        raise ValueError(f"images must have shape (N, H, W, C), got {x.shape}")
    if x.shape[1] < patch or x.shape[2] < patch:
        raise ValueError(f"images of {x.shape[1]}x{x.shape[2]} pixels hold no {patch}x{patch} patch")
    p = np.lib.stride_tricks.sliding_window_view(x, (patch, patch), axis=(1, 2))  # N, H', W', C, ph, pw
    p = p.transpose(0, 1, 2, 4, 5, 3).reshape(-1, patch * patch * x.shape[-1])    # rows: (ph, pw, C) order
    cov = p.T @ p / len(p)
    lam, vecs = np.linalg.eigh(cov)
    lam, vecs = lam[::-1], vecs[:, ::-1]
    w = vecs / np.sqrt(lam + eps)
    w = np.concatenate([w, -w], axis=1)
    return w.reshape(patch, patch, x.shape[-1], -1).astype("float32")
