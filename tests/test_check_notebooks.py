"""scripts/check_notebooks.py: the CI check that notebooks are committed without outputs."""

import importlib.util
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("check_notebooks", ROOT / "scripts" / "check_notebooks.py")
check = importlib.util.module_from_spec(spec)
spec.loader.exec_module(check)


def write(path, outputs=(), count=None):
    cell = nbformat.v4.new_code_cell("1 + 1", outputs=list(outputs), execution_count=count)
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# t"), cell]), path)
    return str(path)


def test_stripped_notebook_passes(tmp_path, capsys):
    assert check.main([write(tmp_path / "a.ipynb")]) == 0
    assert "1 notebook(s)" in capsys.readouterr().out


def test_outputs_and_execution_counts_fail(tmp_path, capsys):
    out = nbformat.v4.new_output("execute_result", data={"text/plain": "2"}, execution_count=1)
    assert check.main([write(tmp_path / "a.ipynb", outputs=[out])]) == 1
    assert "cell 1 has stored outputs" in capsys.readouterr().err
    assert check.main([write(tmp_path / "b.ipynb", count=3)]) == 1
    assert "cell 1 has an execution count" in capsys.readouterr().err


def test_no_arguments_checks_the_course_notebooks(capsys):
    assert check.main([]) == 0
    n = len(list((ROOT / "notebooks").glob("*.ipynb")))
    assert n >= 7 and f"{n} notebook(s)" in capsys.readouterr().out
