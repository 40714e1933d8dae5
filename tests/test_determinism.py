"""Issue: on a CPU, running a training notebook twice in reduced mode with the same seed gives the same metrics;
and scripts/lenet_seeds.py, which runs notebook 04's LeNet cells, gives the notebook's LeNet metrics for seed 42."""

from pathlib import Path

import pytest

from cnnkit import runner

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "notebooks" / "04_lenet_fashion_mnist.ipynb"


@pytest.mark.skipif(not NOTEBOOK.exists(), reason="notebook 04 not present")
def test_notebook_04_twice_gives_the_same_metrics(tmp_path, pack, lenet_seeds_quick):
    import json

    runs = []
    for i in range(2):
        path = runner.run_notebook(NOTEBOOK, results_dir=tmp_path / str(i), quick=True, timeout=600)
        models = json.loads(path.read_text())["runs"][0]["models"]
        runs.append([{k: v for k, v in m.items() if k != "train_seconds"} for m in models])
    assert runs[0], "the notebook recorded no metrics"
    assert runs[0] == runs[1]
    # scripts/lenet_seeds.py runs the notebook's LeNet cells; with the notebook's seed, 42, it repeats its result
    lenet = next(m for m in runs[0] if m["model"] == "lenet5")
    seed42 = next(r for r in lenet_seeds_quick["runs"] if r["seed"] == 42)
    assert (seed42["test_accuracy"], seed42["macro_f1"], seed42["epochs"]) == (
        lenet["test_accuracy"], lenet["macro_f1"], lenet["epochs"])
