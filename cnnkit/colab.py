"""The Colab side of the notebooks: which repository and ref their Setup cells install, what their badges open.

Every notebook names the course repository twice: in its **Open in Colab** badge, and in its Setup cell,
which on Colab runs ``pip install "cnnkit @ git+{COURSE_REPO}@{COURSE_REF}"``. Both are set in one place,
``[tool.cnnkit]`` in ``pyproject.toml`` (:func:`course_repository`), and written into every notebook by
``python -m cnnkit colab-ref REF`` (:func:`set_colab_ref`).

The Colab-only branch of a Setup cell (:func:`colab_block`) is the same in every notebook; a test runs it as
Colab would, with the install source pointed at a local checkout (:func:`with_install_source`).

A badge opens ``<repository>/blob/<ref>/<folder>/<notebook>`` on Colab. The instructor notebooks
(``notebooks/``, with solutions) point at their own folder; the student edition points at the published
student notebooks in ``student/`` (:data:`STUDENT_FOLDER`), so a learner's badge never opens a solution.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat

INSTRUCTOR_FOLDER, STUDENT_FOLDER = "notebooks", "student"

_REF_LINE = re.compile(r'COURSE_REPO, COURSE_REF = "([^"]*)", "([^"]*)"')
_BADGE = re.compile(r"colab\.research\.google\.com/github/([^/\s]+/[^/\s]+)/blob/(\S+?)/(notebooks|student)/")
_VALID_REF = re.compile(r"[A-Za-z0-9._][A-Za-z0-9._/-]*")
COLAB_IF = 'if "google.colab" in sys.modules:'


def course_repository(pyproject="pyproject.toml") -> tuple[str, str]:
    """``(repository URL, ref)`` from ``[tool.cnnkit]`` in pyproject.toml: the one place they are set."""
    text = Path(pyproject).read_text(encoding="utf-8")  # tomllib is 3.11+; these two lines are simple
    section = text.split("[tool.cnnkit]", 1)[1].split("\n[", 1)[0]
    values = dict(re.findall(r'(?m)^(repository|colab_ref) = "([^"]*)"$', section))
    return values["repository"], values["colab_ref"]


def colab_block(source: str) -> str | None:
    """The Colab-only branch of a Setup cell's source: its ``if "google.colab" in sys.modules:`` line and the
    indented lines under it (None when the cell has no such branch)."""
    lines = source.splitlines()
    for i, line in enumerate(lines):
        if line.startswith(COLAB_IF):
            end = i + 1
            while end < len(lines) and (lines[end].startswith((" ", "\t")) or not lines[end].strip()):
                end += 1
            return "\n".join(lines[i:end]).rstrip() + "\n"
    return None


def with_install_source(block: str, repo: str, ref: str) -> str:
    """``block`` (a Colab branch) with its ``COURSE_REPO, COURSE_REF`` line set to ``repo`` and ``ref``."""
    new, n = _REF_LINE.subn(lambda _: f'COURSE_REPO, COURSE_REF = "{repo}", "{ref}"', block)
    if n != 1:
        raise ValueError(f"expected one COURSE_REPO, COURSE_REF line in the Colab branch, found {n}")
    return new


def colab_settings(nb) -> list:
    """Every ``(repository, ref)`` pair a notebook names, in its Setup cell and its Colab badge."""
    found = []
    for cell in nb.cells:
        for repo, ref in _REF_LINE.findall(cell.source):
            found.append((repo, ref))
        for slug, ref, _folder in _BADGE.findall(cell.source):
            found.append((f"https://github.com/{slug}", ref))
    return found


def badge_folders(nb) -> set:
    """The repository folders (``notebooks`` or ``student``) that a notebook's Colab badges open."""
    return {folder for cell in nb.cells for _slug, _ref, folder in _BADGE.findall(cell.source)}


def point_badges_at(nb, folder: str):
    """Make every Colab badge of ``nb`` (in place) open the notebook of the same name in ``folder``."""
    if folder not in (INSTRUCTOR_FOLDER, STUDENT_FOLDER):
        raise ValueError(f"folder must be {INSTRUCTOR_FOLDER!r} or {STUDENT_FOLDER!r}, got {folder!r}")
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = _BADGE.sub(lambda m: f"colab.research.google.com/github/{m.group(1)}/blob/{m.group(2)}/{folder}/",
                                     cell.source)
    return nb


def _set_ref(nb, repo: str, ref: str) -> None:
    slug = repo.removeprefix("https://github.com/")
    for cell in nb.cells:
        cell.source = _REF_LINE.sub(f'COURSE_REPO, COURSE_REF = "{repo}", "{ref}"', cell.source)
        cell.source = _BADGE.sub(lambda m: f"colab.research.google.com/github/{slug}/blob/{ref}/{m.group(3)}/",
                                 cell.source)


def set_colab_ref(ref: str, notebooks_dir="notebooks", pyproject="pyproject.toml", student_dir=None) -> list:
    """Set the ref in pyproject.toml and in every notebook's Setup cell and badge; return changed files.

    ``student_dir`` (the published student edition, ``student/`` beside ``notebooks/`` by default) gets the
    same ref when it exists.
    """
    if not _VALID_REF.fullmatch(ref) or ".." in ref:
        raise ValueError(f"not a git ref: {ref!r}")
    repo, _ = course_repository(pyproject)
    changed = []
    text = Path(pyproject).read_text(encoding="utf-8")
    new = re.sub(r'(?m)^colab_ref = ".*"$', f'colab_ref = "{ref}"', text)
    if new != text:
        Path(pyproject).write_text(new, encoding="utf-8")
        changed.append(Path(pyproject))
    student_dir = Path(notebooks_dir).parent / STUDENT_FOLDER if student_dir is None else Path(student_dir)
    folders = [Path(notebooks_dir)] + ([student_dir] if student_dir.is_dir() else [])
    for path in sorted(p for folder in folders for p in folder.glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        before = [c.source for c in nb.cells]
        _set_ref(nb, repo, ref)
        if [c.source for c in nb.cells] != before:
            nbformat.write(nb, path)
            changed.append(path)
    return changed
