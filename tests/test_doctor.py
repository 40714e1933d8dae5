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
    datasets = out.split("\nDatasets:", 1)[1]
    assert datasets.count("ok     ") == 4 and "not comparable" in out  # samples are named as such


def test_versions_inside_the_tested_range_are_ok():
    (py, _), (tf_low, tf_high), (k_low, k_high) = doctor.TESTED.values()
    for tf, keras in ((tf_low, k_low), (tf_high, k_high), (tf_high + "rc1", k_low)):
        assert [c.status for c in doctor.check_versions(py + ".2", tf, keras)] == ["ok", "ok", "ok"]


@pytest.mark.parametrize("python, tensorflow, keras, expected", [
    # older than the bound, or a Python TensorFlow has no wheels for: a problem, with the command that fixes it
    ("3.11.9", "2.15.1", "3.15.1", ("ok", "problem", "ok")),
    ("3.11.9", "2.21.0", "3.8.0", ("ok", "ok", "problem")),
    ("3.14.0", "2.21.0", "3.15.1", ("problem", "ok", "ok")),
    ("3.9.18", "2.21.0", "3.15.1", ("problem", "ok", "ok")),
    # newer than tested, or a supported Python the course was not tested on: a warning
    ("3.12.3", "2.22.0rc0", "3.16.0", ("warning", "warning", "warning")),
    ("3.13.1", "2.21.0", "3.15.1", ("warning", "ok", "ok")),
    ("3.10.12", "2.21.0", "3.15.1", ("warning", "ok", "ok")),
])
def test_versions_outside_the_tested_range(python, tensorflow, keras, expected):
    checks = doctor.check_versions(python, tensorflow, keras)
    assert tuple(c.status for c in checks) == expected
    for c, version in zip(checks, (python, tensorflow, keras)):
        assert c.version == version and (c.message == "") == (c.status == "ok")
    py, tf, k = checks
    tf_low, k_low, k_high = doctor.TESTED["TensorFlow"][0], *doctor.TESTED["Keras"]
    if tf.status == "problem":
        assert f'pip install --upgrade "tensorflow>={tf_low}"' in tf.message
    if k.status == "problem":
        assert f'pip install --upgrade "keras>={k_low}"' in k.message
    if k.status == "warning":
        assert "newer than the course was tested with" in k.message
        assert f'pip install "keras=={k_high}"' in k.message
    if py.status == "problem":
        assert "outside the supported range 3.10 to 3.13" in py.message and "venv" in py.message
        assert ("TensorFlow publishes no wheels for it" in py.message) == python.startswith("3.14")
    if py.status == "warning":
        assert "the course was tested on Python 3.11" in py.message


def test_release_numbers():
    assert doctor._release("3.9.0") == (3, 9, 0) and doctor._release("2.16") == (2, 16, 0)
    assert doctor._release("2.22.0rc0") == (2, 22, 0) and doctor._release("2.16.1-dev2024") == (2, 16, 1)


def test_run_returns_1_for_a_version_that_cannot_run_the_course(pack, monkeypatch, capsys):
    check = doctor.check_versions
    monkeypatch.setattr(doctor, "check_versions", lambda *_: check("3.11.7", "2.21.0", "3.8.0"))
    assert doctor.run() == 1
    out = capsys.readouterr().out
    assert "PROBLEM Keras       3.8.0: Keras 3.8.0 is older than the course needs" in out
    assert "The versions marked PROBLEM cannot run the course" in out


def test_run_warns_but_passes_for_a_newer_keras(pack, monkeypatch, capsys):
    check = doctor.check_versions
    monkeypatch.setattr(doctor, "check_versions", lambda *_: check("3.11.7", "2.21.0", "3.99.0"))
    assert doctor.run() == 0
    assert "WARNING Keras       3.99.0: Keras 3.99.0 is newer than the course was tested with" in capsys.readouterr().out
