"""run-full writes results files; the README's syllabus table agrees with them."""

import json
import os
import shutil
from pathlib import Path

import nbformat
import pytest

from cnnkit import cli, runner

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
    with pytest.raises(runner.NotebookFailed, match="boom") as err:
        runner.run_notebook(nb_path, results_dir=tmp_path / "results", quick=True, executed_dir=tmp_path)
    message = str(err.value)
    assert "\n" not in message and "RuntimeError: boom" in message and "In [2]" in message
    assert str(tmp_path / "05_bad.executed.ipynb") in message
    executed = nbformat.read(tmp_path / "05_bad.executed.ipynb", as_version=4)
    assert executed.cells[1].outputs[0]["ename"] == "RuntimeError"
    assert not (tmp_path / "results" / "quick" / "05_bad.json").exists()
    # without --executed, a failed run still keeps its executed notebook, in a temporary folder it names
    with pytest.raises(runner.NotebookFailed) as err:
        runner.run_notebook(nb_path, results_dir=tmp_path / "results", quick=True)
    kept = Path(str(err.value).rsplit(" is ", 1)[1])
    assert kept.name == "05_bad.executed.ipynb" and not kept.is_relative_to(tmp_path)
    assert nbformat.read(kept, as_version=4).cells[1].outputs[0]["ename"] == "RuntimeError"
    shutil.rmtree(kept.parent)  # the test's own litter; a user's stays until they delete it


def test_run_full_kernel_is_quiet(tmp_path, capfd):
    nb = tiny_notebook(tmp_path / "04_toy.ipynb")
    nb_obj = nbformat.read(nb, as_version=4)
    nb_obj.cells.insert(0, nbformat.v4.new_code_cell("import os, tensorflow\nos.write(2, b'a real warning\\n')"))
    nbformat.write(nb_obj, nb)
    runner.run_notebook(nb, results_dir=tmp_path / "results", quick=True)
    err = capfd.readouterr().err
    if os.name == "posix":  # local sockets instead of TCP: ipykernel has nothing to warn about
        assert "without encryption" not in err, err
    assert "oneDNN custom operations" not in err and "absl::InitializeLog" not in err, err
    assert "a real warning" in err  # everything else the kernel writes to stderr still shows
    assert list(tmp_path.glob("kernel*")) == [] and list(Path.cwd().glob("kernel-*")) == []


def test_run_full_quick_leaves_git_status_clean(tmp_path, monkeypatch):
    """A learner's `run-full --quick` in a checkout writes only where git does not look."""
    import subprocess

    repo = tmp_path / "course"
    (repo / "notebooks").mkdir(parents=True)
    (repo / "results" / "quick").mkdir(parents=True)
    shutil.copy(ROOT / ".gitignore", repo / ".gitignore")
    tiny_notebook(repo / "notebooks" / "04_toy.ipynb")
    (repo / "results" / "quick" / "04_toy.json").write_text('{"runs": []}\n')  # a tracked, measured result

    def git(*args):
        return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=True).stdout

    git("init", "-q")
    git("add", "-A")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "course")
    monkeypatch.chdir(repo)
    assert cli.main(["run-full", "--quick", "notebooks/04_toy.ipynb"]) == 0
    assert git("status", "--porcelain") == ""
    written = json.loads((repo / "local-results" / "quick" / "04_toy.json").read_text())
    assert written["runs"][0]["models"][0]["test_accuracy"] == 0.5
    assert (repo / "results" / "quick" / "04_toy.json").read_text() == '{"runs": []}\n'


def test_syllabus_table_from_results(tmp_path):
    (tmp_path / "quick").mkdir()
    lenet = {"model": "lenet", "test_accuracy": 0.9123, "epochs": 12, "train_seconds": 300, "data_scope": "full",
             "train_images": 54000, "validation_images": 6000, "test_images": 10000}
    run = {"mode": "full", "device": "cpu", "wall_seconds": 600, "machine": {"cpu": "X", "cpu_count": 2},
           "models": [lenet]}
    gpu = dict(run, device="gpu: H100", wall_seconds=60)
    (tmp_path / "04_lenet_fashion_mnist.json").write_text(json.dumps({"runs": [run, gpu]}))
    table = runner.syllabus_table(tmp_path)
    row = next(line for line in table.splitlines() if "04_lenet" in line)
    assert ("| 10 min | 60 s (H100) | full dataset: 54,000 train / 6,000 val / 10,000 test | "
            "lenet: 91.2% test acc, 12 ep, train 5 min |") in row
    assert "X (2 cores)" in table
    blood = dict(run, models=[{"model": "seed", "test_accuracy": 0.5, "test_simple_accuracy": 0.25,
                               "macro_f1": 0.4567, "epochs": 3, "data_scope": "sample", "test_simple_images": 71,
                               "test_images": 2487, "train_images": 2877, "validation_images": 803}])
    (tmp_path / "03_blood_cells.json").write_text(json.dumps({"runs": [blood]}))
    row = next(line for line in runner.syllabus_table(tmp_path).splitlines() if "03_blood" in line)
    assert ("| sample: 2,877 train / 803 val / 2,487 test / 71 TEST_SIMPLE | "
            "seed: 50.0% test acc, 25.0% TEST_SIMPLE acc, macro-F1 0.457, 3 ep |") in row
    # a model evaluated with test-time augmentation shows both figures
    fast = dict(run, models=[{"model": "airbench", "test_accuracy": 0.912, "test_accuracy_without_tta": 0.905,
                              "epochs": 10, "train_seconds": 1260}])
    (tmp_path / "05_cifar10_augmentation.json").write_text(json.dumps({"runs": [fast]}))
    row = next(line for line in runner.syllabus_table(tmp_path).splitlines() if "05_cifar" in line)
    assert "| airbench: 91.2% test acc, 90.5% without TTA, 10 ep, train 21 min |" in row
    # a notebook measured only on a GPU shows the GPU run's results and data, marked as such
    (tmp_path / "05_cifar10_augmentation.json").write_text(json.dumps({"runs": [gpu]}))
    row = next(line for line in runner.syllabus_table(tmp_path).splitlines() if "05_cifar" in line)
    assert "| not measured | 60 s (H100) | full dataset: 54,000 train / 6,000 val / 10,000 test | GPU: lenet:" in row
    # a row for every notebook SYLLABUS names: nothing here is specific to one notebook
    assert len(table.splitlines()) >= 2 + len(runner.SYLLABUS)


def test_data_label():
    assert runner.data_label({"data_scope": "sample", "test_images": 200, "train_images": 640}) == \
        "sample: 640 train / 200 test"
    assert runner.data_label({"data_scope": "full"}) == "full dataset"
    # the splits in their natural order, whichever spelling of validation a notebook records
    assert runner.data_label({"data_scope": "full", "test_images": 10, "val_images": 5, "train_images": 45}) == \
        "full dataset: 45 train / 5 val / 10 test"
    # models differ: one label each; an unlabelled entry shows its free text, marked as such
    run = {"models": [{"model": "a", "data_scope": "full", "test_images": 10},
                      {"model": "b", "data": "PetImages, 1,000 used"}]}
    assert runner._data_cell(run) == "a: full dataset: 10 test; b: not labelled; recorded as: PetImages, 1,000 used"
    with pytest.raises(ValueError, match="data_scope"):
        runner.data_label({"model": "x", "data_scope": "most of it"})


def test_committed_results_say_what_data_they_used():
    from cnnkit.results import DATA_SCOPES

    files = sorted((ROOT / "results").glob("*.json")) + sorted((ROOT / "results" / "repeat").glob("*.json"))
    checked = 0
    for path in files:
        for run in json.loads(path.read_text())["runs"]:
            for m in run["models"]:
                where = f"{path.name}: {m['model']}"
                assert m.get("data_scope") in DATA_SCOPES, f"{where} does not say whether its data was full or a sample"
                # a model trained elsewhere and only evaluated here (07 loads 03's) names its origin instead
                loaded = bool(m.get("model_origin")) and m.get("train_seconds") is None
                assert isinstance(m.get("train_images"), int) or loaded, f"{where}: how many training images?"
                assert isinstance(m.get("test_images"), int), where
                if "sample" in m.get("data", "").lower():  # the free text and the label agree
                    assert m["data_scope"] == "sample", where
                checked += 1
    assert checked >= 6


def test_readme_table_matches_results():
    assert runner.update_readme(ROOT / "README.md", ROOT / "results", check=True) is False, (
        "README syllabus table is out of date: run  python -m cnnkit syllabus")


def test_update_readme_needs_markers(tmp_path):
    (tmp_path / "R.md").write_text("no markers")
    with pytest.raises(ValueError):
        runner.update_readme(tmp_path / "R.md", tmp_path)
