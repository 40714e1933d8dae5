"""run-full writes results files; the README's syllabus table agrees with them."""

import json
import os
from pathlib import Path

import nbformat
import pytest

from cnnkit import runner

ROOT = Path(__file__).resolve().parent.parent


def tiny_notebook(path):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "import cnnkit\ncnnkit.record('toy', test_accuracy=0.5 if cnnkit.is_quick() else 0.75, epochs=2)")])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


def test_run_full_and_quick_never_overwrite_each_other(tmp_path):
    nb = tiny_notebook(tmp_path / "04_toy.ipynb")
    full = runner.run_notebook(nb, results_dir=tmp_path / "results")
    quick = runner.run_notebook(nb, results_dir=tmp_path / "results", quick=True)
    assert full == tmp_path / "results" / "04_toy.json" and quick == tmp_path / "results" / "quick" / "04_toy.json"
    doc = json.loads(full.read_text())
    (run,) = doc["runs"]
    assert run["mode"] == "full" and run["device"] == "cpu" and run["models"][0]["test_accuracy"] == 0.75
    assert {"cpu", "cpu_count", "gpus", "tensorflow"} <= set(run["machine"])
    assert run["load_average_1min_at_end"] >= 0 and "commit" in run
    assert json.loads(quick.read_text())["runs"][0]["models"][0]["test_accuracy"] == 0.5
    runner.run_notebook(nb, results_dir=tmp_path / "results")  # a second CPU run replaces the first
    assert len(json.loads(full.read_text())["runs"]) == 1


def test_run_full_pins_a_relative_data_root_for_the_kernel(tmp_path, monkeypatch):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "import os, cnnkit\ncnnkit.record('toy', data=str(cnnkit.data_root()))")])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    (tmp_path / "notebooks").mkdir()
    nbformat.write(nb, tmp_path / "notebooks" / "04_toy.ipynb")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CNNKIT_DATA", "pack")  # relative to tmp_path; the kernel works in notebooks/
    out = runner.run_notebook(Path("notebooks/04_toy.ipynb"), results_dir=tmp_path / "results", quick=True)
    assert json.loads(out.read_text())["runs"][0]["models"][0]["data"] == str(tmp_path / "pack")
    assert os.environ["CNNKIT_DATA"] == "pack"  # the caller's environment is restored afterwards


def test_run_full_can_keep_the_executed_notebook(tmp_path):
    nb = tiny_notebook(tmp_path / "04_toy.ipynb")
    runner.run_notebook(nb, results_dir=tmp_path / "results", quick=True, executed_dir=tmp_path / "out")
    executed = nbformat.read(tmp_path / "out" / "04_toy.executed.ipynb", as_version=4)
    assert "toy" in executed.cells[0].outputs[0]["text"]  # record() prints what it recorded
    with pytest.raises(FileExistsError, match="never overwrites"):
        runner.run_notebook(nb, results_dir=tmp_path / "results", quick=True, executed_dir=tmp_path / "out")
    assert nbformat.read(tmp_path / "out" / "04_toy.executed.ipynb", as_version=4) == executed


def test_run_full_keeps_the_executed_notebook_of_a_failed_run(tmp_path):
    nb_path = tiny_notebook(tmp_path / "05_bad.ipynb")
    nb = nbformat.read(nb_path, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell("raise RuntimeError('boom')"))
    nbformat.write(nb, nb_path)
    with pytest.raises(Exception, match="boom"):
        runner.run_notebook(nb_path, results_dir=tmp_path / "results", quick=True, executed_dir=tmp_path)
    executed = nbformat.read(tmp_path / "05_bad.executed.ipynb", as_version=4)
    assert executed.cells[1].outputs[0]["ename"] == "RuntimeError"
    assert not (tmp_path / "results" / "quick" / "05_bad.json").exists()


def test_syllabus_table_from_results(tmp_path):
    (tmp_path / "quick").mkdir()
    run = {"mode": "full", "device": "cpu", "wall_seconds": 600, "machine": {"cpu": "X", "cpu_count": 2},
           "models": [{"model": "lenet", "test_accuracy": 0.9123, "epochs": 12, "train_seconds": 300}]}
    gpu = dict(run, device="gpu: H100", wall_seconds=60)
    (tmp_path / "04_lenet_fashion_mnist.json").write_text(json.dumps({"runs": [run, gpu]}))
    table = runner.syllabus_table(tmp_path)
    row = next(line for line in table.splitlines() if "04_lenet" in line)
    assert "| 10 min | 60 s (H100) | lenet: 91.2% test acc, 12 ep, train 5 min |" in row
    assert "X (2 cores)" in table
    blood = dict(run, models=[{"model": "seed", "test_accuracy": 0.5, "test_simple_accuracy": 0.25,
                               "macro_f1": 0.4567, "epochs": 3}])
    (tmp_path / "03_blood_cells.json").write_text(json.dumps({"runs": [blood]}))
    row = next(line for line in runner.syllabus_table(tmp_path).splitlines() if "03_blood" in line)
    assert "| seed: 50.0% test acc, 25.0% TEST_SIMPLE acc, macro-F1 0.457, 3 ep |" in row
    # a notebook measured only on a GPU shows the GPU run's results, marked as such
    (tmp_path / "05_cifar10_augmentation.json").write_text(json.dumps({"runs": [gpu]}))
    row = next(line for line in runner.syllabus_table(tmp_path).splitlines() if "05_cifar" in line)
    assert "| not measured | 60 s (H100) | GPU: lenet: 91.2% test acc, 12 ep, train 5 min |" in row


def test_readme_table_matches_results():
    assert runner.update_readme(ROOT / "README.md", ROOT / "results", check=True) is False, (
        "README syllabus table is out of date: run  python -m cnnkit syllabus")


def test_update_readme_needs_markers(tmp_path):
    (tmp_path / "R.md").write_text("no markers")
    with pytest.raises(ValueError):
        runner.update_readme(tmp_path / "R.md", tmp_path)
