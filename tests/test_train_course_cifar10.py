"""scripts/train_course_cifar10.py: the course's ready-trained CIFAR-10 network and its manifest (issue 24, item 2),
run at tiny sizes into a temporary folder."""

import hashlib
import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "train_course_cifar10.py"
KEYS = {"name", "file", "sha256", "dtype", "trained_by", "commit", "settings", "data", "data_scope", "train_images",
        "val_images", "test_images", "test_accuracy", "test_accuracy_tta", "epochs", "train_seconds", "machine"}


def _script():
    spec = importlib.util.spec_from_file_location("train_course_cifar10", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_train_course_cifar10_writes_a_float32_model_and_its_manifest(tmp_path, monkeypatch):
    import keras

    from cnnkit import training

    monkeypatch.setenv("CNNKIT_MODELS", str(tmp_path / "models"))
    script = _script()
    out = tmp_path / "pretrained"
    trial = ["--out", str(out), "--widths", "8", "8", "8", "--epochs", "1", "--batch-size", "50", "--limit", "200"]
    manifest = script.main(trial)
    model_file, manifest_file = out / "cifar10_airbench.keras", out / "cifar10_airbench.json"
    assert json.loads(manifest_file.read_text()) == manifest and set(manifest) == KEYS
    assert manifest["sha256"] == hashlib.sha256(model_file.read_bytes()).hexdigest()
    assert manifest["file"] == "cifar10_airbench.keras" and manifest["dtype"] == "float32"
    assert manifest["trained_by"] == "scripts/train_course_cifar10.py" and manifest["data_scope"] == "sample"
    assert manifest["train_images"] + manifest["val_images"] == 200 and manifest["test_images"] == 200
    assert 0 <= manifest["test_accuracy"] <= 1 and 0 <= manifest["test_accuracy_tta"] <= 1
    full = training.airbench_settings(quick=False)
    expected = {**full, "widths": [8, 8, 8], "epochs": 1, "batch_size": 50}
    assert {k: manifest["settings"][k] for k in full} == expected  # notebook 05's settings, overrides recorded
    model = keras.models.load_model(model_file)
    assert {layer.dtype_policy.name for layer in model.layers} == {"float32"}
    assert sorted(p.name for p in out.iterdir()) == ["cifar10_airbench.json", "cifar10_airbench.keras"]

    before = model_file.read_bytes()
    with pytest.raises(SystemExit, match="refusing to overwrite"):
        script.main(trial)
    assert model_file.read_bytes() == before  # nothing replaced without --force
    again = script.main(trial + ["--force"])
    assert again["sha256"] == hashlib.sha256(model_file.read_bytes()).hexdigest()
    assert np.isclose(again["test_accuracy"], manifest["test_accuracy"])  # the same seed, the same network
