"""Benchmarks that print figures (no thresholds anywhere: timings are for reading, not for asserting).

    python scripts/benchmark.py pipeline [--sizes 500 1000 2000 4000]   # seeds' loader vs tf.data
    python scripts/benchmark.py notebooks                               # reduced-mode seconds under nbval
    python scripts/benchmark.py epoch [--precision mixed_bfloat16]       # airbench training speed (notebook 05)

``pipeline``: the source articles' way (a Python loop that decodes and resizes each blood-cell image
into a list, then one big uint8 array, then a float32 copy) against the course's ``tf.data`` pipeline
(``cnnkit.data.blood_cells``: streaming from disk, 200x200, batches of 32), one pass over N TRAIN
images. Each measurement runs in a fresh Python process; peak memory is the process's high-water mark
(VmHWM) minus its size after the imports, so the figures compare the loaders, not the libraries.

``epoch``: training steps of notebook 05's airbench network (full widths, its recipe, batches of 1,024, after
two untimed steps that build the model), under a Keras precision policy (``float32`` or ``mixed_bfloat16``);
prints the device, the images per second and what one epoch of the training images would take.

``notebooks``: each notebook under ``pytest --nbval-lax`` with ``CNNKIT_QUICK=1``, timed as a whole
(kernel start included), and the total.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

_WORKER = r"""
import json, sys, time
from pathlib import Path

def hwm_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM"):
            return int(line.split()[1]) / 1024
    return float("nan")

def rss_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS"):
            return int(line.split()[1]) / 1024
    return float("nan")

method, n = sys.argv[1], int(sys.argv[2])
import numpy as np
from PIL import Image
import tensorflow as tf
import cnnkit
from cnnkit import data
root = data.ensure_blood_cells() / "TRAIN"
classes = data.BLOOD_CELL_CLASSES
per_class = n // len(classes)
base = rss_mb()
t0 = time.perf_counter()
if method == "seeds":
    files = []
    for label, name in enumerate(classes):
        files += [(p, label) for p in sorted((root / name).iterdir())[:per_class]]
    training = []
    for path, label in files:  # the articles: cv2.imread + cv2.resize into a Python list
        img = Image.open(path).convert("RGB").resize((200, 200), Image.BILINEAR)
        training.append([np.asarray(img), label])
    X = np.array([t[0] for t in training]).reshape(-1, 200, 200, 3)
    y = np.array([t[1] for t in training])
    X = X.astype("float32") / 255.0  # the articles' normalisation, a second full copy
    count = len(X)
else:
    ds = data.blood_cells("TRAIN", image_size=(200, 200), batch_size=32, limit_per_class=per_class, seed=0,
                          verbose=False)
    count = 0
    for images, labels in ds:
        count += int(images.shape[0])
seconds = time.perf_counter() - t0
print(json.dumps({"method": method, "images": count, "seconds": seconds, "images_per_s": count / seconds,
                  "peak_mb_over_imports": hwm_mb() - base}))
"""


def pipeline(sizes):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    rows = []
    for n in sizes:
        for method in ("seeds", "tfdata"):
            out = subprocess.run([sys.executable, "-c", _WORKER, method, str(n)], capture_output=True, text=True,
                                 env=env, check=True)
            rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
            r = rows[-1]
            print(f"  {method:<6} n={r['images']:>5}: {r['images_per_s']:7.1f} img/s, "
                  f"peak +{r['peak_mb_over_imports']:7.1f} MB", flush=True)
    print("\n| images | seeds' loader: img/s | tf.data: img/s | speed ratio | seeds' peak MB | tf.data peak MB |"
          " memory ratio |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for n in sizes:
        s = next(r for r in rows if r["method"] == "seeds" and r["images"] <= n and r["images"] > n * 0.9)
        t = next(r for r in rows if r["method"] == "tfdata" and r["images"] <= n and r["images"] > n * 0.9)
        print(f"| {s['images']:,} | {s['images_per_s']:.0f} | {t['images_per_s']:.0f} | "
              f"{t['images_per_s'] / s['images_per_s']:.1f}x | {s['peak_mb_over_imports']:,.0f} | "
              f"{t['peak_mb_over_imports']:,.0f} | {s['peak_mb_over_imports'] / t['peak_mb_over_imports']:.1f}x |")


def notebooks(paths):
    env = dict(os.environ, CNNKIT_QUICK="1")
    total = 0.0
    print("| notebook | seconds under nbval (CNNKIT_QUICK=1) | result |")
    print("|---|---:|---|")
    for path in paths:
        start = time.perf_counter()
        out = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(path)],
                             capture_output=True, text=True, env=env, cwd=ROOT)
        seconds = time.perf_counter() - start
        total += seconds
        status = out.stdout.strip().splitlines()[-1] if out.stdout.strip() else f"exit {out.returncode}"
        print(f"| {Path(path).name} | {seconds:.0f} | {status} |", flush=True)
    print(f"| **total** | **{total:.0f}** | |")


def epoch(images, batch, precision, steps):
    import keras
    import tensorflow as tf

    import cnnkit
    from cnnkit import data, models, training

    cnnkit.set_seed(42)
    (x, y), _ = data.load_cifar10()
    x, y = x[:images], y[:images]
    keras.mixed_precision.set_global_policy(precision)
    model = models.airbench()
    train = training.FlipShiftEpochs(x, y, batch, seed=42)
    model.compile(optimizer=keras.optimizers.SGD(training.TriangularSchedule(1.5, 2 * len(train)), momentum=0.85,
                                                 nesterov=True),
                  loss=keras.losses.CategoricalCrossentropy(label_smoothing=0.2), metrics=["accuracy"])
    info = cnnkit.config.env_info()
    print(f"airbench, {model.count_params():,} parameters, policy {precision}; {len(x):,} images in batches of "
          f"{batch}; device: {', '.join(info['gpus']) or 'CPU'} ({info['cpu']}, {info['cpu_count']} cores, "
          f"bfloat16 instructions: {cnnkit.config.cpu_has_bf16()}); TensorFlow {tf.__version__}", flush=True)
    model.fit(train, epochs=1, steps_per_epoch=2, verbose=0)  # build and trace outside the timing
    start = time.perf_counter()
    model.fit(train, epochs=1, steps_per_epoch=steps, verbose=0)
    seconds = time.perf_counter() - start
    print(f"{steps} training steps: {seconds:.1f} s, {steps * batch / seconds:.0f} images/s; "
          f"one epoch of {len(x):,} images would take {len(x) / (steps * batch / seconds):.0f} s")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="what", required=True)
    p = sub.add_parser("pipeline")
    p.add_argument("--sizes", type=int, nargs="+", default=[500, 1000, 2000, 4000])
    p = sub.add_parser("epoch")
    p.add_argument("--images", type=int, default=45000)
    p.add_argument("--batch", type=int, default=1024)
    p.add_argument("--precision", default="float32", choices=["float32", "mixed_bfloat16", "mixed_float16"])
    p.add_argument("--steps", type=int, default=10)
    p = sub.add_parser("notebooks")
    p.add_argument("paths", nargs="*", default=sorted(str(p) for p in (ROOT / "notebooks").glob("*.ipynb")))
    args = ap.parse_args(argv)
    if args.what == "pipeline":
        pipeline(args.sizes)
    elif args.what == "epoch":
        epoch(args.images, args.batch, args.precision, args.steps)
    else:
        notebooks(args.paths)


if __name__ == "__main__":
    main()
