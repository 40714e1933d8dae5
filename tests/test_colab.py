"""cnnkit.colab: one place for the repository and ref; badges open the right folder."""

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
