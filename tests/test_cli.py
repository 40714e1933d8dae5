import subprocess
import sys

import pytest

from cnnkit import cli


def run(*args, env=None):
    return subprocess.run([sys.executable, "-m", "cnnkit", *args], capture_output=True, text=True, env=env)


def test_download_help():
    out = run("download", "--help")
    assert out.returncode == 0 and "fashion-mnist" in out.stdout and "all" in out.stdout


def test_doctor_on_the_pack(pack, capsys):
    assert cli.main(["doctor"]) == 0
    out = capsys.readouterr().out
    assert "TensorFlow" in out and "Data root" in out
    assert out.count("ok     ") == 4


def test_doctor_and_download_on_an_empty_offline_root(data_root, capsys):
    assert cli.main(["doctor"]) == 0
    assert "4 dataset(s) missing" in capsys.readouterr().out
    assert cli.main(["download", "cifar-10"]) == 1
    assert "The cifar-10 dataset is not available" in capsys.readouterr().err
    assert cli.main(["download", "imagenet"]) == 2


def test_download_all_is_a_no_op_when_present(pack, capsys):
    assert cli.main(["download", "all"]) == 0
    assert capsys.readouterr().out.count("ready:") == 4


def test_unknown_command_fails():
    with pytest.raises(SystemExit):
        cli.main(["frobnicate"])
