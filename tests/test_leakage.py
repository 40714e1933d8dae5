"""cnnkit.leakage: perceptual hashes, Hamming search, source matching, group splits and intervals."""

import numpy as np
import pytest
from PIL import Image, ImageDraw

from cnnkit import leakage

# ---------------------------------------------------------------- synthetic smears


def smear(seed, size=(320, 240)):
    """A fake blood smear: pale background, pink red cells, one purple white cell (three overlapping discs)."""
    rng = np.random.default_rng(seed)
    w, h = size
    img = Image.new("RGB", size, (236, 232, 226))
    draw = ImageDraw.Draw(img)
    for _ in range(18):
        x, y, r = rng.uniform(0, w), rng.uniform(0, h), rng.uniform(18, 28)
        draw.ellipse([x - r, y - r, x + r, y + r], fill=(222, 160, 168))
        draw.ellipse([x - r / 3, y - r / 3, x + r / 3, y + r / 3], fill=(232, 196, 200))
    cx, cy = rng.uniform(0.35 * w, 0.65 * w), rng.uniform(0.35 * h, 0.65 * h)
    for _ in range(3):
        dx, dy, r = rng.uniform(-12, 12), rng.uniform(-12, 12), rng.uniform(12, 20)
        draw.ellipse([cx + dx - r, cy + dy - r, cx + dx + r, cy + dy + r], fill=(110, 70, 190))
    return img


def augment(img, angle=0.0, flip=0, shift=(0, 0)):
    """Flip, rotate about the centre with black fill, and shift: roughly what ImageDataGenerator did."""
    if flip & 1:
        img = img.transpose(Image.FLIP_LEFT_RIGHT)
    if flip & 2:
        img = img.transpose(Image.FLIP_TOP_BOTTOM)
    return img.rotate(angle, resample=Image.BILINEAR, translate=shift, fillcolor=(0, 0, 0))


@pytest.fixture(scope="module")
def originals():
    return [smear(s) for s in range(6)]


# ---------------------------------------------------------------- loading


def test_load_image_from_path_pil_array_and_tensor(tmp_path, originals):
    path = tmp_path / "a.jpeg"
    originals[0].save(path, quality=95)
    from_path = leakage.load_image(path, size=(80, 60))
    from_pil = leakage.load_image(originals[0], size=(80, 60))
    from_array = leakage.load_image(np.asarray(originals[0]), size=(80, 60))
    assert from_path.shape == from_pil.shape == from_array.shape == (60, 80, 3)
    assert from_path.dtype == np.float32
    assert np.abs(from_pil - from_array).max() == 0
    assert np.abs(from_path - from_pil).mean() < 8  # JPEG and draft decoding differ a little
    grey = leakage.load_image(originals[0], size=(9, 8), mode="L")
    assert grey.shape == (8, 9)


class _FakeTensor:
    """Quacks like a TensorFlow eager tensor (has .numpy()), without importing TensorFlow."""

    def __init__(self, arr):
        self._arr = arr

    def numpy(self):
        return self._arr


def test_load_image_accepts_a_tensor_and_rejects_bad_arrays(originals):
    arr = np.asarray(originals[0])
    assert leakage.load_image(_FakeTensor(arr)).shape == arr.shape
    assert leakage.load_image(arr[..., :1]).shape == arr.shape[:2] + (3,)  # one channel -> RGB
    with pytest.raises(ValueError, match="shape"):
        leakage.load_image(np.zeros((2, 3, 4, 5)))


# ---------------------------------------------------------------- hashes


def test_dhash_shape_and_stability(originals):
    h = leakage.dhash(originals[0])
    assert h.shape == (64,) and h.dtype == bool
    assert np.array_equal(h, leakage.dhash(originals[0].copy()))
    brighter = Image.fromarray(np.clip(np.asarray(originals[0]).astype(int) + 12, 0, 255).astype(np.uint8))
    assert np.count_nonzero(h != leakage.dhash(brighter)) <= 4
    resized = originals[0].resize((160, 120))
    assert np.count_nonzero(h != leakage.dhash(resized)) <= 6
    other = leakage.dhash(originals[1])
    assert np.count_nonzero(h != other) > 12
    assert leakage.dhash(originals[0], hash_size=16).shape == (256,)


def test_ahash_shape_and_values(originals):
    h = leakage.ahash(originals[0])
    assert h.shape == (64,) and h.dtype == bool
    half = np.zeros((8, 8), dtype=np.uint8)
    half[:, 4:] = 255
    assert np.array_equal(leakage.ahash(half), (half > 127).reshape(-1))


def test_hash_images_flip_variants_match_flipped_images(originals):
    plain = leakage.hash_images(originals[:2])
    assert plain.shape == (2, 64)
    variants = leakage.hash_images(originals[:2], flips=True)
    assert variants.shape == (2, 4, 64)
    assert np.array_equal(variants[:, 0], plain)
    flipped = leakage.hash_images([originals[0].transpose(Image.FLIP_LEFT_RIGHT),
                                   originals[0].transpose(Image.FLIP_TOP_BOTTOM)])
    assert np.count_nonzero(flipped[0] != variants[0, 1]) <= 3
    assert np.count_nonzero(flipped[1] != variants[0, 2]) <= 3
    assert leakage.hash_images([], flips=True).shape == (0, 4, 64)
    assert leakage.hash_images(originals[:1], kind="ahash").shape == (1, 64)
    with pytest.raises(ValueError, match="kind"):
        leakage.hash_images(originals[:1], kind="phash")


def test_hamming_matrix_equals_brute_force():
    rng = np.random.default_rng(0)
    a = rng.random((7, 64)) > 0.5
    b = rng.random((600, 64)) > 0.5
    expected = (a[:, None, :] != b[None, :, :]).sum(axis=2)
    assert np.array_equal(leakage.hamming_matrix(a, b, chunk=3), expected)
    odd = rng.random((3, 13)) > 0.5  # bit counts that are not a multiple of 8
    assert np.array_equal(leakage.hamming_matrix(odd, odd), (odd[:, None] != odd[None]).sum(2))
    with pytest.raises(ValueError, match="same bits"):
        leakage.hamming_matrix(a, b[:, :32])


def test_nearest_hamming_with_variants_and_self_exclusion():
    rng = np.random.default_rng(1)
    ref = rng.random((5, 4, 64)) > 0.5
    query = ref[[3, 1], 2].copy()  # copies of variant 2 of references 3 and 1
    query[0, :2] ^= True  # two bits flipped
    dist, idx = leakage.nearest_hamming(query, ref)
    assert idx.tolist() == [3, 1] and dist.tolist() == [2, 0]
    flat = ref[:, 0]
    dist, idx = leakage.nearest_hamming(flat, flat, exclude_self=True)
    assert (idx != np.arange(5)).all() and (dist > 0).all()
    with pytest.raises(ValueError, match="same images"):
        leakage.nearest_hamming(flat[:2], flat, exclude_self=True)


# ---------------------------------------------------------------- file names and originals


def test_generator_positions():
    names = ["TRAIN/EOSINOPHIL/_0_1414.jpeg", "_12_7.jpeg", "x/_158_99999.jpg", "photo.jpeg", "_a_1.jpeg"]
    assert leakage.generator_positions(names).tolist() == [0, 12, 158, -1, -1]


@pytest.mark.parametrize("nesting", [("dataset-master",), ("dataset-master", "dataset-master")])
def test_blood_cell_originals_reads_both_nestings(tmp_path, originals, nesting):
    folder = tmp_path.joinpath(*nesting)
    (folder / "JPEGImages").mkdir(parents=True)
    for i in (0, 1, 7):
        originals[0].save(folder / "JPEGImages" / f"BloodImage_{i:05d}.jpg")
    (folder / "JPEGImages" / "notes.txt").write_text("not an image")
    (folder / "labels.csv").write_text(",Image,Category\r\n,0,NEUTROPHIL\r\n,1,\r\n,7,\"NEUTROPHIL, EOSINOPHIL\"\r\n")
    paths, labels = leakage.blood_cell_originals(tmp_path)
    assert [p.split("/")[-1] for p in paths] == [f"BloodImage_{i:05d}.jpg" for i in (0, 1, 7)]
    assert labels == ["NEUTROPHIL", "", "NEUTROPHIL, EOSINOPHIL"]


def test_blood_cell_originals_missing_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="JPEGImages"):
        leakage.blood_cell_originals(tmp_path)


def test_blood_cell_originals_default_uses_the_data_root(tmp_path, monkeypatch, originals):
    folder = tmp_path / "blood-cells" / "dataset-master" / "JPEGImages"
    folder.mkdir(parents=True)
    originals[0].save(folder / "BloodImage_00003.jpg")
    monkeypatch.setenv("CNNKIT_DATA", str(tmp_path))
    paths, labels = leakage.blood_cell_originals()
    assert len(paths) == 1 and labels == [""]  # no labels.csv: empty label


# ---------------------------------------------------------------- source matching


@pytest.fixture(scope="module")
def matcher(originals):
    return leakage.SmearMatcher(originals, labels=["A", "A", "B", "B", "C", "C"])


def test_matcher_finds_the_source_of_flipped_rotated_shifted_copies(matcher, originals):
    copies, truth = [], []
    for k, (angle, flip, shift) in enumerate([(0, 0, (0, 0)), (12, 1, (15, -10)), (-17, 2, (-20, 8)),
                                              (7, 3, (10, 12)), (-8, 0, (25, 0)), (19, 1, (0, -15))]):
        copies.append(augment(originals[k], angle, flip, shift))
        truth.append(k)
    found = matcher.match(copies)
    assert found.source.tolist() == truth
    assert (found.score > 0.6).all()
    assert found.score[0] > 0.99  # the unaugmented original matches itself
    assert found.flip[1] == 1  # horizontal (a vertical flip would need 180 degrees more rotation)
    assert found.angle.shape == found.flip.shape == (6,)


def test_matcher_restricts_candidates_to_the_same_label(matcher, originals):
    copy = augment(originals[2], 10, 1, (5, 5))
    free = matcher.match([copy])
    assert free.source.tolist() == [2]
    forced = matcher.match([copy], labels=["C"])  # pretend it is labelled C: only originals 4 and 5 qualify
    assert forced.source[0] in (4, 5) and forced.score[0] < free.score[0]
    with pytest.raises(ValueError, match="no original is labelled"):
        matcher.match([copy], labels=["Z"])
    with pytest.raises(ValueError, match="labels"):
        matcher.match([copy, copy], labels=["A"])


def test_matcher_handles_empty_input_and_image_without_purple(matcher):
    assert matcher.match([]).source.shape == (0,)
    blank = Image.new("RGB", (320, 240), (230, 230, 230))
    res = matcher.match([blank])
    assert res.source.shape == (1,) and -1 <= res.score[0] <= 1


def test_matcher_rejects_bad_construction(originals):
    with pytest.raises(ValueError, match="at least one"):
        leakage.SmearMatcher([])
    with pytest.raises(ValueError, match="labels"):
        leakage.SmearMatcher(originals[:2], labels=["A"])


def test_matcher_on_the_real_pack(pack):
    """TEST_SIMPLE holds unaugmented originals: each must match an original almost perfectly."""
    base = pack / "blood-cells"
    paths, labels = leakage.blood_cell_originals(base)
    assert len(paths) == 366
    chosen = [i for i, p in enumerate(paths) if p.endswith(("00093.jpg", "00139.jpg", "00204.jpg"))]
    matcher = leakage.SmearMatcher([paths[i] for i in chosen] + paths[:20],
                                   [labels[i] for i in chosen] + labels[:20])
    simple = base / "dataset2-master" / "images" / "TEST_SIMPLE" / "EOSINOPHIL"
    found = matcher.match([simple / "_0_5239.jpeg"], labels=["EOSINOPHIL"])
    assert matcher.paths[found.source[0]].endswith("00093.jpg") and found.score[0] > 0.95


# ---------------------------------------------------------------- splits and statistics


def test_stratified_group_split_keeps_groups_together_and_classes_balanced():
    rng = np.random.default_rng(0)
    groups = np.repeat(np.arange(60), rng.integers(1, 8, size=60))
    labels = groups % 3  # every group has one class; 20 groups per class
    train, val = leakage.stratified_group_split(labels, groups, 0.25, seed=4)
    assert np.intersect1d(groups[train], groups[val]).size == 0
    assert np.union1d(train, val).tolist() == list(range(len(labels)))
    for c in range(3):
        assert len(np.unique(groups[val][labels[val] == c])) == 5  # 25% of 20 groups
    again = leakage.stratified_group_split(labels, groups, 0.25, seed=4)
    assert np.array_equal(again[1], val)
    other = leakage.stratified_group_split(labels, groups, 0.25, seed=5)
    assert not np.array_equal(other[1], val)


def test_stratified_group_split_small_classes_and_errors():
    labels = np.array([0, 0, 1, 1, 1, 2])
    groups = np.array([10, 11, 20, 20, 21, 30])  # class 2 has a single group: it stays in training
    train, val = leakage.stratified_group_split(labels, groups, 0.1, seed=0)
    assert 30 in groups[train] and 30 not in groups[val]
    assert len(np.unique(groups[val][labels[val] == 0])) == 1  # at least one group when a class has two
    with pytest.raises(ValueError, match="validation_split"):
        leakage.stratified_group_split(labels, groups, 1.5, seed=0)
    with pytest.raises(ValueError, match="same length"):
        leakage.stratified_group_split(labels, groups[:3], 0.2, seed=0)


def test_shared_groups_with_min_count():
    a = [1, 1, 2, 3, 3, 3]
    b = [3, 2, 2, 9, 1]
    assert leakage.shared_groups(a, b).tolist() == [1, 2, 3]
    assert leakage.shared_groups(a, b, min_count=2).tolist() == []
    assert leakage.shared_groups(a, [3, 3, 1], min_count=2).tolist() == [3]
