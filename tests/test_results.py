import json

import numpy as np
import pytest

import cnnkit
from cnnkit import results


def test_record_prints_and_appends_json_lines(tmp_path, monkeypatch, capsys):
    target = tmp_path / "metrics.jsonl"
    monkeypatch.setenv("CNNKIT_RESULTS", str(target))
    entry = cnnkit.record("lenet", test_accuracy=np.float32(0.9123), epochs=np.int64(12), data="sample")
    assert entry == {"model": "lenet", "test_accuracy": pytest.approx(0.9123), "epochs": 12, "data": "sample"}
    assert "[recorded] lenet: test_accuracy=0.9123" in capsys.readouterr().out
    cnnkit.record("better", test_accuracy=0.95)
    lines = [json.loads(line) for line in target.read_text().splitlines()]
    assert [e["model"] for e in lines] == ["lenet", "better"]
    assert results.read_entries(target) == lines
    assert results.recorded()[-1]["model"] == "better"


def test_record_keeps_what_data_was_used(monkeypatch):
    monkeypatch.delenv("CNNKIT_RESULTS", raising=False)
    entry = cnnkit.record("m", test_accuracy=0.5, data="PetImages sample", data_scope="sample",
                          train_images=np.int64(640), validation_images=160, test_images=200)
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
