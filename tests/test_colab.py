"""cnnkit.colab: one place for the repository and ref; badges open the right folder."""

import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import nbformat
import pytest

from cnnkit import colab

BADGE = ("[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
         "(https://colab.research.google.com/github/o/r/blob/{ref}/{folder}/01_x.ipynb)")
SETUP = ('if "google.colab" in sys.modules:\n'
         '    COURSE_REPO, COURSE_REF = "https://github.com/o/r", "{ref}"\n')


def notebook(ref="main", folder="notebooks"):
    return nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# 01 · X\n\n" + BADGE.format(ref=ref, folder=folder)),
        nbformat.v4.new_code_cell(SETUP.format(ref=ref)),
    ])


def test_settings_and_folders():
    nb = notebook()
    assert set(colab.colab_settings(nb)) == {("https://github.com/o/r", "main")}
    assert colab.badge_folders(nb) == {"notebooks"}
    colab.point_badges_at(nb, "student")
    assert colab.badge_folders(nb) == {"student"} and "/blob/main/student/01_x.ipynb)" in nb.cells[0].source
    assert set(colab.colab_settings(nb)) == {("https://github.com/o/r", "main")}  # the ref is untouched
    with pytest.raises(ValueError):
        colab.point_badges_at(nb, "solutions")


def test_set_colab_ref_keeps_each_folder(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.cnnkit]\nrepository = "https://github.com/o/r"\n'
                                             'colab_ref = "main"\n')
    for folder in ("notebooks", "student"):
        (tmp_path / folder).mkdir()
        nbformat.write(notebook(folder=folder), tmp_path / folder / "01_x.ipynb")
    changed = colab.set_colab_ref("release/v1.0", tmp_path / "notebooks", tmp_path / "pyproject.toml")
    assert len(changed) == 3
    assert colab.course_repository(tmp_path / "pyproject.toml") == ("https://github.com/o/r", "release/v1.0")
    for folder in ("notebooks", "student"):
        nb = nbformat.read(tmp_path / folder / "01_x.ipynb", as_version=4)
        assert set(colab.colab_settings(nb)) == {("https://github.com/o/r", "release/v1.0")}
        assert colab.badge_folders(nb) == {folder}
    assert colab.set_colab_ref("release/v1.0", tmp_path / "notebooks", tmp_path / "pyproject.toml") == []


def test_colab_block_and_install_source():
    cell = "import sys\n\n" + SETUP.format(ref="main") + '    !pip install -q "x"\n\nimport keras\n'
    block = colab.colab_block(cell)
    assert block.startswith(colab.COLAB_IF) and block.endswith('!pip install -q "x"\n') and "keras" not in block
    moved = colab.with_install_source(block, "file://localhost/src/course", "abc123")
    assert 'COURSE_REPO, COURSE_REF = "file://localhost/src/course", "abc123"\n' in moved
    assert colab.colab_block("import sys\n") is None
    with pytest.raises(ValueError):
        colab.with_install_source(colab.COLAB_IF + "\n    pass\n", "r", "f")


ROOT = Path(__file__).resolve().parent.parent


def test_every_setup_cell_has_the_same_colab_branch():
    blocks = {}
    for path in sorted(ROOT.glob("notebooks/*.ipynb")) + sorted(ROOT.glob("student/*.ipynb")):
        found = [colab.colab_block(c.source) for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]
        found = [b for b in found if b]
        assert len(found) == 1, f"{path.name}: {len(found)} Colab branches"
        blocks[path.name] = found[0]
    assert len(set(blocks.values())) == 1, "the notebooks' Colab branches differ"
    assert '!pip install -q "cnnkit @ git+{COURSE_REPO}@{COURSE_REF}"' in next(iter(blocks.values()))


# The Colab branch run as Colab runs it: an IPython shell in which google.colab is imported, in a "runtime"
# that already has TensorFlow and Keras (this test run's own environment, seen through a virtual environment
# on top of it, so that pip installs into the new one only and this one is never changed). It installs
# cnnkit from this checkout's commit instead of the course repository. Needs git and a package index
# (PyPI): set CNNKIT_PIP_TESTS=1 to run it (.ci/run does).
OLD_KERAS = "3.8.0"  # older than the course's bound (doctor.TESTED); it has a wheel on PyPI
RUN_CELL = """
import sys, types
sys.modules["google.colab"] = types.ModuleType("google.colab")  # on Colab, imported before any cell runs
from IPython.core.interactiveshell import InteractiveShell
shell = InteractiveShell.instance()
result = shell.run_cell(open(sys.argv[1]).read())
sys.exit(0 if result.success and shell.user_ns.get("_exit_code") == 0 else 1)  # _exit_code: of the !pip line
"""
VERSIONS = """
import importlib.metadata as m, json
print(json.dumps({n: [m.version(n), str(m.distribution(n).locate_file(""))] for n in ("cnnkit", "keras", "tensorflow")}))
print(m.distribution("cnnkit").read_text("direct_url.json"))
"""


def _runtime(tmp_path):
    """A virtual environment whose site-packages come before this environment's (a .pth adds those)."""
    venv = tmp_path / "runtime"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    own = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                         capture_output=True, text=True, check=True).stdout.strip()
    base = sysconfig.get_paths()["purelib"]
    Path(own, "_runtime_base.pth").write_text(f"import site; site.addsitedir({base!r})\n")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env.update(PATH=f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}", VIRTUAL_ENV=str(venv),
               PIP_DISABLE_PIP_VERSION_CHECK="1")
    return python, Path(own), Path(base), env


def _versions(python, env, cwd):
    out = subprocess.run([str(python), "-c", VERSIONS], capture_output=True, text=True, env=env, cwd=cwd, check=True)
    first, direct_url = out.stdout.split("\n", 1)
    return {n: (v, Path(where)) for n, (v, where) in json.loads(first).items()}, json.loads(direct_url)


@pytest.mark.skipif(os.environ.get("CNNKIT_PIP_TESTS") != "1",
                    reason="installs packages with pip from a package index: set CNNKIT_PIP_TESTS=1 (CI does)")
@pytest.mark.parametrize("keras_before", [OLD_KERAS, None], ids=["keras-older-than-the-bound", "keras-new-enough"])
def test_colab_branch_installs_cnnkit_and_upgrades_only_an_old_keras(tmp_path, keras_before):
    from cnnkit.doctor import TESTED, _release

    assert _release(OLD_KERAS) < _release(TESTED["Keras"][0])
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True,
                            check=True).stdout.strip()
    python, own, base, env = _runtime(tmp_path)
    if keras_before:
        subprocess.run([str(python), "-m", "pip", "install", "-q", f"keras=={keras_before}"], env=env, check=True)
    out = subprocess.run([str(python), "-c", "import importlib.metadata as m; print(m.version('keras'), m.version('tensorflow'))"],
                         capture_output=True, text=True, env=env, cwd=tmp_path, check=True).stdout.split()
    before = {"keras": out[0], "tensorflow": out[1]}
    if keras_before:
        assert before["keras"] == keras_before

    setup = next(c.source for c in nbformat.read(ROOT / "notebooks" / "00_setup_check.ipynb", as_version=4).cells
                 if c.cell_type == "code" and colab.colab_block(c.source))
    cell = "import sys\n\n" + colab.with_install_source(colab.colab_block(setup), f"file://localhost{ROOT}", commit)
    (tmp_path / "cell.ipy").write_text(cell)
    (tmp_path / "run_cell.py").write_text(RUN_CELL)
    run = subprocess.run([str(python), str(tmp_path / "run_cell.py"), str(tmp_path / "cell.ipy")],
                         capture_output=True, text=True, env=env, cwd=tmp_path)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]

    after, direct_url = _versions(python, env, tmp_path)
    assert after["cnnkit"][1] == own  # installed into the runtime, from this checkout's commit
    assert direct_url["url"] == f"file://localhost{ROOT}" and direct_url["vcs_info"]["commit_id"] == commit
    assert after["tensorflow"] == (before["tensorflow"], base)  # TensorFlow left alone
    if keras_before:  # older than the bound: upgraded, in the runtime
        assert after["keras"][1] == own and _release(after["keras"][0]) >= _release(TESTED["Keras"][0])
    else:  # new enough: left alone
        assert after["keras"] == (before["keras"], base)
