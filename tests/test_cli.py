import os
import subprocess
import sys
from pathlib import Path

import pytest

from cnnkit import cli

ROOT = Path(__file__).resolve().parent.parent


def run(*args, env=None):
    return subprocess.run([sys.executable, "-m", "cnnkit", *args], capture_output=True, text=True, env=env)


def test_download_help():
    out = run("download", "--help")
    assert out.returncode == 0 and "fashion-mnist" in out.stdout and "all" in out.stdout


def test_doctor_on_the_pack(pack, capsys):
    assert cli.main(["doctor"]) == 0
    out = capsys.readouterr().out
    assert "TensorFlow" in out and "Data root" in out and "Versions (tested: Python " in out
    datasets = out.split("\nDatasets:", 1)[1]
    assert datasets.count("ok     ") == 4
    lines = {line.split()[1]: line for line in datasets.splitlines() if line.startswith("  ok")}
    assert "full dataset: 60,000 train, 10,000 test" in lines["fashion-mnist"]
    # the pack's CIFAR-10 holds 2,000 images of each of the five training batches: a sample, and said so
    assert "sample: 10,000 of 50,000 train, 2,000 of 10,000 test" in lines["cifar-10"]
    assert "full dataset: 9,957 TRAIN, 2,487 TEST, 71 TEST_SIMPLE" in lines["blood-cells"]
    assert "sample: 500 of 12,500 Cat, 500 of 12,500 Dog" in lines["cats-vs-dogs"]


def test_doctor_and_download_on_an_empty_offline_root(data_root, capsys):
    assert cli.main(["doctor"]) == 1  # the pre-workshop check fails when data is missing
    assert "4 dataset(s) missing" in capsys.readouterr().out
    assert cli.main(["download", "cifar-10"]) == 1
    assert "The cifar-10 dataset is not available" in capsys.readouterr().err
    assert cli.main(["download", "imagenet"]) == 2


def test_download_all_is_a_no_op_when_present(pack, capsys):
    assert cli.main(["download", "all"]) == 0
    out = capsys.readouterr().out
    assert out.count("ready:") == 4 and out.count("already in the data root") == 4
    # what is there, in doctor's words: the pack's PetImages is a sample, not "~25,000 photos"
    assert "sample: 500 of 12,500 Cat, 500 of 12,500 Dog" in out and "25,000" not in out
    assert "full dataset: 60,000 train, 10,000 test" in out
    assert "sample: 10,000 of 50,000 train, 2,000 of 10,000 test" in out


def test_download_says_what_it_fetches_and_what_it_found(data_root, capsys):
    """A missing dataset is announced as the full download, with its size; a damaged one is named as such."""
    assert cli.main(["download", "cats-vs-dogs"]) == 1  # offline: nothing to fetch
    assert "not here; downloading the full dataset, Microsoft PetImages" in capsys.readouterr().out
    (data_root / "fashion-mnist").mkdir()
    for name in ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz",
                 "t10k-labels-idx1-ubyte.gz"):
        (data_root / "fashion-mnist" / name).write_bytes(b"not gzip")
    assert cli.main(["download", "fashion-mnist"]) == 0
    out = capsys.readouterr().out
    assert "already in the data root" in out and "present but unreadable" in out


def test_unknown_command_fails():
    with pytest.raises(SystemExit):
        cli.main(["frobnicate"])


def test_doctor_names_a_data_root_that_does_not_exist(tmp_path):
    env = dict(os.environ, CNNKIT_DATA=str(tmp_path / "dta"))
    out = run("doctor", env=env)
    assert out.returncode == 1
    assert f"CNNKIT_DATA points to {tmp_path / 'dta'}, which does not exist (a typo?)" in out.stdout
    assert "MISSING" not in out.stdout  # one clear line instead of four MISSING lines
    # TensorFlow's start-up notices stay out of the report (cnnkit.quiet); real errors would still show
    assert "oneDNN" not in out.stderr and "absl::InitializeLog" not in out.stderr, out.stderr


def _one_line_error(out, command):
    assert out.returncode == 1 and "Traceback" not in out.stderr, out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"python -m cnnkit {command}: error: "), out.stderr
    return lines[0]


def test_command_line_errors_are_one_line(tmp_path):
    (tmp_path / "student").mkdir()
    nb = ROOT / "notebooks" / "00_setup_check.ipynb"
    (tmp_path / "student" / nb.name).write_text("mine")
    line = _one_line_error(run("student-edition", str(tmp_path / "student")), "student-edition")
    assert "already in" in line and "--force" in line
    assert (tmp_path / "student" / nb.name).read_text() == "mine"  # nothing overwritten

    (tmp_path / "ex").mkdir()
    (tmp_path / "ex" / "00_setup_check.executed.ipynb").write_text("earlier run")
    line = _one_line_error(run("run-full", "--quick", "--results", str(tmp_path / "r"), "--executed",
                               str(tmp_path / "ex"), str(nb)), "run-full")
    assert "exists already" in line
    assert (tmp_path / "ex" / "00_setup_check.executed.ipynb").read_text() == "earlier run"

    assert "no such notebook" in _one_line_error(run("run-full", str(tmp_path / "nope.ipynb")), "run-full")
    assert "not a git ref" in _one_line_error(run("colab-ref", "bad ref; rm -rf"), "colab-ref")


def test_help_is_plain_text():
    out = run("--help")
    assert out.returncode == 0 and "``" not in out.stdout and "doctor" in out.stdout
