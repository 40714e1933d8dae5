"""Fashion-MNIST (Xiao, Rasul and Vollgraf, 2017): 70,000 28x28 greyscale clothing images in 10 classes.

Read from the four official gzipped IDX files in ``<data root>/fashion-mnist/``, downloaded there (and
checked by SHA-256) when missing. :func:`load_fashion_mnist` returns NHWC arrays, unlike Keras's loader.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

from .. import fetch
from ..config import data_root
from .common import DataNotFoundError, download_root
from .splits import balanced_indices

FASHION_MNIST_CLASSES = [
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
]

# The files Zalando publishes (whose MD5s they list), with their SHA-256.
FILES = {
    "train-images-idx3-ubyte.gz": "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
    "train-labels-idx1-ubyte.gz": "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
    "t10k-images-idx3-ubyte.gz": "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
    "t10k-labels-idx1-ubyte.gz": "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
}
MIRRORS = [
    "https://storage.googleapis.com/tensorflow/tf-keras-datasets/",
    "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
]


def folder() -> Path:
    """Where the four files belong: ``<data root>/fashion-mnist``."""
    return data_root() / "fashion-mnist"


def ensure_fashion_mnist() -> Path:
    """Return the folder holding the four Fashion-MNIST files, downloading the missing ones."""
    where = folder()
    missing = [name for name in FILES if not (where / name).is_file()]
    if not missing:
        return where
    download_root("fashion-mnist", where, missing)
    errors = []
    for name in missing:
        for base in MIRRORS:
            try:
                fetch.download(base + name, where / name, FILES[name])
                break
            except fetch.DownloadError as err:
                errors.append(str(err))
        else:
            raise DataNotFoundError("fashion-mnist", where, missing, reason=errors[-1])
    return where


def read_idx(path, magic: int) -> np.ndarray:
    """The array stored in a gzipped IDX file (the format of the MNIST family), checked against ``magic``."""
    with gzip.open(path, "rb") as fh:
        raw = fh.read()
    got = int.from_bytes(raw[:4], "big")
    if got != magic:
        raise ValueError(f"{path} is not an IDX file of the expected kind (magic {got}, expected {magic}).")
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(dims)):
        raise ValueError(f"{path} is truncated: {data.size} values for shape {tuple(dims)}.")
    return data.reshape(dims)


def load_fashion_mnist(limit: int | None = None):
    """Fashion-MNIST as ``((x_train, y_train), (x_test, y_test))``.

    ``x`` is uint8 ``(N, 28, 28, 1)`` (NHWC; Keras's loader gives ``(N, 28, 28)``), ``y`` uint8 ``(N,)``
    with values 0-9 (names in :data:`FASHION_MNIST_CLASSES`). ``limit`` caps each split at that many
    examples, the same number from every class.
    """
    where = ensure_fashion_mnist()
    out = []
    for prefix in ("train", "t10k"):
        x = read_idx(where / f"{prefix}-images-idx3-ubyte.gz", 2051)[..., np.newaxis]
        y = read_idx(where / f"{prefix}-labels-idx1-ubyte.gz", 2049)
        if len(x) != len(y):
            raise ValueError(f"{where}: {len(x)} {prefix} images but {len(y)} labels.")
        keep = balanced_indices(y, limit, 10)
        out.append((x[keep], y[keep]))
    return tuple(out)
