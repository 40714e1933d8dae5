"""cnnkit.data.fashion_mnist: the IDX reader, the loader, verified downloads, the full set from the pack."""

import gzip
import importlib

import numpy as np
import pytest
from imagefiles import fake_fashion, write_idx

from cnnkit import data

fashion_mnist = importlib.import_module("cnnkit.data.fashion_mnist")


def test_load_fashion_mnist_from_files(data_root):
    fake_fashion(data_root)
    (x, y), (xt, yt) = data.load_fashion_mnist()
    assert x.shape == (50, 28, 28, 1) and x.dtype == np.uint8 and y.dtype == np.uint8
    assert xt.shape == (20, 28, 28, 1)
    (x, y), (xt, yt) = data.load_fashion_mnist(limit=20)
    assert np.bincount(y).tolist() == [2] * 10 and len(xt) == 20


def test_fashion_mnist_rejects_truncated_and_wrong_files(data_root):
    folder = fake_fashion(data_root)
    raw = gzip.decompress((folder / "train-images-idx3-ubyte.gz").read_bytes())
    with gzip.open(folder / "train-images-idx3-ubyte.gz", "wb") as fh:
        fh.write(raw[:-100])
    with pytest.raises(ValueError, match="truncated"):
        data.load_fashion_mnist()
    write_idx(folder / "train-images-idx3-ubyte.gz", np.zeros((50, 28, 28)), 2049)
    with pytest.raises(ValueError, match="magic"):
        data.load_fashion_mnist()


def test_fashion_mnist_downloads_verified_files(data_root, http_server, monkeypatch, pack):
    for name in fashion_mnist.FILES:
        http_server.files[f"/fm/{name}"] = (pack / "fashion-mnist" / name).read_bytes()
    monkeypatch.setattr(fashion_mnist, "MIRRORS", ["http://127.0.0.1:9/", http_server.url + "/fm/"])
    monkeypatch.delenv("CNNKIT_OFFLINE")
    (x, y), (xt, yt) = data.load_fashion_mnist(limit=100)
    assert x.shape == (100, 28, 28, 1)
    assert sorted(p.name for p in (data_root / "fashion-mnist").iterdir()) == sorted(fashion_mnist.FILES)


def test_fashion_mnist_full_from_pack(pack):
    (x, y), (xt, yt) = data.load_fashion_mnist()
    assert x.shape == (60000, 28, 28, 1) and xt.shape == (10000, 28, 28, 1)
    assert np.bincount(y).tolist() == [6000] * 10 and np.bincount(yt).tolist() == [1000] * 10
    assert y[:10].tolist() == [9, 0, 0, 3, 0, 2, 7, 2, 5, 5]  # the official order
    assert abs(x.mean() / 255 - 0.2860405969887955) < 1e-9


def test_partially_filled_fashion_root_names_what_is_missing(data_root):
    folder = fake_fashion(data_root)
    (folder / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(data.DataNotFoundError, match="Missing: +t10k-labels-idx1-ubyte.gz"):
        data.load_fashion_mnist()


def test_read_idx_reads_any_shape(tmp_path):
    array = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    write_idx(tmp_path / "a.gz", array, 2051)
    np.testing.assert_array_equal(fashion_mnist.read_idx(tmp_path / "a.gz", 2051), array)
    with pytest.raises(ValueError, match="magic"):
        fashion_mnist.read_idx(tmp_path / "a.gz", 2049)
