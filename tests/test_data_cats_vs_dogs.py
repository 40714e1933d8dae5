"""cnnkit.data.cats_vs_dogs: the loader on the pack."""

from cnnkit import data


def test_cats_vs_dogs_from_pack(pack):
    ds = data.cats_vs_dogs(image_size=(32, 32), limit_per_class=3, batch_size=10, seed=0, verbose=False)
    x, y = next(iter(ds))
    assert ds.class_names == ["Cat", "Dog"] and x.shape == (6, 32, 32, 3) and y.shape == (6, 1)
    assert ds.skipped == []  # the pack's 1,000 files all decode
