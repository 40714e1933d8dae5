"""cnnkit.data.common: one clear error for missing data, whichever dataset and whatever went wrong."""

import importlib
from pathlib import Path

import pytest

from cnnkit import data

LOADERS = {
    "fashion-mnist": lambda: data.load_fashion_mnist(),
    "cifar-10": lambda: data.load_cifar10(),
    "blood-cells": lambda: data.blood_cells("TEST"),
    "cats-vs-dogs": lambda: data.cats_vs_dogs(),
}


@pytest.mark.parametrize("name", list(LOADERS))
def test_missing_root_gives_one_clear_error(name, monkeypatch):
    monkeypatch.setenv("CNNKIT_DATA", "/nonexistent")
    monkeypatch.delenv("CNNKIT_OFFLINE", raising=False)
    with pytest.raises(data.DataNotFoundError) as err:
        LOADERS[name]()
    text = str(err.value)
    assert f"The {name} dataset is not available" in text
    assert "/nonexistent" in text and f"python -m cnnkit download {name}" in text and "CNNKIT_DATA" in text
    assert not Path("/nonexistent").exists()


def test_missing_relative_root_says_where_it_looked_and_why(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CNNKIT_DATA", "../no-such-pack")
    monkeypatch.delenv("CNNKIT_OFFLINE", raising=False)
    with pytest.raises(data.DataNotFoundError) as err:
        data.load_fashion_mnist()
    text = str(err.value)
    assert str(tmp_path.parent / "no-such-pack") in text
    assert "'../no-such-pack' is a relative path" in text and str(tmp_path) in text
    assert "use an absolute path" in text and "typo" not in text


@pytest.mark.parametrize("name", list(LOADERS))
def test_offline_empty_root_gives_one_clear_error(name, data_root):
    with pytest.raises(data.DataNotFoundError, match=f"The {name} dataset is not available"):
        LOADERS[name]()
    assert list(data_root.iterdir()) == []


@pytest.mark.parametrize("name", ["fashion-mnist", "cifar-10", "blood-cells", "cats-vs-dogs"])
def test_unreachable_server_gives_one_clear_error(name, data_root, monkeypatch):
    monkeypatch.delenv("CNNKIT_OFFLINE")
    module = importlib.import_module
    monkeypatch.setattr(module("cnnkit.data.fashion_mnist"), "MIRRORS", ["http://127.0.0.1:9/"])
    monkeypatch.setattr(module("cnnkit.data.cifar10"), "URL", "http://127.0.0.1:9/c.tar.gz")
    monkeypatch.setattr(module("cnnkit.data.cats_vs_dogs"), "URL", "http://127.0.0.1:9/p.zip")
    monkeypatch.setattr(module("cnnkit.data.cats_vs_dogs"), "KAGGLE_MIRROR", "no-such-owner/no-such-dataset")
    monkeypatch.setenv("KAGGLEHUB_CACHE", str(data_root.parent / "kh"))
    monkeypatch.setenv("KAGGLE_API_ENDPOINT", "http://127.0.0.1:9")
    monkeypatch.setattr(module("cnnkit.data.blood_cells"), "KAGGLE_HANDLE", "no-such-owner/no-such-dataset")
    with pytest.raises(data.DataNotFoundError) as err:
        LOADERS[name]()
    assert "Download:" in str(err.value)
    leftovers = [p.name for p in data_root.rglob("*") if ".download-" in p.name or ".part-" in p.name]
    assert leftovers == []  # failed downloads leave no temporary folders behind


def test_read_only_root_gives_one_clear_error(data_root, monkeypatch):
    """What a non-root user gets from a read-only data root (simulated: CI runs as root)."""
    import tempfile

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.delenv("CNNKIT_OFFLINE")
    monkeypatch.setattr(tempfile, "mkdtemp", refuse)
    with pytest.raises(data.DataNotFoundError, match="Cannot write to .*Permission denied"):
        data.load_fashion_mnist()


def test_offline_switch(monkeypatch):
    for value, expected in [("1", True), ("yes", True), (" On ", True), ("0", False), ("", False)]:
        monkeypatch.setenv("CNNKIT_OFFLINE", value)
        assert data.offline() is expected
    monkeypatch.delenv("CNNKIT_OFFLINE")
    assert data.offline() is False
