"""`python -m cnnkit doctor`: full dataset or sample, a missing data root named, an exit status a workshop can use."""

import pytest

from cnnkit import doctor


def test_full_or_sample_from_counts():
    full = {"train": 60_000, "test": 10_000}
    assert doctor._scope("fashion-mnist", full) == "full"
    assert doctor._describe("fashion-mnist", full, "full") == "full dataset: 60,000 train, 10,000 test"
    pack = {"train": 10_000, "test": 2_000}
    assert doctor._scope("cifar-10", pack) == "sample"
    assert doctor._describe("cifar-10", pack, "sample") == "sample: 10,000 of 50,000 train, 2,000 of 10,000 test"
    blood = {"TRAIN": 4_000, "TEST": 2_487, "TEST_SIMPLE": 71}
    assert doctor._scope("blood-cells", blood) == "sample"
    assert "2,487 TEST (complete)" in doctor._describe("blood-cells", blood, "sample")
    assert doctor._scope("blood-cells", dict(blood, TRAIN=9_957)) == "full"


def test_check_datasets_on_the_pack(pack):
    checks = {c.name: c for c in doctor.check_datasets()}
    assert all(c.present for c in checks.values())
    assert checks["fashion-mnist"].scope == "full" and checks["fashion-mnist"].counts == {"train": 60_000, "test": 10_000}
    assert checks["cifar-10"].scope == "sample" and checks["cifar-10"].counts == {"train": 10_000, "test": 2_000}
    # the pack's blood-cell folders are complete (byte-identical to the Kaggle download)
    assert checks["blood-cells"].scope == "full"
    assert checks["blood-cells"].counts == {"TRAIN": 9_957, "TEST": 2_487, "TEST_SIMPLE": 71}
    assert checks["cats-vs-dogs"].scope == "sample" and checks["cats-vs-dogs"].counts == {"Cat": 500, "Dog": 500}


def test_empty_class_folders_are_missing(data_root):
    for cls in ("Cat", "Dog"):
        (data_root / "cats-vs-dogs" / "PetImages" / cls).mkdir(parents=True)
    check = next(c for c in doctor.check_datasets() if c.name == "cats-vs-dogs")
    assert not check.present and "no images" in check.detail


@pytest.mark.parametrize("value, expected", [
    ("{tmp}/typo", "CNNKIT_DATA points to {tmp}/typo, which does not exist (a typo?)"),
    ("typo-rel", "'typo-rel' is relative to the working directory"),
])
def test_missing_root_message(tmp_path, monkeypatch, value, expected):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CNNKIT_DATA", value.format(tmp=tmp_path))
    assert expected.format(tmp=tmp_path) in doctor.missing_root_message()
    (tmp_path / "typo").mkdir()
    (tmp_path / "typo-rel").mkdir()
    assert doctor.missing_root_message() is None


def test_run_returns_1_for_a_missing_root(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("CNNKIT_DATA", str(tmp_path / "nowhere"))
    assert doctor.run() == 1
    out = capsys.readouterr().out
    assert "which does not exist" in out and "MISSING" not in out


def test_run_on_the_pack(pack, capsys):
    assert doctor.run() == 0
    out = capsys.readouterr().out
    assert out.count("ok     ") == 4 and "not comparable" in out  # samples are named as such
