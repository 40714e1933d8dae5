"""cnnkit.data: array loaders, image folders, the offline pack and the clear missing-data error."""

import gzip
import hashlib
import pickle
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from cnnkit import data

# ------------------------------------------------------------------------------------------ helpers


def write_idx(path, array, magic):
    header = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in array.shape)
    with gzip.open(path, "wb") as fh:
        fh.write(header + array.astype(np.uint8).tobytes())


def fake_fashion(root, n_train=50, n_test=20):
    folder = root / "fashion-mnist"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        write_idx(folder / f"{prefix}-images-idx3-ubyte.gz", rng.integers(0, 256, (n, 28, 28)), 2051)
        write_idx(folder / f"{prefix}-labels-idx1-ubyte.gz", np.arange(n) % 10, 2049)
    return folder


def tree_digest(root):
    """Names, sizes and contents of everything under root (to prove nothing was changed)."""
    h = hashlib.sha256()
    for p in sorted(Path(root).rglob("*")):
        h.update(str(p.relative_to(root)).encode())
        if p.is_file():
            h.update(p.read_bytes())
    return h.hexdigest()


def save_image(path, mode="RGB", size=(40, 30), seed=0, fmt=None):
    rng = np.random.default_rng(seed)
    channels = {"RGB": 3, "RGBA": 4, "L": 1}[mode]
    arr = rng.integers(0, 256, (size[1], size[0], channels), dtype=np.uint8)
    img = Image.fromarray(arr[..., 0] if mode == "L" else arr, mode)
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path, format=fmt)
    return path


@pytest.fixture
def folder(tmp_path):
    """A small class-per-folder tree: 6 good JPEGs per class."""
    root = tmp_path / "images"
    for c, name in enumerate(["ant", "bee", "cat"]):
        for i in range(6):
            save_image(root / name / f"{i}.jpg", seed=10 * c + i)
    return root


# ------------------------------------------------------------------------------------------ arrays


def test_balanced_indices():
    y = np.array([0, 0, 0, 1, 1, 1, 2, 2, 2, 2])
    idx = data.balanced_indices(y, 5, 3)
    assert list(idx) == sorted(idx)
    assert np.bincount(y[idx]).tolist() == [2, 2, 1]
    assert len(data.balanced_indices(y, None)) == 10
    assert len(data.balanced_indices(y, 100)) == 10
    with pytest.raises(ValueError):
        data.balanced_indices(y, 0)


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
    for name in data._FASHION_FILES:
        http_server.files[f"/fm/{name}"] = (pack / "fashion-mnist" / name).read_bytes()
    monkeypatch.setattr(data, "_FASHION_MIRRORS", ["http://127.0.0.1:9/", http_server.url + "/fm/"])
    monkeypatch.delenv("CNNKIT_OFFLINE")
    (x, y), (xt, yt) = data.load_fashion_mnist(limit=100)
    assert x.shape == (100, 28, 28, 1)
    assert sorted(p.name for p in (data_root / "fashion-mnist").iterdir()) == sorted(data._FASHION_FILES)


def test_fashion_mnist_full_from_pack(pack):
    (x, y), (xt, yt) = data.load_fashion_mnist()
    assert x.shape == (60000, 28, 28, 1) and xt.shape == (10000, 28, 28, 1)
    assert np.bincount(y).tolist() == [6000] * 10 and np.bincount(yt).tolist() == [1000] * 10
    assert y[:10].tolist() == [9, 0, 0, 3, 0, 2, 7, 2, 5, 5]  # the official order
    assert abs(x.mean() / 255 - 0.2860405969887955) < 1e-9


def write_cifar_batch(path, n, seed=0):
    rng = np.random.default_rng(seed)
    batch = {b"batch_label": b"test", b"labels": [int(i % 10) for i in range(n)],
             b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8), b"filenames": [b"x.png"] * n}
    path.write_bytes(pickle.dumps(batch, protocol=2))
    return batch


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


# ------------------------------------------------------------------------------------------ missing data


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
    monkeypatch.setattr(data, "_FASHION_MIRRORS", ["http://127.0.0.1:9/"])
    monkeypatch.setattr(data, "_CIFAR_URL", "http://127.0.0.1:9/c.tar.gz")
    monkeypatch.setattr(data, "_PETS_URL", "http://127.0.0.1:9/p.zip")
    monkeypatch.setattr(data, "_PETS_KAGGLE_MIRROR", "no-such-owner/no-such-dataset")
    monkeypatch.setenv("KAGGLEHUB_CACHE", str(data_root.parent / "kh"))
    monkeypatch.setenv("KAGGLE_API_ENDPOINT", "http://127.0.0.1:9")
    monkeypatch.setattr(data, "_BLOOD_KAGGLE", "no-such-owner/no-such-dataset")
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


def test_partially_filled_fashion_root_names_what_is_missing(data_root):
    folder = fake_fashion(data_root)
    (folder / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(data.DataNotFoundError, match="Missing: +t10k-labels-idx1-ubyte.gz"):
        data.load_fashion_mnist()


# ------------------------------------------------------------------------------------------ image folders


def test_image_folder_matches_keras(folder):
    import keras

    ours = data.image_folder(folder, image_size=(24, 32), batch_size=64, shuffle=False, verbose=False)
    theirs = keras.utils.image_dataset_from_directory(folder, image_size=(24, 32), batch_size=64, shuffle=False,
                                                      verbose=False)
    (x1, y1), (x2, y2) = next(iter(ours)), next(iter(theirs))
    assert ours.class_names == theirs.class_names == ["ant", "bee", "cat"]
    np.testing.assert_array_equal(y1.numpy(), y2.numpy())
    np.testing.assert_allclose(x1.numpy(), x2.numpy(), atol=1e-4)
    assert x1.dtype.name == "float32"


def test_image_folder_skips_bad_files_and_changes_nothing(folder, capsys):
    (folder / "ant" / "corrupt.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg" + bytes(200))
    good = (folder / "ant" / "0.jpg").read_bytes()
    (folder / "ant" / "truncated.jpg").write_bytes(good[: len(good) // 2])
    (folder / "ant" / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    (folder / "bee" / "notes.txt").write_text("not an image")
    (folder / "bee" / "empty.jpg").write_bytes(b"")
    (folder / "cat" / "text.png").write_text("a text file with an image extension")
    before = tree_digest(folder)
    ds = data.image_folder(folder, image_size=(16, 16), batch_size=100, shuffle=False)
    skipped = dict(ds.skipped)
    assert {Path(p).name for p in skipped} == {"corrupt.jpg", "truncated.jpg", ".DS_Store", "notes.txt",
                                                "empty.jpg", "text.png"}
    assert "skipped 6 unreadable file(s)" in capsys.readouterr().out
    x, y = next(iter(ds))
    assert x.shape == (18, 16, 16, 3) and np.bincount(y.numpy()).tolist() == [6, 6, 6]
    assert int(ds.cardinality()) == 1  # the length is known, so Keras shows progress and never runs dry
    assert tree_digest(folder) == before


def test_image_folder_converts_grayscale_and_rgba(folder):
    save_image(folder / "ant" / "gray.png", mode="L")
    save_image(folder / "bee" / "alpha.png", mode="RGBA")
    save_image(folder / "cat" / "gray.jpg", mode="L")
    ds = data.image_folder(folder, image_size=(8, 8), batch_size=100, verbose=False)
    x, _ = next(iter(ds))
    assert x.shape == (21, 8, 8, 3)
    gray = data.image_folder(folder, image_size=(8, 8), batch_size=100, color_mode="grayscale", verbose=False)
    assert next(iter(gray))[0].shape == (21, 8, 8, 1)


def test_image_folder_clear_errors(tmp_path, folder):
    with pytest.raises(FileNotFoundError, match="not found"):
        data.image_folder(tmp_path / "nope")
    flat = tmp_path / "flat"
    save_image(flat / "a.jpg")
    with pytest.raises(ValueError, match="no class subfolders"):
        data.image_folder(flat)
    (folder / "dog").mkdir()
    with pytest.raises(ValueError, match="dog.*empty"):
        data.image_folder(folder)
    (folder / "dog" / "x.txt").write_text("x")
    with pytest.raises(ValueError, match="no readable image"):
        data.image_folder(folder)
    with pytest.raises(ValueError, match="no subfolder for class"):
        data.image_folder(folder, class_names=["ant", "emu"])


def test_image_folder_validation_split(folder):
    for i in range(6, 20):
        save_image(folder / "ant" / f"{i}.jpg", seed=100 + i)
    with pytest.raises(ValueError, match="seed"):
        data.image_folder(folder, validation_split=0.25, subset="both")
    with pytest.raises(ValueError, match="together"):
        data.image_folder(folder, validation_split=0.25)
    train, val = data.image_folder(folder, validation_split=0.25, subset="both", seed=3, verbose=False)
    assert not set(train.file_paths) & set(val.file_paths)
    assert len(train.file_paths) + len(val.file_paths) == 32
    val_labels = [Path(p).parent.name for p in val.file_paths]
    assert {c: val_labels.count(c) for c in ("ant", "bee", "cat")} == {"ant": 5, "bee": 2, "cat": 1}  # stratified
    again = data.image_folder(folder, validation_split=0.25, subset="validation", seed=3, verbose=False)
    assert again.file_paths == val.file_paths  # the same seed gives the same split


def test_image_folder_label_modes_limit_and_dtype(folder):
    ds = data.image_folder(folder, image_size=(8, 8), label_mode="categorical", batch_size=4, verbose=False)
    assert next(iter(ds))[1].shape == (4, 3)
    with pytest.raises(ValueError, match="exactly 2 classes"):
        data.image_folder(folder, label_mode="binary")
    ds = data.image_folder(folder, image_size=(8, 8), class_names=["ant", "bee"], label_mode="binary",
                           limit_per_class=2, dtype="uint8", batch_size=10, seed=1, verbose=False)
    x, y = next(iter(ds))
    assert x.dtype.name == "uint8" and y.shape == (4, 1) and sorted(y.numpy()[:, 0].tolist()) == [0, 0, 1, 1]
    images_only = data.image_folder(folder, image_size=(8, 8), label_mode=None, batch_size=5, verbose=False)
    assert next(iter(images_only)).shape == (5, 8, 8, 3)


def test_image_folder_cache_gives_the_same_images(folder):
    plain = data.image_folder(folder, image_size=(8, 8), shuffle=False, batch_size=100, verbose=False)
    cached = data.image_folder(folder, image_size=(8, 8), shuffle=False, batch_size=100, cache=True, verbose=False)
    for _ in range(2):  # second pass reads the cache
        np.testing.assert_array_equal(next(iter(plain))[0].numpy(), next(iter(cached))[0].numpy())


def test_image_folder_odd_names_and_many_tiny_files(tmp_path):
    root = tmp_path / "odd"
    save_image(root / "größe" / "ein bild – ü.jpg")
    save_image(root / "日本" / "画像 1.png", fmt="PNG")
    ds = data.image_folder(root, image_size=(8, 8), verbose=False, batch_size=10)
    assert ds.class_names == ["größe", "日本"] and next(iter(ds))[0].shape == (2, 8, 8, 3)

    tiny = Image.fromarray(np.zeros((2, 2, 3), np.uint8))
    buf = tmp_path / "t.png"
    tiny.save(buf)
    payload = buf.read_bytes()
    many = tmp_path / "many"
    for c in ("a", "b"):
        (many / c).mkdir(parents=True)
        for i in range(5000):
            (many / c / f"{i:05d}.png").write_bytes(payload)
    ds = data.image_folder(many, image_size=(2, 2), batch_size=1000, verbose=False)
    assert len(ds.file_paths) == 10_000 and sum(int(x.shape[0]) for x, _ in ds) == 10_000


def test_from_paths_and_split_indices(folder):
    paths = sorted(str(p) for p in folder.rglob("*.jpg"))
    labels = [["ant", "bee", "cat"].index(Path(p).parent.name) for p in paths]
    ds = data.from_paths(paths, labels, ["ant", "bee", "cat"], image_size=(8, 8), batch_size=None, shuffle=False)
    first = next(iter(ds))
    assert first[0].shape == (8, 8, 3) and int(first[1]) == 0
    with pytest.raises(ValueError, match="label_mode"):
        data.from_paths(paths, labels, ["a", "b", "c"], label_mode="sparse")
    groups = np.repeat(np.arange(9), 2)
    train, val = data.split_indices(labels, 0.34, seed=0, groups=groups)
    assert not set(groups[train]) & set(groups[val])
    with pytest.raises(ValueError):
        data.split_indices(labels, 1.5, seed=0)


# ------------------------------------------------------------------------------------------ folder datasets


def test_blood_cells_from_pack_either_nesting(pack, tmp_path, monkeypatch):
    ds = data.blood_cells("TEST_SIMPLE", image_size=(50, 50), batch_size=100, shuffle=False, verbose=False)
    assert ds.class_names == data.BLOOD_CELL_CLASSES
    assert np.bincount(next(iter(ds))[1].numpy()).tolist() == [13, 6, 4, 48]
    # the Kaggle zip's doubled nesting: dataset2-master/dataset2-master/images
    nested = tmp_path / "root" / "blood-cells" / "dataset2-master" / "dataset2-master" / "images" / "TEST_SIMPLE"
    shutil.copytree(pack / "blood-cells" / "dataset2-master" / "images" / "TEST_SIMPLE", nested)
    monkeypatch.setenv("CNNKIT_DATA", str(tmp_path / "root"))
    again = data.blood_cells("TEST_SIMPLE", image_size=(50, 50), batch_size=100, shuffle=False, verbose=False)
    np.testing.assert_array_equal(next(iter(ds))[0].numpy(), next(iter(again))[0].numpy())
    with pytest.raises(ValueError, match="split"):
        data.blood_cells("VALID")


def test_cats_vs_dogs_from_pack(pack):
    ds = data.cats_vs_dogs(image_size=(32, 32), limit_per_class=3, batch_size=10, seed=0, verbose=False)
    x, y = next(iter(ds))
    assert ds.class_names == ["Cat", "Dog"] and x.shape == (6, 32, 32, 3) and y.shape == (6, 1)
    assert ds.skipped == []  # the pack's 1,000 files all decode


def test_status_reports_the_pack(pack):
    status = data.status()
    assert set(status) == set(data.DATASETS)
    assert all(present for present, _ in status.values())
    assert "TEST 2,487" in status["blood-cells"][1]


def test_status_on_empty_root(data_root):
    assert not any(present for present, _ in data.status().values())


def test_offline_message_says_to_unset_the_variable(data_root, monkeypatch):
    with pytest.raises(data.DataNotFoundError) as err:
        data.load_cifar10()
    message = str(err.value)
    assert "unset CNNKIT_OFFLINE" in message and "rerun this cell" not in message
    monkeypatch.delenv("CNNKIT_OFFLINE")
    online = str(data.DataNotFoundError("cifar-10", data_root, reason="no network"))
    assert "rerun this cell" in online and "unset CNNKIT_OFFLINE" not in online
