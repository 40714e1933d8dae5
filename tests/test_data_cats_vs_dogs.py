"""cnnkit.data.cats_vs_dogs: the loader and notebook 06's split on the pack."""

import json
from pathlib import Path

import numpy as np
import pytest

from cnnkit import data

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def test_cats_vs_dogs_from_pack(pack):
    ds = data.cats_vs_dogs(image_size=(32, 32), limit_per_class=3, batch_size=10, seed=0, verbose=False)
    x, y = next(iter(ds))
    assert ds.class_names == ["Cat", "Dog"] and x.shape == (6, 32, 32, 3) and y.shape == (6, 1)
    assert ds.skipped == []  # the pack's 1,000 files all decode


def test_find_pets_needs_both_class_folders(tmp_path):
    from cnnkit.data.cats_vs_dogs import find_pets

    assert find_pets(tmp_path) is None and find_pets(tmp_path / "missing") is None
    (tmp_path / "PetImages" / "Cat").mkdir(parents=True)
    assert find_pets(tmp_path) is None
    (tmp_path / "PetImages" / "Dog").mkdir()
    assert find_pets(tmp_path) == tmp_path / "PetImages"
    deeper = tmp_path / "b" / "kagglecatsanddogs" / "PetImages"
    for c in ("Cat", "Dog"):
        (deeper / c).mkdir(parents=True)
    assert find_pets(tmp_path / "b") == deeper  # found below a zip's extra folder
    assert data.CATS_VS_DOGS_CLASSES == ["Cat", "Dog"]


def test_cats_vs_dogs_split_is_notebook_06s_split(pack):
    """The split notebooks 06 and 07 share: the same photos as indexing and splitting by hand, disjoint."""
    split = data.cats_vs_dogs_split()
    assert (len(split.train), len(split.validation), len(split.test)) == (640, 160, 200)  # the pack's 1,000 photos
    index = data.index_folder(data.ensure_cats_vs_dogs(), class_names=["Cat", "Dog"], seed=42)
    labels = np.array(index.labels)
    trainval, test = data.split_indices(labels, 0.2, seed=42)
    train, val = data.split_indices(labels[trainval], 0.2, seed=42)
    assert split.files("test") == [index.paths[i] for i in test]
    assert split.files("validation") == [index.paths[i] for i in trainval[val]]
    assert split.files("train") == [index.paths[i] for i in trainval[train]]
    everything = np.concatenate([split.train, split.validation, split.test])
    assert sorted(everything) == list(range(1000)) and split.skipped == []
    assert np.bincount(split.labels[split.test]).tolist() == [100, 100]
    small = data.cats_vs_dogs_split(limit_per_class=100)
    assert (len(small.train), len(small.validation), len(small.test)) == (128, 32, 40)
    assert data.cats_vs_dogs_split(seed=1).files("test") != split.files("test")
    assert split.fingerprint("test") == data.cats_vs_dogs_split().fingerprint("test") != split.fingerprint("train")
    assert len(split.fingerprint("test")) == 16 and small.fingerprint("test") != split.fingerprint("test")
    with pytest.raises(ValueError, match="split must be"):
        split.files("val")


def test_the_cpu_cap_of_500_per_class_keeps_the_recorded_split(pack):
    """Notebook 06 caps full settings at 500 photos per class without a GPU; on the pack (500 per class) that
    is every photo, so the split is the one the recorded full-size CPU run trained and tested on."""
    capped, everything = data.cats_vs_dogs_split(limit_per_class=500), data.cats_vs_dogs_split()
    for name in ("train", "validation", "test"):
        assert capped.files(name) == everything.files(name)
    assert (len(capped.train), len(capped.validation), len(capped.test)) == (640, 160, 200)
    fewer = data.cats_vs_dogs_split(limit_per_class=499)
    assert len(fewer.paths) == 998 and fewer.fingerprint("test") != capped.fingerprint("test")


def test_notebooks_06_and_07_take_their_split_from_the_same_function():
    for name in ("06_cats_vs_dogs_sigmoid", "07_transfer_learning_and_gradcam"):
        nb = json.loads((NOTEBOOKS / f"{name}.ipynb").read_text())
        code = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")
        assert "data.cats_vs_dogs_split(" in code and "split_indices(" not in code, name
