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


# --- the course's shipped networks: checksum, manifest, precedence of the learner's own model ---------------

def _ship(folder, model, name="toy_net", **changes):
    """Save ``model`` into ``folder`` as the course would ship it: NAME.keras and a manifest with its SHA-256."""
    import json

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.keras"
    model.save(path)
    manifest = {key: None for key in checkpoints.MANIFEST_KEYS}
    manifest.update(name=name, file=path.name, sha256=checkpoints.file_sha256(path), dtype="float32",
                    trained_by="tests", test_accuracy=0.5, train_images=8, test_images=4, data="toy")
    manifest.update(changes)
    (folder / f"{name}.json").write_text(json.dumps(manifest))
    return path, manifest


def test_load_pretrained_checks_the_file_and_returns_model_and_manifest(tmp_path):
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        half = _model(3.0)
    finally:
        keras.mixed_precision.set_global_policy("float32")
    path, manifest = _ship(tmp_path / "shipped", half)
    model, got = checkpoints.load_pretrained("toy_net", folder=tmp_path / "shipped")
    assert got == manifest and got["test_accuracy"] == 0.5
    assert {layer.compute_dtype for layer in model.layers} == {"float32"}  # loaded in float32
    assert float(model.layers[-1].kernel.numpy()[0, 0]) == 3.0
    assert model(np.ones((1, 2), "float32")).dtype == "float32"


def test_a_changed_or_truncated_file_gives_one_clear_message(tmp_path):
    path, _ = _ship(tmp_path, _model(1.0))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])  # a download that stopped half-way
    with pytest.raises(checkpoints.PretrainedError, match="not the file its manifest describes") as err:
        checkpoints.load_pretrained("toy_net", folder=tmp_path)
    assert str(path) in str(err.value) and "reinstall" in str(err.value)
    path.write_bytes(b"version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 123\n")
    with pytest.raises(checkpoints.PretrainedError, match="git lfs pull"):
        checkpoints.load_pretrained("toy_net", folder=tmp_path)


def test_a_missing_file_or_manifest_says_so(tmp_path):
    with pytest.raises(checkpoints.ModelNotFoundError, match="no manifest toy_net.json"):
        checkpoints.load_pretrained("toy_net", folder=tmp_path)
    path, _ = _ship(tmp_path, _model(1.0))
    path.unlink()
    with pytest.raises(checkpoints.ModelNotFoundError, match="its file 'toy_net.keras' is missing"):
        checkpoints.load_pretrained("toy_net", folder=tmp_path)


def test_a_broken_manifest_says_so(tmp_path):
    _ship(tmp_path, _model(1.0))
    (tmp_path / "toy_net.json").write_text("{not json")
    with pytest.raises(checkpoints.PretrainedError, match="cannot be read"):
        checkpoints.load_pretrained("toy_net", folder=tmp_path)
    (tmp_path / "toy_net.json").write_text('{"name": "toy_net", "file": "toy_net.keras"}')
    with pytest.raises(checkpoints.PretrainedError, match="lacks sha256"):
        checkpoints.load_pretrained("toy_net", folder=tmp_path)


def test_right_bytes_that_keras_cannot_load_give_one_message(tmp_path):
    path = tmp_path / "toy_net.keras"
    path.write_bytes(b"not a keras zip")
    _, manifest = _ship(tmp_path / "other", _model(1.0))
    manifest["sha256"] = checkpoints.file_sha256(path)
    import json

    (tmp_path / "toy_net.json").write_text(json.dumps(manifest))
    with pytest.raises(checkpoints.PretrainedError, match="matches its manifest, but Keras"):
        checkpoints.load_pretrained("toy_net", folder=tmp_path)


def test_load_reusable_prefers_the_learners_own_model(store, tmp_path):
    _ship(tmp_path / "shipped", _model(3.0))
    model, info = checkpoints.load_reusable("toy_net", made_by="notebook 05", folder=tmp_path / "shipped")
    assert info["origin"] == "shipped" and info["test_accuracy"] == 0.5
    assert info["path"] == str(tmp_path / "shipped" / "toy_net.keras")
    assert float(model.layers[-1].kernel.numpy()[0, 0]) == 3.0
    checkpoints.save_model(_model(7.0), "toy_net")  # the learner's own
    model, info = checkpoints.load_reusable("toy_net", made_by="notebook 05", folder=tmp_path / "shipped")
    assert info == {"origin": "own", "name": "toy_net", "path": str(store / "toy_net.keras")}
    assert float(model.layers[-1].kernel.numpy()[0, 0]) == 7.0


def test_load_reusable_falls_back_to_the_shipped_copy_when_the_own_file_is_damaged(store, tmp_path):
    _ship(tmp_path / "shipped", _model(3.0))
    store.mkdir(parents=True, exist_ok=True)
    (store / "toy_net.keras").write_bytes(b"not a keras file")
    with pytest.warns(UserWarning, match="could not be loaded .* using the course's shipped copy"):
        model, info = checkpoints.load_reusable("toy_net", folder=tmp_path / "shipped")
    assert info["origin"] == "shipped" and float(model.layers[-1].kernel.numpy()[0, 0]) == 3.0
    assert (store / "toy_net.keras").read_bytes() == b"not a keras file"  # never touched


def test_load_reusable_with_neither_names_both_places(store, tmp_path):
    with pytest.raises(checkpoints.ModelNotFoundError) as err:
        checkpoints.load_reusable("toy_net", made_by="notebook 05", folder=tmp_path / "shipped")
    text = str(err.value)
    assert str(store) in text and str(tmp_path / "shipped") in text and "notebook 05" in text


def test_the_shipped_network_if_present_matches_its_manifest():
    manifest = checkpoints.PRETRAINED_DIR / "cifar10_airbench.json"
    assert manifest.is_file(), "the course ships its CIFAR-10 network (scripts/train_course_cifar10.py makes it)"
    import json

    info = json.loads(manifest.read_text())
    assert set(checkpoints.MANIFEST_KEYS) <= set(info) and info["dtype"] == "float32"
    assert checkpoints.file_sha256(checkpoints.PRETRAINED_DIR / info["file"]) == info["sha256"]


def test_the_package_ships_the_pretrained_folder():
    # an installed cnnkit (pip install from the repository, as on Colab) must include the networks and manifests
    import sys
    from pathlib import Path

    if sys.version_info < (3, 11):
        pytest.skip("tomllib needs Python 3.11")
    import tomllib

    project = tomllib.loads((Path(checkpoints.__file__).parents[1] / "pyproject.toml").read_text())
    shipped = project["tool"]["setuptools"]["package-data"]["cnnkit"]
    assert "pretrained/*.keras" in shipped and "pretrained/*.json" in shipped
    assert checkpoints.PRETRAINED_DIR == Path(checkpoints.__file__).parent / "pretrained"
