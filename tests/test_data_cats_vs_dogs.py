"""cnnkit.data.cats_vs_dogs: the loader on the pack."""

from cnnkit import data


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
