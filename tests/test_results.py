import json

import numpy as np
import pytest

import cnnkit
from cnnkit import results


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
