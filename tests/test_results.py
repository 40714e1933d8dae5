import json
from pathlib import Path

import numpy as np
import pytest

import cnnkit
from cnnkit import results

ROOT = Path(__file__).resolve().parent.parent


def test_record_prints_and_appends_json_lines(tmp_path, monkeypatch, capsys):
    target = tmp_path / "metrics.jsonl"
    monkeypatch.setenv("CNNKIT_RESULTS", str(target))
    assert cnnkit.record("lenet", test_accuracy=np.float32(0.9123), epochs=np.int64(12), data="sample") is None
    entry = results.recorded()[-1]  # returned as None: a call ending a notebook cell echoes nothing
    assert entry == {"model": "lenet", "test_accuracy": pytest.approx(0.9123), "epochs": 12, "data": "sample"}
    assert "[recorded] lenet: test_accuracy=0.9123" in capsys.readouterr().out
    cnnkit.record("better", test_accuracy=0.95)
    lines = [json.loads(line) for line in target.read_text().splitlines()]
    assert [e["model"] for e in lines] == ["lenet", "better"]
    assert results.read_entries(target) == lines
    assert results.recorded()[-1]["model"] == "better"


def test_record_keeps_what_data_was_used(monkeypatch):
    monkeypatch.delenv("CNNKIT_RESULTS", raising=False)
    cnnkit.record("m", test_accuracy=0.5, data="PetImages sample", data_scope="sample",
                  train_images=np.int64(640), validation_images=160, test_images=200)
    entry = results.recorded()[-1]
    assert entry["data_scope"] == "sample" and entry["train_images"] == 640 and entry["test_images"] == 200


def test_record_without_runner_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.delenv("CNNKIT_RESULTS", raising=False)
    monkeypatch.chdir(tmp_path)
    cnnkit.record("m", test_accuracy=0.5)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("bad", [{"test_accuracy": 91.2}, {"auc": -0.1}, {"epochs": float("nan")},
                                 {"epochs": [1, 2]}, {"data_scope": "pack"}, {"train_images": -1},
                                 {"test_images": 2.5}, {"validation_images": True}])
def test_record_rejects_bad_values(bad):
    with pytest.raises((ValueError, TypeError)):
        cnnkit.record("m", **bad)
    with pytest.raises(ValueError):
        cnnkit.record("", test_accuracy=0.5)


def test_timer():
    import time

    with cnnkit.timer() as t:
        time.sleep(0.01)
    assert t.seconds >= 0.01
    assert results.read_entries("/nonexistent/file") == []


def test_saved_run_reads_the_latest_full_run_of_a_device(tmp_path):
    doc = {"notebook": "notebooks/06_x.ipynb", "runs": [
        {"mode": "full", "device": "cpu", "models": [{"model": "a", "test_accuracy": 0.7}]},
        {"mode": "full", "device": "gpu: NVIDIA H200", "models": [{"model": "a", "test_accuracy": 0.8}]}]}
    (tmp_path / "06_x.json").write_text(json.dumps(doc))
    assert results.saved_run("06_x", results_dir=tmp_path)["models"][0]["test_accuracy"] == 0.7
    assert results.saved_run("06_x", device="gpu", results_dir=tmp_path)["device"] == "gpu: NVIDIA H200"
    assert results.saved_run("07_missing", results_dir=tmp_path) is None
    (tmp_path / "quick").mkdir()
    with pytest.raises(ValueError, match="device"):
        results.saved_run("06_x", device="tpu", results_dir=tmp_path)


def test_saved_run_finds_the_checkout_results():
    run = results.saved_run("06_cats_vs_dogs_sigmoid")
    assert {m["model"] for m in run["models"]} == {"article_cats_dogs", "cats_dogs_cnn"}
    assert run["models"][1]["test_images"] == 200


def test_latest_run_picks_the_last_run_of_a_device_and_mode():
    doc = {"runs": [{"device": "cpu", "mode": "full", "n": 1}, {"device": "gpu: H100", "mode": "full", "n": 2},
                    {"device": "cpu", "mode": "quick", "n": 3}]}
    assert results.latest_run(doc, "cpu")["n"] == 3
    assert results.latest_run(doc, "cpu", mode="full")["n"] == 1
    assert results.latest_run(doc, "gpu")["n"] == 2
    assert results.latest_run(doc, "gpu", mode="quick") is None
    assert results.latest_run(None, "cpu") is None


def _run(mode, device, seconds, cpu="Some CPU", models=()):
    return {"mode": mode, "device": device, "wall_seconds": seconds, "models": list(models),
            "machine": {"cpu": cpu, "cpu_count": 2, "gpus": [device[5:]] if device.startswith("gpu") else []}}


def _results_dir(tmp_path):
    model = {"model": "m", "test_accuracy": 0.9, "data_scope": "sample", "train_images": 640, "test_images": 200}
    (tmp_path / "quick").mkdir(parents=True)
    (tmp_path / "06_x.json").write_text(json.dumps({"runs": [_run("full", "cpu", 1747.7, models=[model]),
                                                             _run("full", "gpu: H100", 95, models=[model])]}))
    small = dict(model, train_images=128, test_images=40)
    (tmp_path / "quick" / "06_x.json").write_text(json.dumps({"runs": [_run("quick", "cpu", 24.0, models=[small])]}))
    (tmp_path / "quick" / "01_y.json").write_text(json.dumps({"runs": [_run("quick", "cpu", 19.1)]}))
    return tmp_path


def test_timing_lines_say_mode_machine_time_and_data(tmp_path):
    times = results.timings(_results_dir(tmp_path))
    assert set(times) == {"06_x", "01_y"}
    lines = results.timing_lines("06_x", times)
    assert lines[1:] == ["  reduced mode, CPU (2 cores, Some CPU): 24 s; data: sample: 128 train / 40 test",
                         "  full settings, CPU (2 cores, Some CPU): 29 min; data: sample: 640 train / 200 test",
                         "  full settings, GPU (H100): 95 s; data: sample: 640 train / 200 test"]
    lines = results.timing_lines("01_y", times)  # a notebook that records no model, never run at full settings
    assert lines[1:] == ["  reduced mode, CPU (2 cores, Some CPU): 19 s",
                         "  full settings, CPU: not measured yet", "  full settings, GPU: not measured yet"]
    assert results.timing_lines("09_unknown", times)[1:4] == [
        "  reduced mode, CPU: not measured yet", "  full settings, CPU: not measured yet",
        "  full settings, GPU: not measured yet"]


def test_timings_show_each_different_data_once(tmp_path):
    a = {"model": "a", "data_scope": "sample", "train_images": 640, "test_images": 200}
    b = {"model": "b", "data_scope": "full", "train_images": 4000, "test_images": 2487}
    (tmp_path / "07_z.json").write_text(json.dumps({"runs": [_run("full", "cpu", 600, models=[a, dict(a, model="c"), b])]}))
    assert results.timings(tmp_path)["07_z"]["full_cpu"]["data"] == (
        "a, c: sample: 640 train / 200 test; b: full dataset: 4,000 train / 2,487 test")  # which model used which


def test_shipped_times_agree_with_results():
    """cnnkit/recorded_times.json (what a Colab learner sees) is results/ as `python -m cnnkit syllabus` writes it."""
    from cnnkit import runner

    assert runner.update_timings(ROOT / "results", check=True) is False, (
        "cnnkit/recorded_times.json is out of date: run  python -m cnnkit syllabus")
    assert json.loads(results.TIMINGS_FILE.read_text()) == results.timings(ROOT / "results")


def test_show_timings_without_a_checkout_reads_the_shipped_file(monkeypatch, capsys):
    from cnnkit import config

    results.show_timings("05_cifar10_augmentation")
    in_checkout = capsys.readouterr().out
    monkeypatch.setattr(config, "_in_checkout", lambda: False)
    results.show_timings("05_cifar10_augmentation")
    assert capsys.readouterr().out == in_checkout
    assert "reduced mode, CPU (2 cores" in in_checkout
    monkeypatch.setattr(results, "TIMINGS_FILE", ROOT / "no-such-file.json")  # an install without the file
    results.show_timings("05_cifar10_augmentation")
    assert "reduced mode, CPU: not measured yet" in capsys.readouterr().out


def test_update_timings_writes_and_checks(tmp_path):
    from cnnkit import runner

    target = tmp_path / "times.json"
    source = _results_dir(tmp_path / "results")
    assert runner.update_timings(source, target, check=True) is True and not target.exists()
    assert runner.update_timings(source, target) is True
    assert json.loads(target.read_text()) == results.timings(source)
    assert runner.update_timings(source, target) is False


def test_the_shipped_times_are_package_data():
    try:
        import tomllib
    except ImportError:  # Python 3.10
        import tomli as tomllib
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert results.TIMINGS_FILE.name in config["tool"]["setuptools"]["package-data"]["cnnkit"]


def test_setup_cells_show_their_own_notebooks_times():
    """Each notebook says up front how long it takes: its Setup cell ends with show_timings(<its own stem>)."""
    import nbformat

    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        setup = next(c.source for c in nb.cells if c.cell_type == "code" and "google.colab" in c.source)
        assert setup.splitlines()[-1] == f'cnnkit.results.show_timings("{path.stem}")', path.name
        assert path.stem in results.timings(ROOT / "results"), f"{path.stem} has no recorded times in results/"
