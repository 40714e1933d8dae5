"""cnnkit.data.cifar10: the batch reader, the loader on the pack, provenance, an incomplete folder."""

import pickle

import numpy as np
import pytest
from imagefiles import tree_digest, write_cifar_batch

from cnnkit import data


def test_read_cifar_batch_any_size_and_layout(tmp_path):
    batch = write_cifar_batch(tmp_path / "b", 7)
    x, y = data.read_cifar_batch(tmp_path / "b")
    assert x.shape == (7, 32, 32, 3) and x.dtype == np.uint8 and y.tolist() == [0, 1, 2, 3, 4, 5, 6]
    # the file stores 1024 red, then 1024 green, then 1024 blue values per image, row-major
    assert x[0, 0, 1, 0] == batch[b"data"][0, 1] and x[0, 0, 0, 2] == batch[b"data"][0, 2048]
    (tmp_path / "bad").write_bytes(pickle.dumps({b"data": np.zeros((2, 10), np.uint8), b"labels": [0, 1]}))
    with pytest.raises(ValueError, match="3072"):
        data.read_cifar_batch(tmp_path / "bad")


def test_load_cifar10_from_pack(pack):
    (x, y), (xt, yt) = data.load_cifar10()
    assert x.shape == (10000, 32, 32, 3) and xt.shape == (2000, 32, 32, 3) and x.dtype == np.uint8
    assert y[:20].tolist() == [6, 9, 9, 4, 1, 1, 2, 7, 8, 3, 4, 7, 7, 2, 9, 9, 9, 3, 2, 6]
    (x, y), (xt, yt) = data.load_cifar10(limit=500)
    assert np.bincount(y).tolist() == [50] * 10 and np.bincount(yt).tolist() == [50] * 10


def test_cifar10_provenance(pack, data_root, monkeypatch):
    monkeypatch.setenv("CNNKIT_DATA", str(pack))
    assert data.cifar10_provenance() == "CIFAR-10 10,000/2,000 (sample; lossy, rebuilt from JPEGs)"
    folder = data_root / "cifar-10" / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        batch = write_cifar_batch(folder / name, 3)
        batch[b"filenames"] = [b"leptodactylus_pentadactylus_s_000004.png"] * 3
        (folder / name).write_bytes(pickle.dumps(batch, protocol=2))
    (folder / "batches.meta").write_bytes(pickle.dumps({b"label_names": [b"airplane"]}, protocol=2))
    monkeypatch.setenv("CNNKIT_DATA", str(data_root))
    assert data.cifar10_provenance() == "CIFAR-10 15/3 (sample; official pixels)"


def test_cifar_partial_folder_is_reported_not_overwritten(data_root):
    folder = data_root / "cifar-10" / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    write_cifar_batch(folder / "data_batch_1", 5)
    before = tree_digest(data_root)
    with pytest.raises(data.DataNotFoundError) as err:
        data.load_cifar10()
    assert "data_batch_2" in str(err.value) and "incomplete" in str(err.value)
    assert tree_digest(data_root) == before
