"""cnnkit.checkpoints: where trained models are kept; saving never overwrites; a missing model explains itself."""

import os

import keras
import numpy as np
import pytest

from cnnkit import checkpoints


@pytest.fixture
def store(tmp_path, monkeypatch):
    monkeypatch.setenv("CNNKIT_MODELS", str(tmp_path / "models"))
    return tmp_path / "models"


def _model(value):
    inputs = keras.Input((2,))
    model = keras.Model(inputs, keras.layers.Dense(1, kernel_initializer=keras.initializers.Constant(value))(inputs))
    return model


def test_models_dir_default_and_env(store, monkeypatch):
    assert checkpoints.models_dir() == store
    monkeypatch.delenv("CNNKIT_MODELS")
    from cnnkit.config import _in_checkout

    if _in_checkout():
        assert checkpoints.models_dir().name == "models"


def test_save_keeps_the_previous_file_and_load_returns_the_newest(store):
    first = checkpoints.save_model(_model(1.0), "toy")
    assert first == store / "toy.keras" and first.is_file()
    os.utime(first, (1_600_000_000, 1_600_000_000))
    second = checkpoints.save_model(_model(2.0), "toy")
    assert second == first
    kept = sorted(p.name for p in store.iterdir())
    assert len(kept) == 2 and "toy.keras" in kept and any(n.startswith("toy.2020") for n in kept)
    loaded = checkpoints.load_model("toy")
    assert float(loaded.layers[-1].kernel.numpy()[0, 0]) == 2.0
    assert not [p for p in store.iterdir() if p.name.startswith(".")]  # no temporary file left behind


def test_missing_model_says_where_and_what_to_run(store):
    with pytest.raises(checkpoints.ModelNotFoundError) as err:
        checkpoints.load_model("cifar", made_by="notebook 05")
    assert "notebook 05" in str(err.value) and str(store) in str(err.value) and "CNNKIT_MODELS" in str(err.value)


@pytest.mark.parametrize("name", ["", "a/b", "../x", "m.keras", ".hidden", None])
def test_bad_names(store, name):
    with pytest.raises(ValueError):
        checkpoints.model_path(name)


def test_a_failed_save_leaves_nothing(store):
    class Broken:
        def save(self, path):
            with open(path, "w") as fh:
                fh.write("partial")
            raise OSError("disk full")

    with pytest.raises(OSError):
        checkpoints.save_model(Broken(), "toy")
    assert list(store.iterdir()) == []
    assert np.isfinite(0.0)


def test_a_mixed_precision_model_loads_as_float32_with_the_same_weights(store):
    from cnnkit import models

    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        keras.utils.set_random_seed(0)
        half = models.airbench(widths=(8, 8, 8))
    finally:
        keras.mixed_precision.set_global_policy("float32")
    checkpoints.save_model(half, "half")
    assert checkpoints.load_model("half").get_layer("block1_conv1").compute_dtype == "bfloat16"
    full = checkpoints.load_model("half", dtype="float32")
    assert {layer.compute_dtype for layer in full.layers} == {"float32"}
    assert all(np.array_equal(a, b) for a, b in zip(full.get_weights(), half.get_weights()))
    x = np.random.default_rng(0).integers(0, 256, (4, 32, 32, 3)).astype("float32")
    assert full(x).dtype == "float32"
    # the same network, computed more precisely: outputs agree to bfloat16's precision
    assert np.allclose(np.asarray(full(x)), np.asarray(half(x), dtype="float32"), atol=0.05)
