"""scripts/lenet_seeds.py: notebook 04's LeNet recipe, once per seed, recorded (issue #16, item 5).

The full-size run takes about 7 minutes per seed; here it runs in reduced mode, where it must reproduce the
notebook's own reduced-mode LeNet result for seed 42 (the script executes the notebook's cells)."""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "lenet_seeds.py"


def _module():
    spec = importlib.util.spec_from_file_location("lenet_seeds", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_recipe_code_is_the_notebooks_cells_with_the_seed_replaced():
    seeds = _module()
    code = seeds.recipe_code(7)
    assert "SEED = cnnkit.set_seed(7)" in code and "set_seed(42)" not in code
    positions = [code.index(f"# --- cell {cid}") for cid in seeds.RECIPE]
    assert positions == sorted(positions)  # in the notebook's order
    compile(code, "recipe", "exec")  # the Colab-only `!pip` line has become Python
    for name in ("lenet.fit(", "lenet_acc =", "lenet_f1 =", "data.split_indices("):
        assert name in code


def test_recipe_code_names_a_missing_cell(tmp_path, monkeypatch):
    seeds = _module()
    monkeypatch.setitem(seeds.RECIPE, "04-lenet-fashion-mni-999", "a cell that is not there")
    with pytest.raises(SystemExit, match="04-lenet-fashion-mni-999"):
        seeds.recipe_code(1)


def test_summary():
    seeds = _module()
    s = seeds.summary([0.91, 0.915, 0.905])
    assert s["seeds"] == 3 and abs(s["mean"] - 0.91) < 1e-12 and abs(s["std"] - 0.005) < 1e-12
    assert (s["min"], s["max"]) == (0.905, 0.915)
    assert seeds.summary([0.9])["std"] is None
    with pytest.raises(ValueError):
        seeds.summary([])


def test_reduced_mode_run_records_each_seed(lenet_seeds_quick):
    doc = lenet_seeds_quick
    assert doc["mode"] == "quick" and doc["data_scope"] == "sample"
    assert [r["seed"] for r in doc["runs"]] == [42, 7]
    assert doc["summary"]["seeds"] == 2 and doc["article_test_accuracy"] == 0.9067
    assert doc["summary"]["min"] == min(r["test_accuracy"] for r in doc["runs"])
    assert "7,200 train / 800 validation" in doc["data"] and doc["command"].endswith("--seeds 42 7")
    for r in doc["runs"]:
        assert 0.1 < r["test_accuracy"] <= 1 and 1 <= r["best_epoch"] <= r["epochs"]
        assert (r["train_images"], r["validation_images"], r["test_images"]) == (7200, 800, 2000)
    # seed 42 against notebook 04 itself: tests/test_determinism.py


def test_an_existing_file_is_kept_without_force(tmp_path):
    out = tmp_path / "04_lenet5.json"
    out.write_text("{}")
    run = subprocess.run([sys.executable, str(SCRIPT), "--seeds", "1", "--out", str(out)], capture_output=True,
                         text=True, timeout=300, env=dict(os.environ, CNNKIT_QUICK="1"))
    assert run.returncode != 0 and "--force" in run.stderr
    assert out.read_text() == "{}"
