"""cnnkit.data.duplicates: loading images, perceptual hashes and Hamming search."""

import numpy as np
import pytest
from imagefiles import smear
from PIL import Image

from cnnkit import data


@pytest.fixture(scope="module")
def originals():
    return [smear(s) for s in range(6)]


def test_load_image_from_path_pil_array_and_tensor(tmp_path, originals):
    path = tmp_path / "a.jpeg"
    originals[0].save(path, quality=95)
    from_path = data.load_image(path, size=(80, 60))
    from_pil = data.load_image(originals[0], size=(80, 60))
    from_array = data.load_image(np.asarray(originals[0]), size=(80, 60))
    assert from_path.shape == from_pil.shape == from_array.shape == (60, 80, 3)
    assert from_path.dtype == np.float32
    assert np.abs(from_pil - from_array).max() == 0
    assert np.abs(from_path - from_pil).mean() < 8  # JPEG and draft decoding differ a little
    grey = data.load_image(originals[0], size=(9, 8), mode="L")
    assert grey.shape == (8, 9)


class _FakeTensor:
    """Quacks like a TensorFlow eager tensor (has .numpy()), without importing TensorFlow."""

    def __init__(self, arr):
        self._arr = arr

    def numpy(self):
        return self._arr


def test_load_image_accepts_a_tensor_and_rejects_bad_arrays(originals):
    arr = np.asarray(originals[0])
    assert data.load_image(_FakeTensor(arr)).shape == arr.shape
    assert data.load_image(arr[..., :1]).shape == arr.shape[:2] + (3,)  # one channel -> RGB
    with pytest.raises(ValueError, match="shape"):
        data.load_image(np.zeros((2, 3, 4, 5)))


# ---------------------------------------------------------------- hashes


def test_dhash_shape_and_stability(originals):
    h = data.dhash(originals[0])
    assert h.shape == (64,) and h.dtype == bool
    assert np.array_equal(h, data.dhash(originals[0].copy()))
    brighter = Image.fromarray(np.clip(np.asarray(originals[0]).astype(int) + 12, 0, 255).astype(np.uint8))
    assert np.count_nonzero(h != data.dhash(brighter)) <= 4
    resized = originals[0].resize((160, 120))
    assert np.count_nonzero(h != data.dhash(resized)) <= 6
    other = data.dhash(originals[1])
    assert np.count_nonzero(h != other) > 12
    assert data.dhash(originals[0], hash_size=16).shape == (256,)


def test_ahash_shape_and_values(originals):
    h = data.ahash(originals[0])
    assert h.shape == (64,) and h.dtype == bool
    half = np.zeros((8, 8), dtype=np.uint8)
    half[:, 4:] = 255
    assert np.array_equal(data.ahash(half), (half > 127).reshape(-1))


def test_hash_images_flip_variants_match_flipped_images(originals):
    plain = data.hash_images(originals[:2])
    assert plain.shape == (2, 64)
    variants = data.hash_images(originals[:2], flips=True)
    assert variants.shape == (2, 4, 64)
    assert np.array_equal(variants[:, 0], plain)
    flipped = data.hash_images([originals[0].transpose(Image.FLIP_LEFT_RIGHT),
                                   originals[0].transpose(Image.FLIP_TOP_BOTTOM)])
    assert np.count_nonzero(flipped[0] != variants[0, 1]) <= 3
    assert np.count_nonzero(flipped[1] != variants[0, 2]) <= 3
    assert data.hash_images([], flips=True).shape == (0, 4, 64)
    assert data.hash_images(originals[:1], kind="ahash").shape == (1, 64)
    with pytest.raises(ValueError, match="kind"):
        data.hash_images(originals[:1], kind="phash")


def test_hamming_matrix_equals_brute_force():
    rng = np.random.default_rng(0)
    a = rng.random((7, 64)) > 0.5
    b = rng.random((600, 64)) > 0.5
    expected = (a[:, None, :] != b[None, :, :]).sum(axis=2)
    assert np.array_equal(data.hamming_matrix(a, b, chunk=3), expected)
    odd = rng.random((3, 13)) > 0.5  # bit counts that are not a multiple of 8
    assert np.array_equal(data.hamming_matrix(odd, odd), (odd[:, None] != odd[None]).sum(2))
    with pytest.raises(ValueError, match="same bits"):
        data.hamming_matrix(a, b[:, :32])


def test_nearest_hamming_with_variants_and_self_exclusion():
    rng = np.random.default_rng(1)
    ref = rng.random((5, 4, 64)) > 0.5
    query = ref[[3, 1], 2].copy()  # copies of variant 2 of references 3 and 1
    query[0, :2] ^= True  # two bits flipped
    dist, idx = data.nearest_hamming(query, ref)
    assert idx.tolist() == [3, 1] and dist.tolist() == [2, 0]
    flat = ref[:, 0]
    dist, idx = data.nearest_hamming(flat, flat, exclude_self=True)
    assert (idx != np.arange(5)).all() and (dist > 0).all()
    with pytest.raises(ValueError, match="same images"):
        data.nearest_hamming(flat[:2], flat, exclude_self=True)
