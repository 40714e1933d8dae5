"""cnnkit: the helper package of the CNN image-classification course.

Submodules (imported on first use, so ``import cnnkit`` stays fast):

* ``cnnkit.data``: the course datasets (download, offline data root, ``image_folder``)
* ``cnnkit.ops``: NumPy reference implementations of convolution, pooling and activations
* ``cnnkit.models``: the course's Keras models (the articles' networks rebuilt, and better ones)
* ``cnnkit.layers``, ``cnnkit.training``: custom layers and training recipes (schedule, weight averaging,
  re-augmented epochs, test-time augmentation) of notebook 05's fast network
* ``cnnkit.checkpoints``: where trained models are kept, so that a later notebook can reuse them
* ``cnnkit.transfer``: reuse a trained network on a new task (a new head, fine-tuning, ImageNet bases)
* ``cnnkit.explain``: where a network looks: Grad-CAM and gradient saliency maps
* ``cnnkit.evaluate``: accuracy intervals, per-class rates, confusions, confident mistakes
* ``cnnkit.plots``: image grids, matrices, training curves, confusion matrices, galleries, heat-map overlays
* ``cnnkit.exercises``: checkers for the notebooks' exercises
* ``cnnkit.results``: record a notebook's headline metrics; timing
"""

import importlib
import os

# Quieten TensorFlow's C++ start-up logging (CUDA probing on CPU-only machines, oneDNN notes), which
# learners otherwise see as alarming red text. Set TF_CPP_MIN_LOG_LEVEL yourself to see it again.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from .config import data_root, env_report, is_quick, pick, set_seed

__version__ = "0.1.0"

__all__ = ["__version__", "data_root", "env_report", "is_quick", "pick", "set_seed", "record", "timer"]

_SUBMODULES = {"data", "ops", "models", "layers", "training", "checkpoints", "transfer", "explain", "evaluate", "exercises",
               "results", "plots", "fetch", "config", "student", "runner"}


def __getattr__(name):
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    if name in {"record", "timer"}:
        return getattr(importlib.import_module(".results", __name__), name)
    raise AttributeError(f"module 'cnnkit' has no attribute {name!r}")
