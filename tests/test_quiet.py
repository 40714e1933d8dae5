"""cnnkit.quiet: TensorFlow's start-up notices stay out of a notebook's Setup cell; every other line still shows."""

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from cnnkit import quiet

ROOT = Path(__file__).resolve().parent.parent
NOTICES = ("absl::InitializeLog", "oneDNN custom operations", "Could not find cuda drivers", "cpu_feature_guard",
           "failed call to cuInit")
SETUP_LINE = "import cnnkit.quiet  # first: TensorFlow then loads without its start-up notices (notebook 00)  # isort: skip"

KNOWN = """WARNING: All log messages before absl::InitializeLog() is called are written to STDERR
I0000 00:00:1796643330.224793    4980 port.cc:153] oneDNN custom operations are on. You may see slightly \
different numerical results due to floating-point round-off errors from different computation orders. To turn \
them off, set the environment variable `TF_ENABLE_ONEDNN_OPTS=0`.
I0000 00:00:1796643330.225829    4980 cudart_stub.cc:31] Could not find cuda drivers on your machine, GPU will \
not be used.
"""


def test_drop_notices_drops_exactly_the_known_lines():
    other = "E0000 00:00:1796643334.289158    4980 some_file.cc:52] a real error\nplain text\n"
    assert quiet.drop_notices(KNOWN + other + KNOWN) == other
    assert quiet.drop_notices(KNOWN) == ""
    # a line that only contains a notice's words is not a notice
    assert quiet.drop_notices("see: oneDNN custom operations are on.\n") == "see: oneDNN custom operations are on.\n"


def _environment(**changes):
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    env.update(changes)
    return env


def test_setup_line_in_a_fresh_process_prints_no_notice():
    """As a learner's kernel starts: no TF_CPP_MIN_LOG_LEVEL of their own, keras imported after the line."""
    code = ("import cnnkit.quiet\nimport keras\nimport tensorflow as tf\nimport sys\n"
            "tf.config.list_physical_devices('GPU')\nimport os\nos.write(2, b'a real warning\\n')")
    err = subprocess.run([sys.executable, "-c", code], env=_environment(), capture_output=True, text=True,
                         check=True).stderr
    assert not [n for n in NOTICES if n in err], err
    assert "a real warning" in err


def test_a_level_chosen_by_hand_is_kept():
    code = "import cnnkit.quiet, os\nprint(os.environ['TF_CPP_MIN_LOG_LEVEL'])"
    out = subprocess.run([sys.executable, "-c", code], env=_environment(TF_CPP_MIN_LOG_LEVEL="1"),
                         capture_output=True, text=True, check=True).stdout
    assert out.strip() == "1"


def test_setup_cells_of_notebooks_start_with_the_line():
    """The line comes before anything that loads TensorFlow (keras, tensorflow, cnnkit's submodules)."""
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        setup = next(c.source for c in nb.cells if c.cell_type == "code" and "google.colab" in c.source)
        lines = setup.splitlines()
        assert SETUP_LINE in lines, path.name
        first_import = next(i for i, ln in enumerate(lines) if ln.startswith(("import ", "from ")) and ln != "import sys")
        assert lines[first_import] == SETUP_LINE, path.name


@pytest.mark.skipif(os.name != "posix", reason="the kernel's stderr as a learner sees it; POSIX is enough")
def test_setup_cell_in_a_real_kernel_shows_no_stderr(tmp_path):
    """What a learner sees under notebook 01's Setup cell: the environment report and nothing on stderr."""
    from nbclient import NotebookClient

    nb = nbformat.read(ROOT / "notebooks" / "01_pixels_and_convolution.ipynb", as_version=4)
    setup = next(c for c in nb.cells if c.cell_type == "code" and "google.colab" in c.source)
    run = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(setup.source)])
    old = dict(os.environ)
    os.environ.pop("TF_CPP_MIN_LOG_LEVEL", None)
    os.environ["PYTHONPATH"] = os.pathsep.join([str(ROOT), old.get("PYTHONPATH", "")])
    try:
        NotebookClient(run, timeout=600, kernel_name="python3",
                       resources={"metadata": {"path": str(ROOT / "notebooks")}}).execute()
    finally:
        os.environ.clear()
        os.environ.update(old)
    outputs = run.cells[0].outputs
    assert [o for o in outputs if o.output_type == "stream" and o.name == "stderr"] == [], outputs
    assert any("TensorFlow" in o.get("text", "") for o in outputs)
