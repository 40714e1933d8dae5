"""cnnkit.data.pipeline: image folders like Keras's, bad files skipped, file lists and arrays as tf.data."""

from pathlib import Path

import numpy as np
import pytest
from imagefiles import save_image, tree_digest
from PIL import Image

from cnnkit import data


@pytest.fixture
def folder(tmp_path):
    """A small class-per-folder tree: 6 good JPEGs per class."""
    root = tmp_path / "images"
    for c, name in enumerate(["ant", "bee", "cat"]):
        for i in range(6):
            save_image(root / name / f"{i}.jpg", seed=10 * c + i)
    return root


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


def test_from_paths(folder):
    paths = sorted(str(p) for p in folder.rglob("*.jpg"))
    labels = [["ant", "bee", "cat"].index(Path(p).parent.name) for p in paths]
    ds = data.from_paths(paths, labels, ["ant", "bee", "cat"], image_size=(8, 8), batch_size=None, shuffle=False)
    first = next(iter(ds))
    assert first[0].shape == (8, 8, 3) and int(first[1]) == 0
    with pytest.raises(ValueError, match="label_mode"):
        data.from_paths(paths, labels, ["a", "b", "c"], label_mode="sparse")


def test_split_pipelines_one_dataset_per_split_only_the_named_ones_shuffled(folder):
    paths = sorted(str(p) for p in folder.rglob("*.jpg"))
    labels = [["ant", "bee", "cat"].index(Path(p).parent.name) for p in paths]
    idx = np.arange(len(paths))
    splits = {"train": idx[::2], "val": idx[1::2]}
    pipes = data.split_pipelines(paths, labels, ["ant", "bee", "cat"], splits, image_size=(8, 8), batch_size=None,
                                 seed=0)
    assert list(pipes) == ["train", "val"]
    assert pipes["val"].file_paths == [paths[i] for i in splits["val"]]  # in order, that split's files only
    val_labels = [int(y) for _, y in pipes["val"]]
    assert val_labels == [labels[i] for i in splits["val"]]
    train_epochs = [[int(y) for _, y in pipes["train"]] for _ in range(2)]
    assert sorted(train_epochs[0]) == sorted(labels[i] for i in splits["train"])
    plain = data.from_paths([paths[i] for i in splits["train"]], [labels[i] for i in splits["train"]],
                            ["ant", "bee", "cat"], image_size=(8, 8), batch_size=None, seed=0, shuffle=True)
    assert train_epochs[0] == [int(y) for _, y in plain]  # the same as from_paths with shuffle=True
    with pytest.raises(ValueError, match="not there"):
        data.split_pipelines(paths, labels, ["ant", "bee", "cat"], splits, shuffle=("test",))


def _two_class_files(tmp_path):
    """Two tiny PNGs, one per class: a long path list can name them many times over, cheaply."""
    files = []
    for c in range(2):
        files.append(str(tmp_path / f"class{c}.png"))
        Image.fromarray(np.full((2, 2, 3), 100 * c, np.uint8)).save(files[-1])
    return files


def _epoch_labels(ds):
    return np.concatenate([y.numpy() for _, y in ds])


def test_from_paths_cached_shuffle_mixes_a_class_sorted_list_longer_than_the_buffer(tmp_path):
    # Issue #16: with cache=True the images were shuffled only after the cache, in a buffer of
    # SHUFFLE_BUFFER images; over a class-sorted list twice that long the first fifth of every epoch held
    # about 17% of class 1 instead of 50%.
    files = _two_class_files(tmp_path)
    n = 2 * data.SHUFFLE_BUFFER
    paths, labels = [files[0]] * (n // 2) + [files[1]] * (n // 2), [0] * (n // 2) + [1] * (n // 2)
    ds = data.from_paths(paths, labels, ["a", "b"], image_size=(2, 2), batch_size=1000, seed=4, cache=True,
                         dtype="uint8")
    first, second = _epoch_labels(ds), _epoch_labels(ds)
    for epoch in (first, second):
        assert epoch.sum() == n // 2
        share = epoch[: n // 5].mean()  # binomial standard deviation about 0.008
        assert abs(share - 0.5) < 0.05, f"class 1 is {share:.0%} of the first fifth of an epoch"
    assert not np.array_equal(first, second)  # reshuffled every epoch
    again = data.from_paths(paths, labels, ["a", "b"], image_size=(2, 2), batch_size=1000, seed=4, cache=True,
                            dtype="uint8")
    assert np.array_equal(_epoch_labels(again), first)  # the same seed, the same order


def test_from_paths_cached_shuffle_of_a_short_list_is_one_full_shuffle(tmp_path):
    import tensorflow as tf

    files = _two_class_files(tmp_path)
    paths, labels = [files[0]] * 30 + [files[1]] * 30, np.arange(60)  # each label marks a position
    ds = data.from_paths(paths, labels, [str(i) for i in range(60)], image_size=(2, 2), batch_size=8, seed=5,
                         cache=True, dtype="uint8")
    # a list no longer than the buffer is shuffled completely after the cache and nowhere else, so the
    # order is that of one shuffle over all of it (and runs recorded before the fix keep their batch order)
    by_hand = tf.data.Dataset.range(60).cache().shuffle(60, seed=5, reshuffle_each_iteration=True).batch(8)
    first = _epoch_labels(ds)
    assert sorted(first) == list(range(60))
    assert np.array_equal(first, np.concatenate([b.numpy() for b in by_hand]))


def test_check_image_names_the_reason(tmp_path):
    good = save_image(tmp_path / "good.jpg")
    assert data.check_image(good) is None
    (tmp_path / ".hidden.jpg").write_bytes(good.read_bytes())
    (tmp_path / "empty.png").write_bytes(b"")
    (tmp_path / "notes.txt").write_text("text")
    (tmp_path / "text.jpg").write_text("a text file with an image extension")
    (tmp_path / "cut.jpg").write_bytes(good.read_bytes()[:200])
    reasons = {name: data.check_image(tmp_path / name)
               for name in (".hidden.jpg", "empty.png", "notes.txt", "text.jpg", "cut.jpg", "missing.jpg")}
    assert reasons[".hidden.jpg"] == "hidden file" and reasons["empty.png"] == "empty file"
    assert "extension" in reasons["notes.txt"] and "unknown content" in reasons["text.jpg"]
    assert reasons["cut.jpg"].startswith("cannot be decoded") and reasons["missing.jpg"].startswith("unreadable")


def test_index_folder_lists_labels_and_skips(folder):
    (folder / "bee" / "broken.jpg").write_bytes(b"\xff\xd8\xff" + bytes(50))
    index = data.index_folder(folder)
    assert isinstance(index, data.FolderIndex)
    assert index.class_names == ["ant", "bee", "cat"] and index.root == folder
    assert len(index.paths) == len(index.labels) == 18 and sorted(set(index.labels)) == [0, 1, 2]
    assert [Path(p).name for p, _ in index.skipped] == ["broken.jpg"]
    sample = data.index_folder(folder, class_names=["cat", "ant"], limit_per_class=2, seed=5)
    assert sample.class_names == ["cat", "ant"] and sample.labels == [0, 0, 1, 1]
    assert all(Path(p).parent.name == ["cat", "ant"][lab] for p, lab in zip(sample.paths, sample.labels))
    assert data.index_folder(folder, class_names=["cat", "ant"], limit_per_class=2, seed=5).paths == sample.paths


def test_from_arrays_keeps_order_dtype_and_batches():
    x = np.arange(10 * 4 * 4 * 1, dtype=np.uint8).reshape(10, 4, 4, 1)
    y = np.arange(10) % 3
    ds = data.from_arrays(x, y, 4)
    batches = list(ds)
    assert len(ds) == 3 and [int(b[0].shape[0]) for b in batches] == [4, 4, 2]
    assert batches[0][0].dtype.name == "uint8"  # the model rescales; the pipeline leaves pixels alone
    np.testing.assert_array_equal(np.concatenate([b[0].numpy() for b in batches]), x)
    np.testing.assert_array_equal(np.concatenate([b[1].numpy() for b in batches]), y)
    assert len(data.from_arrays(x, y, 4, drop_remainder=True)) == 2
    single = data.from_arrays(x, y, None)
    assert next(iter(single))[0].shape == (4, 4, 1)
    with pytest.raises(ValueError, match="10 images but 9 labels"):
        data.from_arrays(x, y[:9], 4)
    with pytest.raises(ValueError, match="batch_size"):
        data.from_arrays(x, y, 0)


def test_from_arrays_shuffles_every_epoch_reproducibly():
    import tensorflow as tf

    x = np.arange(50, dtype=np.float32).reshape(50, 1, 1, 1)
    y = np.arange(50)

    def epoch(ds):
        return np.concatenate([b[1].numpy() for b in ds])

    ds = data.from_arrays(x, y, 8, shuffle=True, seed=3)
    first, second = epoch(ds), epoch(ds)
    assert sorted(first) == list(range(50)) and not np.array_equal(first, second)  # reshuffled
    again = data.from_arrays(x, y, 8, shuffle=True, seed=3)
    assert np.array_equal(epoch(again), first)  # the same seed, the same order
    # exactly the pipeline notebooks 04 and 05 used to write by hand
    by_hand = (tf.data.Dataset.from_tensor_slices((x, y)).cache()
               .shuffle(len(x), seed=3, reshuffle_each_iteration=True).batch(8).prefetch(tf.data.AUTOTUNE))
    assert np.array_equal(epoch(by_hand), first)


def test_from_arrays_augments_batches_in_training_mode_only_there():
    import keras

    x = np.zeros((6, 2, 2, 1), np.float32)
    calls = []

    def augment(images, training=False):
        calls.append(training)
        return images + (1.0 if training else -1.0)

    ds = data.from_arrays(x, np.zeros(6), 3, augment=augment)
    assert calls == [True]  # traced once, with training=True
    assert all(float(b[0].numpy().min()) == 1.0 for b in ds)
    flip = keras.layers.RandomFlip("horizontal", seed=0)
    x2 = np.arange(6 * 2 * 2 * 1, dtype=np.float32).reshape(6, 2, 2, 1)
    out = np.concatenate([b[0].numpy() for b in data.from_arrays(x2, np.zeros(6), 6, augment=flip)])
    assert out.shape == x2.shape and not np.array_equal(out, x2)  # some images were flipped
