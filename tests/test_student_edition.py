"""The student edition: solutions removed, exercises fail politely, each notebook runs up to its first one."""

import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from cnnkit import cli, colab, student

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
EXERCISE = '''# Exercise 2: compute the output size
# HINT: use the formula from the section above
x = 3
### BEGIN SOLUTION
answer = (x + 2) // 1
### END SOLUTION
print(answer)'''


def test_strip_solution():
    out = student.strip_solution(EXERCISE)
    assert "answer = (x + 2)" not in out and "BEGIN" not in out and "x = 3" in out
    assert "raise NotImplementedError('Exercise 2: compute the output size. Hint: use the formula" in out
    with pytest.raises(NotImplementedError, match="Hint"):
        exec(compile(out, "cell", "exec"), {})
    indented = "def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION"
    assert "    raise NotImplementedError(" in student.strip_solution(indented)
    for broken in ("### BEGIN SOLUTION\nx", "x\n### END SOLUTION", "no markers"):
        with pytest.raises(ValueError):
            student.strip_solution(broken)


def test_student_notebook_removes_solution_cells_and_tags_exercises():
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# T"),
        nbformat.v4.new_code_cell(EXERCISE, metadata={"tags": ["exercise"]}),
        nbformat.v4.new_markdown_cell("The answer is 5", metadata={"tags": ["solution"]}),
    ])
    out = student.student_notebook(nb)
    assert len(out.cells) == 2 and out.cells[1].metadata["tags"] == ["exercise", "raises-exception"]
    assert student.leaked_solutions(out) == [] and student.leaked_solutions(nb) == [1, 2]
    stray = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(EXERCISE)])
    with pytest.raises(ValueError, match="outside a cell tagged"):
        student.student_notebook(stray)


def test_every_notebook_has_three_exercises():
    for path in NOTEBOOKS:
        if path.name.startswith("00_"):
            continue
        nb = nbformat.read(path, as_version=4)
        exercises = [c for c in nb.cells if "exercise" in c.metadata.get("tags", [])]
        assert len(exercises) >= 3, f"{path.name} has {len(exercises)} exercises"


@pytest.fixture(scope="module")
def edition(tmp_path_factory):
    out = tmp_path_factory.mktemp("student")
    assert cli.main(["student-edition", str(out / "nb"), "--notebooks", str(ROOT / "notebooks")]) == 0
    return out / "nb"


def test_generation_writes_every_notebook_without_solutions(edition):
    written = sorted(p.name for p in edition.glob("*.ipynb"))
    assert written == [p.name for p in NOTEBOOKS]
    for path in edition.glob("*.ipynb"):
        assert student.leaked_solutions(nbformat.read(path, as_version=4)) == []
    with pytest.raises(FileExistsError):
        student.write_student_edition(ROOT / "notebooks", edition)


@pytest.mark.parametrize("name", [p.name for p in NOTEBOOKS if not p.name.startswith("00_")])
def test_student_notebook_runs_up_to_its_first_exercise(edition, name):
    nb = nbformat.read(edition / name, as_version=4)
    first = next(i for i, c in enumerate(nb.cells) if "exercise" in c.metadata.get("tags", []))
    nb.cells = nb.cells[: first + 1]
    nb.cells[first].metadata["tags"] = ["exercise"]  # make its error visible to the test
    client = NotebookClient(nb, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(ROOT / "notebooks")}})
    with pytest.raises(CellExecutionError) as err:
        client.execute()
    assert "NotImplementedError" in str(err.value) and "Hint" in str(err.value)
    # every cell before the exercise ran without error
    assert all(o.get("output_type") != "error" for c in nb.cells[:first] for o in c.get("outputs", []))
    assert os.environ.get("CNNKIT_QUICK") == "1"


def test_colab_ref_is_set_in_one_place(tmp_path):
    import shutil

    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    shutil.copytree(ROOT / "notebooks", tmp_path / "notebooks")
    shutil.copytree(ROOT / "student", tmp_path / "student")
    changed = colab.set_colab_ref("v9.9", tmp_path / "notebooks", tmp_path / "pyproject.toml")
    assert len(changed) == 1 + 2 * len(NOTEBOOKS)  # pyproject.toml, notebooks/ and the published student/
    repo, ref = colab.course_repository(tmp_path / "pyproject.toml")
    assert ref == "v9.9"
    for path in [*(tmp_path / "notebooks").glob("*.ipynb"), *(tmp_path / "student").glob("*.ipynb")]:
        assert set(colab.colab_settings(nbformat.read(path, as_version=4))) == {(repo, "v9.9")}
    assert student.stale_student_notebooks(tmp_path / "notebooks", tmp_path / "student") == []
    for bad in ("bad ref; rm -rf", "../x", "-v"):
        with pytest.raises(ValueError):
            colab.set_colab_ref(bad, tmp_path / "notebooks", tmp_path / "pyproject.toml")


def test_student_badges_open_the_student_notebooks(edition):
    for path in edition.glob("*.ipynb"):
        nb = nbformat.read(path, as_version=4)
        assert colab.badge_folders(nb) == {"student"}, path.name  # never the instructor notebook
        assert f"/student/{path.name})" in nb.cells[0].source
    for path in NOTEBOOKS:
        assert colab.badge_folders(nbformat.read(path, as_version=4)) == {"notebooks"}, path.name


def test_published_student_edition_is_up_to_date():
    stale = student.stale_student_notebooks(ROOT / "notebooks", ROOT / "student")
    assert stale == [], ("the published student edition in student/ is out of date: run  python -m cnnkit "
                         f"student-edition student --force  (and delete notebooks it says to): {stale}")
    for path in (ROOT / "student").glob("*.ipynb"):
        assert student.leaked_solutions(nbformat.read(path, as_version=4)) == [], path.name


def test_stale_student_notebooks_names_each_difference(tmp_path):
    src = tmp_path / "notebooks"
    src.mkdir()
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(EXERCISE, metadata={"tags": ["exercise"]})])
    nbformat.write(nb, src / "01_a.ipynb")
    nbformat.write(nb, src / "02_b.ipynb")
    student.write_student_edition(src, tmp_path / "student")
    assert student.stale_student_notebooks(src, tmp_path / "student") == []
    nb.cells[0].source = EXERCISE.replace("x = 3", "x = 4")
    nbformat.write(nb, src / "01_a.ipynb")
    (tmp_path / "student" / "02_b.ipynb").rename(tmp_path / "student" / "03_c.ipynb")
    stale = student.stale_student_notebooks(src, tmp_path / "student")
    assert len(stale) == 3 and "01_a.ipynb differs" in stale[2]
    assert "02_b.ipynb is missing" in stale[0] and "03_c.ipynb has no instructor notebook" in stale[1]
