"""The seed-to-seed spread of notebook 04's LeNet recipe: its test accuracy with several seeds, recorded.

    python scripts/lenet_seeds.py                      # seeds 42, 1, 2 at full size -> results/seeds/04_lenet5.json
    python scripts/lenet_seeds.py --seeds 42 1 2 3 4   # more seeds
    CNNKIT_QUICK=1 python scripts/lenet_seeds.py --out local-results/seeds/04_lenet5.json   # a reduced-mode trial

Notebook 04 trains the LeNet article's network once, with ``SEED = cnnkit.set_seed(42)``, and the article
reports one run too; one run each cannot say which recipe is better unless the difference is larger than
what the seed alone changes. This script measures that: for each seed it runs **the notebook's own code
cells** (setup, sizes, data, split, pipeline, model, training, test evaluation; listed in ``RECIPE``) with
the seed in place of 42, each seed in a fresh Python process, as a notebook kernel would. The seed sets
what ``SEED`` sets in the notebook: the initial weights (``cnnkit.set_seed``), the validation split and
the order of the training batches. Seed 42 is the notebook's own run, so on the same machine and software
it repeats the notebook's recorded LeNet result.

The output file (JSON) holds, per seed, the test accuracy, macro-F1, epochs, best epoch and training time,
and the data used, the mode (full or reduced), the machine, the commit and a summary (mean, sample standard
deviation, range). Notebook 04 reads it in section 7. At full size each seed trains for about 7 minutes on
a 2-core CPU. An existing output file is replaced only with ``--force``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "notebooks" / "04_lenet_fashion_mnist.ipynb"
DEFAULT_OUT = ROOT / "results" / "seeds" / "04_lenet5.json"
DEFAULT_SEEDS = (42, 1, 2)
ARTICLE_TEST_ACCURACY = 0.9067  # the LeNet article's one reported run (30 epochs, all 60,000 training images)
SEED_LINE = "SEED = cnnkit.set_seed(42)"
RECIPE = {  # the notebook's cells that make up the LeNet recipe, by cell id, in order
    "04-lenet-fashion-mni-002": "setup: imports, seed",
    "04-lenet-fashion-mni-004": "sizes",
    "04-lenet-fashion-mni-007": "load Fashion-MNIST",
    "04-lenet-fashion-mni-016": "validation split",
    "04-lenet-fashion-mni-018": "training and validation pipelines",
    "04-lenet-fashion-mni-020": "the parameter count by hand (the next cell checks the model against it)",
    "04-lenet-fashion-mni-021": "the article's network (lenet5)",
    "04-lenet-fashion-mni-038": "compile and fit, early stopping, learning-rate reduction",
    "04-lenet-fashion-mni-041": "test evaluation",
}


def recipe_code(seed: int, notebook: Path = NOTEBOOK) -> str:
    """The notebook's recipe cells as one Python program, with ``seed`` in place of the notebook's 42."""
    import nbformat
    from IPython.core.inputtransformer2 import TransformerManager

    nb = nbformat.read(notebook, as_version=4)
    cells = {cell.get("id"): cell for cell in nb.cells}
    missing = [cid for cid in RECIPE if cid not in cells or cells[cid].cell_type != "code"]
    if missing:
        raise SystemExit(f"{notebook.name} has no code cell {', '.join(missing)}: update RECIPE in {__file__} "
                         "to the notebook's LeNet cells")
    setup = cells["04-lenet-fashion-mni-002"].source
    if setup.count(SEED_LINE) != 1:
        raise SystemExit(f"{notebook.name}'s setup cell no longer contains {SEED_LINE!r} once; update SEED_LINE")
    transform = TransformerManager().transform_cell  # turns the Colab-only `!pip` line into Python
    parts = []
    for cid in RECIPE:
        source = cells[cid].source
        if cid == "04-lenet-fashion-mni-002":
            source = source.replace(SEED_LINE, f"SEED = cnnkit.set_seed({seed})")
        parts.append(f"# --- cell {cid}: {RECIPE[cid]}\n{transform(source)}")
    return "\n".join(parts)


def run_child(seed: int, result_file: Path) -> None:
    """Run the recipe for one seed in this process and write its numbers to ``result_file``."""
    namespace: dict = {"__name__": "__lenet_seed__"}
    os.chdir(NOTEBOOK.parent)  # where a notebook kernel runs
    exec(compile(recipe_code(seed), f"<{NOTEBOOK.name}, seed {seed}>", "exec"), namespace)
    ns = namespace
    result = {
        "seed": seed,
        "test_accuracy": float(ns["lenet_acc"]),
        "macro_f1": float(ns["lenet_f1"]),
        "epochs": int(ns["lenet_epochs"]),
        "best_epoch": int(ns["lenet_best"]),
        "train_seconds": round(float(ns["lenet_time"].seconds), 1),
        "train_images": len(ns["x_tr"]),
        "validation_images": len(ns["x_val"]),
        "test_images": len(ns["x_te"]),
    }
    result_file.write_text(json.dumps(result))


def summary(accuracies) -> dict:
    """Mean, sample standard deviation (n - 1 in the denominator), lowest and highest of the accuracies."""
    import numpy as np

    acc = np.asarray(accuracies, dtype=float)
    if acc.size == 0:
        raise ValueError("no accuracies to summarise")
    return {"seeds": int(acc.size), "mean": float(acc.mean()),
            "std": float(acc.std(ddof=1)) if acc.size > 1 else None,
            "min": float(acc.min()), "max": float(acc.max())}


def run(seeds, out: Path, force: bool = False) -> dict:
    """Train the recipe once per seed, each in a fresh process, and write the results file ``out``."""
    sys.path.insert(0, str(ROOT))
    from cnnkit.config import env_info, is_quick, pin_data_root
    from cnnkit.runner import _git_commit

    if len(set(seeds)) != len(seeds) or any(s < 0 for s in seeds):
        raise SystemExit(f"seeds must be distinct non-negative integers, got {list(seeds)}")
    if out.exists() and not force:
        raise SystemExit(f"{out} exists already; pass --force to replace it")
    pin_data_root()
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONPATH=os.pathsep.join(
        [str(ROOT)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]))
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in seeds:
            result_file = Path(tmp) / f"seed{seed}.json"
            print(f"seed {seed}: training ({'reduced mode' if is_quick() else 'full size'}) ...", flush=True)
            start = time.perf_counter()
            child = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child", str(seed),
                                    "--result-file", str(result_file)], env=env, capture_output=True, text=True)
            if child.returncode != 0 or not result_file.exists():
                tail = "\n".join((child.stdout + child.stderr).strip().splitlines()[-15:])
                raise SystemExit(f"seed {seed} failed (exit code {child.returncode}):\n{tail}")
            runs.append(json.loads(result_file.read_text()))
            print(f"seed {seed}: test accuracy {runs[-1]['test_accuracy']:.4f} after {runs[-1]['epochs']} epochs "
                  f"({time.perf_counter() - start:.0f} s)", flush=True)
    info = env_info()
    first = runs[0]
    doc = {
        "what": "Test accuracy of notebook 04's LeNet recipe (the LeNet article's network, Adam, batches of 32, "
                "ReduceLROnPlateau, early stopping on the validation loss), once per seed",
        "notebook": "notebooks/04_lenet_fashion_mnist.ipynb",
        "cells": RECIPE,
        "seed_sets": "SEED in the notebook: the initial weights (cnnkit.set_seed), the validation split and the "
                     "order of the training batches",
        "command": "python scripts/lenet_seeds.py --seeds " + " ".join(str(s) for s in seeds),
        "mode": info["mode"],
        "data": (f"Fashion-MNIST{' (reduced mode)' if is_quick() else ''}: {first['train_images']:,} train / "
                 f"{first['validation_images']:,} validation (from train) / {first['test_images']:,} test"),
        "data_scope": "sample" if is_quick() else "full",
        "commit": _git_commit(ROOT),
        "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": {k: info[k] for k in ("cpu", "cpu_count", "gpus", "platform", "python", "tensorflow", "keras",
                                         "cnnkit", "data_root")},
        "article_test_accuracy": ARTICLE_TEST_ACCURACY,
        "runs": runs,
        "summary": summary([r["test_accuracy"] for r in runs]),
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(doc, indent=2) + "\n")
    s = doc["summary"]
    spread = f", standard deviation {s['std']:.4f}" if s["std"] is not None else ""
    print(f"wrote {out}: {s['seeds']} seeds, test accuracy {s['min']:.4f} to {s['max']:.4f}, mean {s['mean']:.4f}"
          f"{spread}")
    return doc


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=list(DEFAULT_SEEDS), help="default: 42 1 2")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"default: {DEFAULT_OUT.relative_to(ROOT)}")
    parser.add_argument("--force", action="store_true", help="replace an existing output file")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)  # internal: run one seed in this process
    parser.add_argument("--result-file", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child is not None:
        run_child(args.child, args.result_file)
        return 0
    run(args.seeds, args.out, force=args.force)
    return 0


if __name__ == "__main__":
    sys.exit(main())
