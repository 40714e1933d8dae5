"""Helpers that write small test files (images, IDX files, CIFAR batches, fake blood smears)."""

import gzip
import hashlib
import pickle
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw


def write_idx(path, array, magic):
    header = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in array.shape)
    with gzip.open(path, "wb") as fh:
        fh.write(header + array.astype(np.uint8).tobytes())


def fake_fashion(root, n_train=50, n_test=20):
    folder = root / "fashion-mnist"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        write_idx(folder / f"{prefix}-images-idx3-ubyte.gz", rng.integers(0, 256, (n, 28, 28)), 2051)
        write_idx(folder / f"{prefix}-labels-idx1-ubyte.gz", np.arange(n) % 10, 2049)
    return folder


def tree_digest(root):
    """Names, sizes and contents of everything under root (to prove nothing was changed)."""
    h = hashlib.sha256()
    for p in sorted(Path(root).rglob("*")):
        h.update(str(p.relative_to(root)).encode())
        if p.is_file():
            h.update(p.read_bytes())
    return h.hexdigest()


def save_image(path, mode="RGB", size=(40, 30), seed=0, fmt=None):
    rng = np.random.default_rng(seed)
    channels = {"RGB": 3, "RGBA": 4, "L": 1}[mode]
    arr = rng.integers(0, 256, (size[1], size[0], channels), dtype=np.uint8)
    img = Image.fromarray(arr[..., 0] if mode == "L" else arr, mode)
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path, format=fmt)
    return path


def write_cifar_batch(path, n, seed=0):
    rng = np.random.default_rng(seed)
    batch = {b"batch_label": b"test", b"labels": [int(i % 10) for i in range(n)],
             b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8), b"filenames": [b"x.png"] * n}
    path.write_bytes(pickle.dumps(batch, protocol=2))
    return batch


def smear(seed, size=(320, 240)):
    """A fake blood smear: pale background, pink red cells, one purple white cell (three overlapping discs)."""
    rng = np.random.default_rng(seed)
    w, h = size
    img = Image.new("RGB", size, (236, 232, 226))
    draw = ImageDraw.Draw(img)
    for _ in range(18):
        x, y, r = rng.uniform(0, w), rng.uniform(0, h), rng.uniform(18, 28)
        draw.ellipse([x - r, y - r, x + r, y + r], fill=(222, 160, 168))
        draw.ellipse([x - r / 3, y - r / 3, x + r / 3, y + r / 3], fill=(232, 196, 200))
    cx, cy = rng.uniform(0.35 * w, 0.65 * w), rng.uniform(0.35 * h, 0.65 * h)
    for _ in range(3):
        dx, dy, r = rng.uniform(-12, 12), rng.uniform(-12, 12), rng.uniform(12, 20)
        draw.ellipse([cx + dx - r, cy + dy - r, cx + dx + r, cy + dy + r], fill=(110, 70, 190))
    return img


def augment(img, angle=0.0, flip=0, shift=(0, 0)):
    """Flip, rotate about the centre with black fill, and shift: roughly what ImageDataGenerator did."""
    if flip & 1:
        img = img.transpose(Image.FLIP_LEFT_RIGHT)
    if flip & 2:
        img = img.transpose(Image.FLIP_TOP_BOTTOM)
    return img.rotate(angle, resample=Image.BILINEAR, translate=shift, fillcolor=(0, 0, 0))
