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


def test_download_root_checks_the_root_and_the_offline_switch(data_root, monkeypatch, tmp_path):
    from cnnkit.data.common import download_root

    with pytest.raises(data.DataNotFoundError, match="CNNKIT_OFFLINE=1 forbids downloads"):
        download_root("cifar-10", data_root / "cifar-10", ["x"])
    monkeypatch.delenv("CNNKIT_OFFLINE")
    assert download_root("cifar-10", data_root / "cifar-10", ["x"]) == data_root
    monkeypatch.setenv("CNNKIT_DATA", str(tmp_path / "typo"))
    with pytest.raises(data.DataNotFoundError, match="which does not exist .a typo"):
        download_root("cifar-10", tmp_path / "typo" / "cifar-10", ["x"])


def test_kaggle_download_moves_a_complete_download_into_place(tmp_path, monkeypatch):
    import kagglehub

    from cnnkit import fetch
    from cnnkit.data.common import kaggle_download

    def fake_download(handle, output_dir):
        (Path(output_dir) / "inner" / "images").mkdir(parents=True)
        (Path(output_dir) / "inner" / "images" / "a.txt").write_text(handle)

    def find(base):
        hit = base / "inner" / "images"
        return hit if hit.is_dir() else None

    monkeypatch.setattr(kagglehub, "dataset_download", fake_download)
    kaggle_download("owner/set", tmp_path / "set", find, "inner/images")
    assert (tmp_path / "set" / "inner" / "images" / "a.txt").read_text() == "owner/set"
    (tmp_path / "empty").mkdir()  # an existing empty folder is filled, not replaced
    kaggle_download("owner/set", tmp_path / "empty", find, "inner/images")
    assert find(tmp_path / "empty") is not None
    with pytest.raises(fetch.DownloadError, match="has no other/images"):
        kaggle_download("owner/set", tmp_path / "other", lambda base: None, "other/images")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty", "set"]  # no staging folder left behind
