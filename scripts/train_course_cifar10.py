"""Train the course's ready-made CIFAR-10 network: notebook 05's fast network with notebook 05's full-size settings.

    CNNKIT_DATA=/work/fulldata python scripts/train_course_cifar10.py            # -> cnnkit/pretrained/
    python scripts/train_course_cifar10.py --out DIR --force                    # replace existing files in DIR
    python scripts/train_course_cifar10.py --widths 8 8 8 --epochs 1 --limit 300 --out /tmp/x   # a tiny trial

The settings are :func:`cnnkit.training.airbench_settings` (``quick=False``), the same dict notebook 05 reads;
precision and XLA come from :func:`cnnkit.training.device_settings` as in the notebook. As notebook 05 does, it
loads CIFAR-10 from the data root, holds out a stratified validation split (seed 42), trains
:func:`cnnkit.training.train_airbench` on the rest (or on all training images if the settings say
``include_validation``), and evaluates on the test images, plain and with 6-view test-time augmentation
(logits averaged). ``--widths``/``--epochs``/``--limit`` override the settings for trials; the manifest then
records the overridden values.

Writes two files into ``--out`` (default ``cnnkit/pretrained/``):

* ``cifar10_airbench.keras``: the trained model, saved as a float32 model (:func:`cnnkit.checkpoints.with_dtype`)
  so that machines without bfloat16 instructions run it at full speed;
* ``cifar10_airbench.json``: its manifest (name, file, sha256 of the .keras file, dtype, trained_by, commit,
  settings, data, data_scope, train/val/test image counts, test accuracy plain and with TTA, epochs,
  training seconds, machine). The accuracies are those of the saved float32 file, reloaded.

Existing files are never replaced unless ``--force`` is given. An interrupted run resumes from its last finished
epoch when started again with the same ``--backup`` folder.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NAME = "cifar10_airbench"


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "cnnkit" / "pretrained", help="output folder")
    parser.add_argument("--force", action="store_true", help="replace existing output files")
    parser.add_argument("--backup", type=Path, default=None,
                        help="folder for the training backup (default: the models folder's cifar10_airbench-backup)")
    parser.add_argument("--widths", type=int, nargs=3, default=None, help="override the widths (trials only)")
    parser.add_argument("--epochs", type=int, default=None, help="override the epochs (trials only)")
    parser.add_argument("--batch-size", type=int, default=None, help="override the batch size (trials only)")
    parser.add_argument("--limit", type=int, default=None, help="images per split (trials only; default all)")
    return parser.parse_args(argv)


def main(argv=None) -> dict:
    args = parse_args(argv)
    out = args.out
    targets = [out / f"{NAME}.keras", out / f"{NAME}.json"]
    existing = [str(p) for p in targets if p.exists()]
    if existing and not args.force:
        sys.exit(f"refusing to overwrite {', '.join(existing)}; pass --force to replace")

    import numpy as np

    import cnnkit
    from cnnkit import checkpoints, data, training
    from cnnkit.runner import _git_commit

    settings = training.airbench_settings(quick=False)
    for key, value in (("widths", args.widths), ("epochs", args.epochs), ("batch_size", args.batch_size)):
        if value is not None:
            settings[key] = tuple(value) if key == "widths" else value
    device = training.device_settings(quick=False)
    seed = cnnkit.set_seed(settings["seed"])
    info = cnnkit.env_report()

    (x_all, y_all), (x_test, y_test) = data.load_cifar10(limit=args.limit)
    provenance = data.cifar10_provenance()
    train_idx, val_idx = data.split_indices(y_all, settings["val_fraction"], seed=seed)
    x_train, y_train, x_val, y_val = x_all[train_idx], y_all[train_idx], x_all[val_idx], y_all[val_idx]
    momentum = settings["momentum"]
    peak_lr = training.airbench_peak_lr(momentum)
    weight_decay = training.airbench_weight_decay(momentum, peak_lr)
    backup = args.backup or checkpoints.models_dir() / f"{NAME}-backup"
    print(f"training on {len(x_train) + (len(x_val) if settings['include_validation'] else 0):,} images, "
          f"{settings['epochs']} epochs, widths {settings['widths']}, {device}; backup in {backup}", flush=True)
    run = training.train_airbench(
        x_train, y_train, widths=settings["widths"], epochs=settings["epochs"], batch_size=settings["batch_size"],
        peak_lr=peak_lr, momentum=momentum, weight_decay=weight_decay, label_smoothing=settings["label_smoothing"],
        whiten_images=settings["whiten_images"], whiten_bias_epochs=settings["whiten_bias_epochs"],
        validation_data=(x_val, y_val), include_validation=settings["include_validation"], backup=backup,
        seed=seed, verbose=2, **device)

    out.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{NAME}.", suffix=".keras", dir=out)
    os.close(fd)
    try:
        checkpoints.with_dtype(run.model, "float32").save(tmp)
        import keras

        shipped = keras.models.load_model(tmp)  # evaluate what is shipped: the float32 file
        plain = training.predict_tta(shipped, x_test, level=0, output="logits").argmax(axis=1)
        tta = training.predict_tta(shipped, x_test, level=2, output="logits").argmax(axis=1)
        digest = checkpoints.file_sha256(Path(tmp))
        if targets[0].exists() and not args.force:  # appeared while training
            sys.exit(f"refusing to overwrite {targets[0]}; pass --force to replace")
        os.replace(tmp, targets[0])
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)

    used = f"train {len(x_train):,} / val {len(x_val):,} / test {len(x_test):,}"
    if settings["include_validation"]:
        used += " (the final model trained on train + val)"
    manifest = {
        "name": NAME,
        "file": targets[0].name,
        "sha256": digest,
        "dtype": "float32",
        "trained_by": "scripts/train_course_cifar10.py",
        "commit": _git_commit(ROOT),
        "settings": {**settings, "widths": list(settings["widths"]), "peak_lr": peak_lr,
                     "weight_decay": weight_decay, **device},
        "data": f"{provenance}; used: {used}",
        "data_scope": "full" if len(x_all) == 50_000 and len(x_test) == 10_000 else "sample",
        "train_images": int(len(x_train) + (len(x_val) if settings["include_validation"] else 0)),
        "val_images": int(0 if settings["include_validation"] else len(x_val)),
        "test_images": int(len(x_test)),
        "test_accuracy": float(np.mean(plain == y_test)),
        "test_accuracy_tta": float(np.mean(tta == y_test)),
        "epochs": int(settings["epochs"]),
        "train_seconds": round(float(run.seconds), 1),
        "machine": (f"{info['cpu']} ({info['cpu_count']} cores); GPU: {', '.join(info['gpus']) or 'none'}; "
                    f"TensorFlow {info['tensorflow']}, Keras {info['keras']}; {time.strftime('%Y-%m-%d')}"),
    }
    tmp_json = targets[1].with_name(f".{targets[1].name}.tmp")
    tmp_json.write_text(json.dumps(manifest, indent=2) + "\n")
    os.replace(tmp_json, targets[1])
    print(json.dumps(manifest, indent=2))
    return manifest


if __name__ == "__main__":
    main()
