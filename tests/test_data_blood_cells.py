"""cnnkit.data.blood_cells: the loader, the originals, the generator's file names and the smear matcher."""

import shutil

import numpy as np
import pytest
from imagefiles import augment, smear
from PIL import Image

from cnnkit import data


@pytest.fixture(scope="module")
def originals():
    return [smear(s) for s in range(6)]


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


def test_generator_positions():
    names = ["TRAIN/EOSINOPHIL/_0_1414.jpeg", "_12_7.jpeg", "x/_158_99999.jpg", "photo.jpeg", "_a_1.jpeg"]
    assert data.generator_positions(names).tolist() == [0, 12, 158, -1, -1]


@pytest.mark.parametrize("nesting", [("dataset-master",), ("dataset-master", "dataset-master")])
def test_blood_cell_originals_reads_both_nestings(tmp_path, originals, nesting):
    folder = tmp_path.joinpath(*nesting)
    (folder / "JPEGImages").mkdir(parents=True)
    for i in (0, 1, 7):
        originals[0].save(folder / "JPEGImages" / f"BloodImage_{i:05d}.jpg")
    (folder / "JPEGImages" / "notes.txt").write_text("not an image")
    (folder / "labels.csv").write_text(",Image,Category\r\n,0,NEUTROPHIL\r\n,1,\r\n,7,\"NEUTROPHIL, EOSINOPHIL\"\r\n")
    paths, labels = data.blood_cell_originals(tmp_path)
    assert [p.split("/")[-1] for p in paths] == [f"BloodImage_{i:05d}.jpg" for i in (0, 1, 7)]
    assert labels == ["NEUTROPHIL", "", "NEUTROPHIL, EOSINOPHIL"]


def test_blood_cell_originals_missing_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="JPEGImages"):
        data.blood_cell_originals(tmp_path)


def test_blood_cell_originals_default_uses_the_data_root(tmp_path, monkeypatch, originals):
    folder = tmp_path / "blood-cells" / "dataset-master" / "JPEGImages"
    folder.mkdir(parents=True)
    originals[0].save(folder / "BloodImage_00003.jpg")
    monkeypatch.setenv("CNNKIT_DATA", str(tmp_path))
    paths, labels = data.blood_cell_originals()
    assert len(paths) == 1 and labels == [""]  # no labels.csv: empty label


@pytest.fixture(scope="module")
def matcher(originals):
    return data.SmearMatcher(originals, labels=["A", "A", "B", "B", "C", "C"])


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
        data.SmearMatcher([])
    with pytest.raises(ValueError, match="labels"):
        data.SmearMatcher(originals[:2], labels=["A"])


def test_matcher_on_the_real_pack(pack):
    """TEST_SIMPLE holds unaugmented originals: each must match an original almost perfectly."""
    base = pack / "blood-cells"
    paths, labels = data.blood_cell_originals(base)
    assert len(paths) == 366
    chosen = [i for i, p in enumerate(paths) if p.endswith(("00093.jpg", "00139.jpg", "00204.jpg"))]
    matcher = data.SmearMatcher([paths[i] for i in chosen] + paths[:20],
                                   [labels[i] for i in chosen] + labels[:20])
    simple = base / "dataset2-master" / "images" / "TEST_SIMPLE" / "EOSINOPHIL"
    found = matcher.match([simple / "_0_5239.jpeg"], labels=["EOSINOPHIL"])
    assert matcher.paths[found.source[0]].endswith("00093.jpg") and found.score[0] > 0.95


@pytest.mark.parametrize("nesting", [("dataset2-master",), ("dataset2-master", "dataset2-master")])
def test_find_images_accepts_either_nesting(tmp_path, nesting):
    from cnnkit.data.blood_cells import find_images

    assert find_images(tmp_path) is None
    images = tmp_path.joinpath(*nesting, "images")
    images.mkdir(parents=True)
    assert find_images(tmp_path) == images


def test_matcher_describe_is_a_normalised_disc(matcher, originals):
    d = matcher.describe(originals[0])
    assert d.shape == (int(matcher._disc.sum()),)
    assert abs(float(d.mean())) < 1e-4 and abs(float(np.linalg.norm(d)) - 1) < 1e-3
    found = matcher.match([originals[0]])
    assert isinstance(found, data.Matches)
    # the score is the best correlation of this description with the variants of the matched original
    best = float((matcher.templates[found.source[0]] @ d).max())
    assert float(found.score[0]) == pytest.approx(best, abs=1e-5)


def test_stained_cell_is_the_largest_purple_region():
    rgb = np.full((40, 50, 3), 200.0)
    rgb[10:20, 5:15] = (120, 60, 160)   # the cell: blue - green = 100
    rgb[30:32, 40:42] = (120, 60, 160)  # a speck
    rgb[0:5, 30:35] = (200, 180, 200)   # pinkish, blue - green = 20: not purple
    mask = data.stained_cell(rgb)
    assert mask.dtype == bool and mask.shape == (40, 50)
    assert mask[10:20, 5:15].all() and mask.sum() == 100 and not mask[30:32, 40:42].any()
    assert not data.stained_cell(np.full((8, 8, 3), 128.0)).any()
    assert data.stained_cell(rgb, threshold=150).sum() == 0
    with pytest.raises(ValueError, match="one RGB image"):
        data.stained_cell(rgb[..., 0])


@pytest.mark.parametrize("where", ["top", "bottom", "left", "right", "corner"])
def test_stained_cell_cut_by_the_frame_keeps_its_pixels_on_the_frame(where):
    # notebook 07 asks whether misclassified cells touch the frame; the mask must be able to say yes
    rgb = np.full((40, 50, 3), 200.0)
    rows, cols = {"top": (slice(0, 8), slice(20, 30)), "bottom": (slice(32, 40), slice(20, 30)),
                  "left": (slice(15, 25), slice(0, 6)), "right": (slice(15, 25), slice(44, 50)),
                  "corner": (slice(0, 3), slice(47, 50))}[where]
    rgb[rows, cols] = (120, 60, 160)
    rgb[12:14, 10:12] = (120, 60, 160)  # a smaller speck away from the frame
    mask = data.stained_cell(rgb)
    expected = np.zeros((40, 50), bool)
    expected[rows, cols] = True
    assert np.array_equal(mask, expected)
    on_frame = mask[[0, -1], :].any() or mask[:, [0, -1]].any()
    assert on_frame


def test_stained_cell_still_closes_gaps_inside_the_cell():
    rgb = np.full((40, 40, 3), 200.0)
    rgb[10:20, 10:20] = (120, 60, 160)
    rgb[14:16, 14:16] = 200.0  # a 2x2 hole in the nucleus
    rgb[0:6, 0:6] = (120, 60, 160)  # a smaller cell in the corner
    rgb[2, 2] = 200.0  # with a hole on the frame's side too
    mask = data.stained_cell(rgb)
    assert mask[10:20, 10:20].all() and mask.sum() == 100
    corner = data.stained_cell(rgb[:8, :8])  # the corner cell alone: hole closed, frame pixels kept
    assert corner[0:6, 0:6].all() and corner.sum() == 36
