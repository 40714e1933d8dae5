import os

import numpy as np
import pytest

import cnnkit
from cnnkit import config


def test_data_root_from_env_and_default(monkeypatch, tmp_path):
    monkeypatch.setenv("CNNKIT_DATA", str(tmp_path))
    assert cnnkit.data_root() == tmp_path.resolve()
    monkeypatch.delenv("CNNKIT_DATA")
    assert cnnkit.data_root() == config._CHECKOUT / "data"  # running from the checkout
    monkeypatch.setattr(config, "_in_checkout", lambda: False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert cnnkit.data_root() == tmp_path / "cache" / "cnnkit"


def test_pin_data_root_makes_a_relative_path_absolute(monkeypatch, tmp_path):
    (tmp_path / "work").mkdir()
    monkeypatch.chdir(tmp_path / "work")
    monkeypatch.setenv("CNNKIT_DATA", "../pack")
    config.pin_data_root()
    assert os.environ["CNNKIT_DATA"] == str(tmp_path / "pack")
    monkeypatch.chdir(tmp_path)  # a process in another folder (a notebook kernel) now sees the same root
    assert config.data_root() == tmp_path / "pack"
    config.pin_data_root()  # absolute: left alone
    assert os.environ["CNNKIT_DATA"] == str(tmp_path / "pack")
    monkeypatch.delenv("CNNKIT_DATA")
    config.pin_data_root()  # unset: stays unset
    assert "CNNKIT_DATA" not in os.environ


@pytest.mark.parametrize("value,quick", [("1", True), ("true", True), ("on", True), ("0", False), ("", False)])
def test_quick_mode_and_pick(monkeypatch, value, quick):
    monkeypatch.setenv("CNNKIT_QUICK", value)
    assert cnnkit.is_quick() is quick
    assert cnnkit.pick(full=30, quick=1) == (1 if quick else 30)


def test_set_seed_makes_runs_repeatable():
    import keras

    cnnkit.set_seed(7)
    a = (np.random.rand(3), keras.random.uniform((3,)).numpy())
    cnnkit.set_seed(7)
    b = (np.random.rand(3), keras.random.uniform((3,)).numpy())
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    with pytest.raises(ValueError):
        cnnkit.set_seed(-1)
    with pytest.raises(ValueError):
        cnnkit.set_seed("42")


def test_set_seed_deterministic_enables_op_determinism():
    """In a fresh process: off by default, on after set_seed(..., deterministic=True), and it stays on
    (TensorFlow has no public switch back, as the docstring says). A subprocess keeps it out of this one."""
    import subprocess
    import sys

    code = (
        "import cnnkit\n"
        "from tensorflow.python.framework import config as tf_config\n"
        "cnnkit.set_seed(3)\n"
        "print(tf_config.is_op_determinism_enabled())\n"
        "assert cnnkit.set_seed(3, deterministic=True) == 3\n"
        "print(tf_config.is_op_determinism_enabled())\n"
        "cnnkit.set_seed(3)\n"
        "print(tf_config.is_op_determinism_enabled())\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["False", "True", "True"]
    with pytest.raises(ValueError):
        cnnkit.set_seed(3, deterministic="yes")


def test_env_report_prints_the_facts(capsys, monkeypatch):
    monkeypatch.setenv("CNNKIT_QUICK", "1")
    info = cnnkit.env_report()
    out = capsys.readouterr().out
    for key in ("Python", "TensorFlow", "Keras", "cnnkit", "GPU", "Data root", "Mode"):
        assert key in out
    assert info["mode"] == "quick" and info["cnnkit"] == cnnkit.__version__
    assert isinstance(info["gpus"], list) and info["cpu_count"] >= 1


def test_lazy_submodules():
    assert cnnkit.models.lenet5 is not None
    with pytest.raises(AttributeError):
        cnnkit.no_such_thing  # noqa: B018


def test_cpu_has_bf16_reads_the_flags():
    from cnnkit.config import cpu_has_bf16

    assert cpu_has_bf16("processor : 0\nflags : fpu sse avx512f avx512_bf16 fma\n")
    assert cpu_has_bf16("flags\t\t: fpu amx_bf16 amx_tile\n")
    assert not cpu_has_bf16("flags : fpu sse avx512f fma avx2\n")
    assert not cpu_has_bf16("model name : Apple M2\n")  # no flags line
    assert isinstance(cpu_has_bf16(), bool)  # this machine, whatever it is


def test_cap_without_gpu():
    from cnnkit.config import cap_without_gpu

    assert cap_without_gpu(2_000, gpus=[]) == 2_000
    assert cap_without_gpu(2_000, gpus=["NVIDIA T4"]) is None
    assert cap_without_gpu(5) in (5, None)  # asks TensorFlow: capped on this machine unless it has a GPU
    for bad in (0, -3, 2.5, True, None):
        with pytest.raises(ValueError, match="positive whole number"):
            cap_without_gpu(bad, gpus=[])
