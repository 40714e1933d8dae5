"""Training recipes beyond ``compile``/``fit``'s defaults: a learning-rate schedule, weight averaging,
re-augmented epochs and test-time augmentation (notebook 05's fast CIFAR-10 recipe, after Jordan's airbench).

* :class:`TriangularSchedule`: linear warm-up, then linear decay (a Keras ``LearningRateSchedule``).
* :class:`WeightAveraging`: a callback that keeps a running average of the weights and trains on from it.
* :class:`FlipShiftEpochs`: a ``keras.utils.PyDataset`` that re-augments the whole training set each epoch
  (alternating horizontal flips, random shifts with mirrored borders).
* :func:`predict_tta`: predictions averaged over flipped and shifted copies of each image.
* :func:`train_airbench`: all of the above put together: :func:`cnnkit.models.airbench` trained on uint8
  images with notebook 05's recipe (notebook 07 uses it when notebook 05's saved model is missing), with
  :func:`airbench_peak_lr` and :func:`airbench_weight_decay`.
"""

from __future__ import annotations

import os
import re
import warnings
import weakref
from typing import NamedTuple

import keras
import numpy as np
from keras import ops

__all__ = ["TriangularSchedule", "WeightAveraging", "FlipShiftEpochs", "FreezeLayerAfter", "predict_tta", "shift_pad",
           "AirbenchRun", "AIRBENCH_SETTINGS", "airbench_settings", "device_settings", "airbench_peak_lr",
           "airbench_weight_decay", "train_airbench"]


@keras.saving.register_keras_serializable(package="cnnkit")
class TriangularSchedule(keras.optimizers.schedules.LearningRateSchedule):
    """Learning rate that rises linearly, then falls linearly: the shape airbench uses.

    From ``start * peak`` at step 0 to ``peak`` at step ``int(warmup * total_steps)``, then down to
    ``end * peak`` at step ``total_steps`` (and stays there after it).

    Args:
        peak: the largest learning rate.
        total_steps: length of the run in optimiser steps.
        warmup: share of the steps spent rising.
        start, end: the first and last learning rate, as fractions of ``peak``.
    """

    def __init__(self, peak: float, total_steps: int, warmup: float = 0.23, start: float = 0.2, end: float = 0.07):
        if total_steps < 1:
            raise ValueError(f"total_steps must be at least 1, got {total_steps}")
        if not 0 < warmup < 1:
            raise ValueError(f"warmup is a share of the steps, between 0 and 1; got {warmup}")
        self.peak, self.total_steps = float(peak), int(total_steps)
        self.warmup, self.start, self.end = float(warmup), float(start), float(end)

    def __call__(self, step):
        s = ops.cast(step, "float32")
        top = float(max(1, int(self.warmup * self.total_steps)))
        rise = self.start + (1.0 - self.start) * s / top
        fall = 1.0 + (self.end - 1.0) * ops.minimum((s - top) / max(1.0, self.total_steps - top), 1.0)
        return self.peak * ops.where(s < top, rise, fall)

    def get_config(self):
        return {"peak": self.peak, "total_steps": self.total_steps, "warmup": self.warmup, "start": self.start,
                "end": self.end}


class WeightAveraging(keras.callbacks.Callback):
    """Every ``every`` steps: ``avg = d * avg + (1 - d) * w``, then the model continues from ``w = avg``.

    ``d = decay**every * (step / total_steps)**3`` grows from 0 (no averaging at first) to ``decay**every``
    at the end, so the average reaches further back as training settles. The average starts from the weights at
    the start of training; at ``total_steps`` the model makes its regular averaging step (if ``total_steps`` is a
    multiple of ``every``) and then gets the average. This is airbench's "lookahead" (after Zhang et al., 2019,
    "Lookahead optimizer"). It covers all weights, the batch norms' running statistics included (Keras's
    ``use_ema`` averages trainable weights only).

    The step is read from the optimiser's ``iterations`` (so a resumed run continues the same decay, and a step
    that a loss-scaling optimiser skipped is not counted twice). With ``backup`` (the folder of a
    ``keras.callbacks.BackupAndRestore``) the average is saved there at the end of each epoch and read back when
    training resumes, so an interrupted and resumed run ends where an uninterrupted one would. If training ends
    before ``total_steps`` (a loss-scaling optimiser skipped steps, or a callback stopped it), the model gets the
    average at the end of training.

    Args:
        total_steps: length of the run in optimiser steps.
        every: steps between two averaging steps.
        decay: per-step decay of the average.
        backup: a folder to save the average in (or None).
    """

    def __init__(self, total_steps: int, every: int = 5, decay: float = 0.95, backup=None):
        super().__init__()
        self.total_steps, self.every, self.decay = int(total_steps), int(every), float(decay)
        self.backup = None if backup is None else os.fspath(backup)
        self.step = None
        self._average = None
        self._done = False

    def _iterations(self) -> int:
        return int(keras.ops.convert_to_numpy(self.model.optimizer.iterations))

    def _file(self, step: int) -> str:
        return os.path.join(self.backup, f"weight_averaging-{step}.npz")

    def _saved_steps(self) -> list[int]:
        if self.backup is None or not os.path.isdir(self.backup):
            return []
        found = (re.fullmatch(r"weight_averaging-(\d+)\.npz", name) for name in os.listdir(self.backup))
        return sorted(int(m.group(1)) for m in found if m)

    def on_train_begin(self, logs=None):
        self._weights = list(self.model.weights)
        self._average = None
        self._done = False
        self.step = None

    def _start(self):
        """The average at the optimiser's current step: the weights now (step 0) or the saved average."""
        self._weights = list(self.model.weights)
        self.step = self._iterations()
        values = [np.array(keras.ops.convert_to_numpy(w.value)) for w in self._weights]
        if self.step > 0 and self.step in self._saved_steps():
            with np.load(self._file(self.step)) as saved:
                if len(saved.files) != len(values):
                    raise ValueError(f"{self._file(self.step)} holds {len(saved.files)} weights, the model "
                                     f"{len(values)}: it belongs to another model")
                values = [saved[f"w{i}"] for i in range(len(values))]
        elif self.step > 0 and self.backup is not None:
            warnings.warn(f"WeightAveraging: no saved average for step {self.step} in {self.backup}; the average "
                          "restarts from the current weights", stacklevel=2)
        # a copy of each value (keras.Variable(w.value) would share the storage with w)
        self._average = [keras.Variable(v, trainable=False, dtype=w.dtype) for v, w in zip(values, self._weights)]

    def _update(self, d: float):
        for w, a in zip(self._weights, self._average):
            a.assign(d * a + (1.0 - d) * w.value)
            w.assign(a)

    def on_train_batch_begin(self, batch, logs=None):
        if self._average is None:
            self._start()

    def on_train_batch_end(self, batch, logs=None):
        if self._average is None:  # called without on_train_batch_begin (as in a hand-written loop)
            self._start()
            self.step -= 1
        step = self._iterations()
        if step == self.step:  # the optimiser skipped this step (loss scaling): nothing to average
            return
        self.step = step
        if step % self.every == 0 and step <= self.total_steps:
            self._update(self.decay ** self.every * (step / self.total_steps) ** 3)
        if step == self.total_steps:
            self._update(1.0)  # the model gets the average
            self._done = True

    def on_epoch_end(self, epoch, logs=None):
        if self.backup is None or self._average is None:
            return
        os.makedirs(self.backup, exist_ok=True)
        path = self._file(self.step)
        tmp = path.removesuffix(".npz") + ".tmp.npz"  # weight_averaging-N.tmp.npz: a name _BACKUP_FILE allows
        np.savez(tmp, **{f"w{i}": keras.ops.convert_to_numpy(a.value) for i, a in enumerate(self._average)})
        os.replace(tmp, path)
        for old in self._saved_steps()[:-2]:  # keep this epoch's and the previous one's
            os.remove(self._file(old))

    def on_train_end(self, logs=None):
        if self._average is not None and not self._done:
            self._update(1.0)
            self._done = True


def shift_pad(images, pad: int) -> np.ndarray:
    """``images`` (N, H, W, C) padded by ``pad`` pixels on each side, mirrored without repeating the edge
    (NumPy's ``mode="reflect"``: ``d c b | a b c d``), as airbench pads before its random crops."""
    return np.pad(images, ((0, 0), (pad, pad), (pad, pad), (0, 0)), mode="reflect")


class FlipShiftEpochs(keras.utils.PyDataset):
    """Training batches of ``(images, one-hot labels)``, the whole set re-augmented at the start of each epoch.

    Each image is flipped left-right in every other epoch (a random half of the images in even epochs, the
    other half in odd ones: airbench's "alternating flip"; ``alternating=False`` flips each image at random
    every epoch) and shifted by up to ``shift`` pixels in each direction, the uncovered border mirrored
    (:func:`shift_pad`). Batches are reshuffled each epoch; the last incomplete batch is dropped. Images stay
    uint8 until a batch is served as float32.

    Each epoch's flips, shifts and order are drawn from a generator seeded with ``(seed, epoch)``, so epoch
    ``e`` is the same whether it follows epoch ``e - 1`` or starts a resumed run: set :attr:`epoch` (fit does
    it through :meth:`follow_epochs`' callback) and the batches are those of that epoch. ``on_epoch_end``
    moves on to the next epoch.

    Args:
        x: uint8 images (N, H, W, C).
        y: integer labels (N,).
        batch_size: images per batch.
        num_classes: length of the one-hot labels (label smoothing needs one-hot targets).
        shift: the largest shift in pixels (0: no shifts).
        flip: flip at all.
        alternating: alternating (True) or independent random (False) flips.
        seed: seed of the flips, shifts and order (None: a random one, fixed for this object).
        **kwargs: for ``keras.utils.PyDataset`` (``workers``, ``use_multiprocessing``, ``max_queue_size``).
    """

    def __init__(self, x, y, batch_size: int, num_classes: int = 10, *, shift: int = 2, flip: bool = True,
                 alternating: bool = True, seed: int | None = 0, **kwargs):
        super().__init__(**kwargs)
        x, y = np.asarray(x), np.asarray(y).reshape(-1)
        if x.ndim != 4 or len(x) != len(y):
            raise ValueError(f"x must be (N, H, W, C) with one label each; got x {x.shape} and {len(y)} labels")
        if len(x) < batch_size:
            raise ValueError(f"{len(x)} images are fewer than one batch of {batch_size}")
        self.x, self.batch_size, self.shift = x, int(batch_size), int(shift)
        self.flip, self.alternating = bool(flip), bool(alternating)
        self.onehot = keras.utils.to_categorical(y, num_classes).astype("float32")
        self.seed = int(np.random.SeedSequence().entropy % 2**63) if seed is None else int(seed)
        self.first_flips = np.random.default_rng(self.seed).random(len(x)) < 0.5
        self.epoch = 0
        self._made = None  # (epoch, images, order) of the last augmented epoch

    def __len__(self):
        return len(self.x) // self.batch_size

    def _rng(self, epoch: int) -> np.random.Generator:
        return np.random.default_rng([self.seed, int(epoch)])

    def flips(self, epoch: int) -> np.ndarray:
        """Which images are flipped in ``epoch`` (a boolean mask)."""
        if not self.flip:
            return np.zeros(len(self.x), bool)
        if self.alternating:
            return self.first_flips ^ bool(epoch % 2)
        return self._rng(epoch).random(len(self.x)) < 0.5

    def _augment(self, epoch: int):
        rng = self._rng(epoch)
        rng.random(len(self.x))  # the draw that flips() uses for independent flips, so shifts do not reuse it
        x = self.x
        flips = self.flips(epoch)
        x = np.where(flips[:, None, None, None], x[:, :, ::-1], x)
        if self.shift:
            s, (h, w) = self.shift, x.shape[1:3]
            padded = shift_pad(x, s)
            top, left = rng.integers(0, 2 * s + 1, size=(2, len(x)))
            out = np.empty_like(x)
            for i in range(2 * s + 1):  # one vectorised copy per offset: (2s+1)^2 copies in all
                for j in range(2 * s + 1):
                    rows = (top == i) & (left == j)
                    out[rows] = padded[rows, i:i + h, j:j + w]
            x = out
        self._made = (epoch, x, rng.permutation(len(x)))

    def _current(self):
        if self._made is None or self._made[0] != self.epoch:
            self._augment(self.epoch)
        return self._made

    @property
    def images(self) -> np.ndarray:
        """The augmented images of the current epoch, in their original order."""
        return self._current()[1]

    @property
    def order(self) -> np.ndarray:
        """The order in which the current epoch serves the images."""
        return self._current()[2]

    def __getitem__(self, index):
        _, images, order = self._current()
        idx = order[index * self.batch_size:(index + 1) * self.batch_size]
        return images[idx].astype("float32"), self.onehot[idx]

    def on_epoch_end(self):
        self.epoch += 1

    def follow_epochs(self) -> keras.callbacks.Callback:
        """A callback for ``fit`` that sets :attr:`epoch` to fit's epoch at the start of each (a run resumed by
        ``keras.callbacks.BackupAndRestore`` starts at a later epoch)."""
        return _FollowEpochs(self)


class _FollowEpochs(keras.callbacks.Callback):
    def __init__(self, dataset: FlipShiftEpochs):
        super().__init__()
        self.dataset = dataset

    def on_epoch_begin(self, epoch, logs=None):
        self.dataset.epoch = int(epoch)


class FreezeLayerAfter(keras.callbacks.Callback):
    """Stops training the layer ``layer_name`` from epoch ``epochs`` on (airbench94 trains its whitening
    layer's bias for the first 3 epochs only). The training function is rebuilt once at that point."""

    def __init__(self, layer_name: str, epochs: int):
        super().__init__()
        self.layer_name, self.epochs = layer_name, int(epochs)

    def on_epoch_begin(self, epoch, logs=None):
        layer = self.model.get_layer(self.layer_name)
        if epoch >= self.epochs and layer.trainable:
            layer.trainable = False
            self.model.make_train_function(force=True)
            self._frozen = layer

    def on_train_begin(self, logs=None):
        self._frozen = None

    def on_train_end(self, logs=None):
        if self._frozen is not None:  # the returned model trains the layer again, as a freshly built one would
            self._frozen.trainable = True
            self.model.make_train_function(force=True)


_OUTPUT_MODELS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _output_model(model, output: str):
    """A model from ``model``'s inputs to layer ``output``, built once per model (so that its prediction
    function is compiled once, not at every call)."""
    from .transfer import feature_extractor

    cache = _OUTPUT_MODELS.setdefault(model, {})
    if output not in cache:
        cache[output] = feature_extractor(model, output)
    return cache[output]


def predict_tta(model, images, level: int = 2, batch_size: int = 1000, output: str | None = None) -> np.ndarray:
    """Predictions averaged over augmented copies of ``images`` (test-time augmentation, as airbench).

    ``level`` 0: the images as they are; 1: the mean over each image and its mirror image; 2: half of level 1
    plus half the level-1 mean over two copies shifted by one pixel (up-left and down-right, mirrored borders):
    6 views in all. Averages are taken over ``model``'s outputs, or over the outputs of the layer named
    ``output`` (airbench averages logits: ``output="logits"``).

    Args:
        model: a Keras model.
        images: array (N, H, W, C) of what the model takes.
        level: 0, 1 or 2.
        batch_size: images per prediction batch.
        output: None (the model's output) or a layer name.

    Returns:
        float array (N, outputs).
    """
    if level not in (0, 1, 2):
        raise ValueError(f"level must be 0, 1 or 2, got {level!r}")
    images = np.asarray(images)
    if output is not None:
        model = _output_model(model, output)

    def run(x):
        return np.asarray(model.predict(np.ascontiguousarray(x, dtype="float32"), batch_size=batch_size, verbose=0),
                          dtype="float64")

    def mirrored(x):
        return 0.5 * (run(x) + run(x[:, :, ::-1]))

    if level == 0:
        return run(images)
    plain = mirrored(images)
    if level == 1:
        return plain
    h, w = images.shape[1:3]
    padded = shift_pad(images, 1)
    shifted = 0.5 * (mirrored(padded[:, 0:h, 0:w]) + mirrored(padded[:, 2:h + 2, 2:w + 2]))
    return 0.5 * plain + 0.5 * shifted


class AirbenchRun(NamedTuple):
    """What :func:`train_airbench` returns: the trained model, ``fit``'s history (a dict) and the training seconds."""

    model: keras.Model
    history: dict
    seconds: float


def airbench_peak_lr(momentum: float = 0.85) -> float:
    """airbench94's peak learning rate (11.5 per 1,024 examples of a summed loss) for a mean loss with Nesterov
    momentum: ``11.5 / (1 + 1 / (1 - momentum))``."""
    return 11.5 / (1 + 1 / (1 - momentum))


def airbench_weight_decay(momentum: float = 0.85, peak_lr: float | None = None) -> float:
    """airbench94's weight decay (0.0153 per 1,024 examples, decoupled) as the coupled ``wd`` of
    :func:`cnnkit.models.airbench` at the learning rate ``peak_lr`` (default :func:`airbench_peak_lr`)."""
    peak_lr = airbench_peak_lr(momentum) if peak_lr is None else peak_lr
    return 0.0153 / (1 + 1 / (1 - momentum)) / peak_lr


_BACKUP_FILE = re.compile(r"(latest\.weights\.h5|training_metadata\.json)(\.bkp)?|weight_averaging-\d+(\.tmp)?\.npz")


def _check_backup_folder(folder):
    """Refuse a backup folder that holds anything but a training backup (Keras deletes it when training ends)."""
    folder = os.fspath(folder)
    if os.path.exists(folder) and not os.path.isdir(folder):
        raise ValueError(f"backup must be a folder, but {folder} is a file")
    if os.path.isdir(folder):
        others = sorted(name for name in os.listdir(folder) if not _BACKUP_FILE.fullmatch(name))
        if others:
            raise ValueError(f"backup folder {folder} holds other files ({', '.join(others[:3])}"
                             f"{', ...' if len(others) > 3 else ''}); Keras deletes the backup folder when training "
                             "completes, so give it a folder of its own")


# Notebook 05's settings of the fast network, at full size and in reduced mode (CNNKIT_QUICK=1); notebook 05 and
# scripts/train_course_cifar10.py both read them (pick one with airbench_settings()). The learning rate and weight
# decay follow from the momentum (airbench_peak_lr, airbench_weight_decay); mean/std and the whitening filters
# are computed from the training images.
AIRBENCH_SETTINGS = {
    "full": {"widths": (64, 256, 256), "epochs": 10, "batch_size": 1024, "momentum": 0.85,
             "label_smoothing": 0.2, "whiten_images": 5000, "whiten_bias_epochs": 3, "val_fraction": 0.1,
             "include_validation": True, "seed": 42},
    "quick": {"widths": (24, 48, 48), "epochs": 4, "batch_size": 250, "momentum": 0.85,
              "label_smoothing": 0.2, "whiten_images": 5000, "whiten_bias_epochs": 3, "val_fraction": 0.1,
              "include_validation": False, "seed": 42},
}


def airbench_settings(quick: bool | None = None) -> dict:
    """A copy of notebook 05's settings of the fast network (:data:`AIRBENCH_SETTINGS`): full size, or reduced
    with ``quick=True`` (default: ``cnnkit.is_quick()``)."""
    from .config import is_quick

    quick = is_quick() if quick is None else quick
    return dict(AIRBENCH_SETTINGS["quick" if quick else "full"])


def device_settings(on_gpu: bool | None = None, quick: bool | None = None) -> dict:
    """Precision policy and XLA for :func:`train_airbench` on this machine: ``{"precision", "jit_compile"}``.

    On a GPU ``mixed_float16`` (Keras adds loss scaling when a model is compiled under it) with
    ``jit_compile=True``; on a CPU with bfloat16 instructions ``mixed_bfloat16`` at full size; otherwise
    ``float32`` without XLA. ``on_gpu`` (default: whether TensorFlow sees a GPU) and ``quick`` (default:
    ``cnnkit.is_quick()``) can be forced, as the tests do for the GPU branch.
    """
    from .config import cpu_has_bf16, is_quick

    if on_gpu is None:
        import tensorflow as tf

        on_gpu = bool(tf.config.list_physical_devices("GPU"))
    quick = is_quick() if quick is None else quick
    if on_gpu:
        return {"precision": "mixed_float16", "jit_compile": True}
    if cpu_has_bf16() and not quick:
        return {"precision": "mixed_bfloat16", "jit_compile": False}
    return {"precision": "float32", "jit_compile": False}


def train_airbench(x_train, y_train, *, widths=(64, 256, 256), epochs: int = 10, batch_size: int = 1024,
                   peak_lr: float | None = None, momentum: float = 0.85, weight_decay: float | None = None,
                   label_smoothing: float = 0.2, whitening: bool = True, whitening_kernel=None,
                   whiten_images: int = 5000, mean=None, std=None, averaging: bool = True, augment: bool = True,
                   validation_data=None, include_validation: bool = False, whiten_bias_epochs: int | None = 3,
                   backup=None, precision: str = "float32", jit_compile=False, num_classes: int = 10,
                   seed: int | None = 0, verbose=0) -> AirbenchRun:
    """Train :func:`cnnkit.models.airbench` with notebook 05's recipe (after Jordan's airbench94).

    Per-channel ``mean``/``std`` (default: of ``x_train``'s pixels in [0, 1]) standardise the images; the fixed
    first layer gets ``whitening_kernel`` (default: :func:`cnnkit.layers.whitening_filters` of the first
    ``whiten_images`` standardised training images); then SGD with Nesterov momentum on a
    :class:`TriangularSchedule` peaking at ``peak_lr``, coupled weight decay, label smoothing,
    :class:`WeightAveraging` and :class:`FlipShiftEpochs` (alternating flips, shifts by up to 2 pixels).
    The switches ``whitening``, ``averaging``, ``augment`` and ``label_smoothing=0`` each remove one ingredient
    (notebook 05's ablation); ``whitening=False`` makes the first layer an ordinary trainable convolution.

    Args:
        x_train: uint8 images (N, H, W, 3), raw 0-255; y_train: integer labels (N,).
        widths: filters of the three groups (smaller widths train faster and reach less).
        epochs: passes over the training images.
        batch_size: images per step.
        peak_lr: the schedule's peak (default :func:`airbench_peak_lr`).
        momentum: SGD momentum (Nesterov).
        weight_decay: coupled ``wd`` (default :func:`airbench_weight_decay`).
        label_smoothing: of the cross-entropy.
        whitening: use the fixed whitening filters.
        whitening_kernel: those filters, ``(2, 2, 3, 24)``; None computes them.
        whiten_images: images used to compute them.
        mean, std: per-channel statistics of the [0, 1] pixels.
        averaging: use :class:`WeightAveraging`.
        augment: flip and shift the training images.
        validation_data: ``(images, integer labels)`` evaluated after each epoch, or None.
        include_validation: train on ``x_train`` and ``validation_data``'s images together (for the final model,
            once the validation split has done its job: airbench94 trains on all 50,000 CIFAR-10 training
            images); nothing is evaluated after each epoch then. ``mean``/``std`` and the whitening filters
            come from the combined images unless given.
        whiten_bias_epochs: train the whitening layer's bias (``whiten_shift``) for this many epochs only, as
            airbench94 does (3); None trains it throughout.
        backup: a folder for ``keras.callbacks.BackupAndRestore`` (an interrupted run started again with the
            same folder resumes from its last finished epoch and ends with the same weights as an uninterrupted
            one); the weight average is saved there too. Keras deletes the folder when training completes. It
            must be a folder of its own: one holding other files is refused. None: no backup.
        precision: the Keras dtype policy while the model is built and trained (``"mixed_float16"`` on a GPU);
            the previous policy is restored afterwards.
        jit_compile: passed to ``compile`` (XLA).
        num_classes: number of classes.
        seed: seed of the initial weights, flips, shifts and order.
        verbose: passed to ``fit``.

    Returns:
        An :class:`AirbenchRun`: the trained model (compiled, accuracy as its metric), the history, the seconds.
    """
    from .layers import whitening_filters
    from .models import airbench
    from .results import timer

    x_train = np.asarray(x_train)
    if x_train.ndim != 4 or x_train.shape[-1] != 3:
        raise ValueError(f"x_train must be RGB images (N, H, W, 3), got shape {x_train.shape}")
    if len(x_train) != len(y_train):
        raise ValueError(f"x_train has {len(x_train)} images but y_train {len(y_train)} labels")
    if epochs < 1:
        raise ValueError(f"epochs must be at least 1, got {epochs}")
    if include_validation:
        if validation_data is None:
            raise ValueError("include_validation=True needs validation_data (the images to add to x_train)")
        x_val, y_val = validation_data
        x_train = np.concatenate([x_train, np.asarray(x_val)])
        y_train = np.concatenate([np.asarray(y_train).reshape(-1), np.asarray(y_val).reshape(-1)])
        validation_data = None
    if backup is not None:
        _check_backup_folder(backup)
    peak_lr = airbench_peak_lr(momentum) if peak_lr is None else peak_lr
    weight_decay = airbench_weight_decay(momentum, peak_lr) if weight_decay is None else weight_decay
    if mean is None or std is None:
        pixels = x_train.reshape(-1, 3)
        mean = pixels.mean(axis=0) / 255 if mean is None else mean
        std = pixels.std(axis=0) / 255 if std is None else std
    if whitening and whitening_kernel is None:
        whitening_kernel = whitening_filters((x_train[:whiten_images] / 255.0 - mean) / std)

    previous = keras.mixed_precision.global_policy().name
    keras.mixed_precision.set_global_policy(precision)
    try:
        if seed is not None:
            keras.utils.set_random_seed(seed)
        model = airbench(input_shape=x_train.shape[1:], num_classes=num_classes, widths=tuple(widths), mean=mean,
                         std=std, weight_decay=weight_decay, whitening_kernel=whitening_kernel if whitening else None)
        if not whitening:  # an ordinary trainable first layer instead of the fixed whitening filters
            model.get_layer("whiten").trainable = True
        shift = 2 if augment else 0
        train = FlipShiftEpochs(x_train, y_train, batch_size, num_classes, shift=shift, flip=augment, seed=seed)
        steps = epochs * len(train)
        model.compile(optimizer=keras.optimizers.SGD(TriangularSchedule(peak_lr, steps), momentum=momentum,
                                                     nesterov=True),
                      loss=keras.losses.CategoricalCrossentropy(label_smoothing=label_smoothing),
                      metrics=["accuracy"], jit_compile=jit_compile)
        # order matters: the backup is restored (on_train_begin) before the other callbacks read the state, and
        # the weight average is saved (on_epoch_end) before the backup that it belongs to
        callbacks = [train.follow_epochs()]
        if backup is not None:
            callbacks.append(keras.callbacks.BackupAndRestore(str(backup)))
        if whiten_bias_epochs is not None and whiten_bias_epochs < epochs:
            callbacks.append(FreezeLayerAfter("whiten_shift", whiten_bias_epochs))
        if averaging:
            callbacks.insert(1, WeightAveraging(steps, backup=backup))
        if validation_data is not None:
            x_val, y_val = validation_data
            validation_data = (np.asarray(x_val).astype("float32"), keras.utils.to_categorical(y_val, num_classes))
        with timer() as t:
            # shuffle=False: FlipShiftEpochs orders each epoch itself, from the seed and the epoch number (fit's own
            # shuffling of the batches would draw from the global random state, which a resumed run does not share)
            history = model.fit(train, validation_data=validation_data, epochs=epochs, verbose=verbose,
                                callbacks=callbacks, shuffle=False)
    finally:
        keras.mixed_precision.set_global_policy(previous)
    return AirbenchRun(model, history.history, t.seconds)
