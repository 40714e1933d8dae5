"""The student edition of the notebooks: the instructor notebooks with every solution removed.

Instructor notebooks (``notebooks/``) hold the solutions. In them:

* a cell tagged ``exercise`` contains the learner's task, a ``# HINT: ...`` line and the solution
  between ``### BEGIN SOLUTION`` and ``### END SOLUTION``; the student edition replaces those lines
  with ``raise NotImplementedError("<exercise title>. Hint: <hint>")`` and tags the cell
  ``raises-exception``;
* a cell tagged ``solution`` (a worked answer in prose or code) is removed;
* the **Open in Colab** badge opens the published student notebook (``student/`` in the course
  repository, see :mod:`cnnkit.colab`) instead of the instructor's.

``python -m cnnkit student-edition OUT_DIR`` writes the student notebooks. The repository publishes
them in ``student/``, so that the badges work; :func:`stale_student_notebooks` says whether that
folder still matches ``notebooks/``.
"""

from __future__ import annotations

from pathlib import Path

import nbformat

from .colab import STUDENT_FOLDER, point_badges_at

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
EXERCISE_TAG, SOLUTION_TAG, RAISES_TAG = "exercise", "solution", "raises-exception"


def _tags(cell) -> list:
    return list(cell.get("metadata", {}).get("tags", []))


def strip_solution(source: str, where: str = "") -> str:
    """Replace every solution block of an exercise cell's source with a polite NotImplementedError."""
    lines = source.split("\n")
    title = next((ln.lstrip("# ").strip() for ln in lines if ln.lstrip().startswith("# Exercise")), "This exercise")
    hint = " ".join(ln.split("HINT:", 1)[1].strip() for ln in lines if "# HINT:" in ln)
    message = f"{title.rstrip('.')}. " + (f"Hint: {hint}" if hint else "Replace this line with your code.")
    out, inside, found = [], False, False
    for line in lines:
        stripped = line.strip()
        if stripped == BEGIN:
            if inside:
                raise ValueError(f"{where}: nested {BEGIN}")
            inside, found = True, True
            indent = line[: len(line) - len(line.lstrip())]
            out.append(f"{indent}raise NotImplementedError({message!r})")
        elif stripped == END:
            if not inside:
                raise ValueError(f"{where}: {END} without {BEGIN}")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise ValueError(f"{where}: {BEGIN} without {END}")
    if not found:
        raise ValueError(f"{where}: an exercise cell needs a {BEGIN} ... {END} block")
    return "\n".join(out)


def student_notebook(nb, where: str = ""):
    """A copy of ``nb`` with solutions removed (see the module docstring)."""
    nb = nbformat.from_dict(nb)
    cells = []
    for i, cell in enumerate(nb.cells):
        tags = _tags(cell)
        if SOLUTION_TAG in tags:
            continue
        if cell.cell_type == "code" and EXERCISE_TAG in tags:
            cell.source = strip_solution(cell.source, f"{where} cell {i}")
            cell.metadata["tags"] = tags + ([RAISES_TAG] if RAISES_TAG not in tags else [])
        elif BEGIN in cell.source:
            raise ValueError(f"{where} cell {i}: a solution block outside a cell tagged '{EXERCISE_TAG}'")
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        cells.append(cell)
    nb.cells = cells
    return point_badges_at(nb, STUDENT_FOLDER)


def leaked_solutions(nb) -> list:
    """Indices of cells in a student notebook that still hold a solution (should be empty)."""
    return [i for i, c in enumerate(nb.cells) if BEGIN in c.source or END in c.source or SOLUTION_TAG in _tags(c)]


def write_student_edition(src_dir, out_dir, overwrite: bool = False) -> list:
    """Write the student edition of every ``*.ipynb`` in ``src_dir`` into ``out_dir``; return the paths."""
    src_dir, out_dir = Path(src_dir), Path(out_dir)
    sources = sorted(src_dir.glob("*.ipynb"))
    if not sources:
        raise FileNotFoundError(f"No notebooks in {src_dir}")
    if src_dir.resolve() == out_dir.resolve():
        raise ValueError("The student edition must go to another folder than the instructor notebooks.")
    targets = [out_dir / p.name for p in sources]
    existing = [t for t in targets if t.exists()]
    if existing and not overwrite:
        raise FileExistsError(f"{len(existing)} notebook(s) already in {out_dir} (e.g. {existing[0].name}); "
                              "pass --force to overwrite them.")
    out_dir.mkdir(parents=True, exist_ok=True)
    for src, target in zip(sources, targets):
        student = student_notebook(nbformat.read(src, as_version=4), where=src.name)
        assert not leaked_solutions(student)
        nbformat.write(student, target)
    return targets


def _content(nb) -> list:
    return [(c.cell_type, c.source, sorted(c.get("metadata", {}).get("tags", []))) for c in nb.cells]


def stale_student_notebooks(src_dir="notebooks", student_dir=STUDENT_FOLDER) -> list:
    """Why the published student edition in ``student_dir`` differs from ``src_dir`` (empty if it does not).

    One short line per difference: a notebook missing, left over, or with other cells than
    :func:`student_notebook` makes of its instructor notebook.
    """
    src_dir, student_dir = Path(src_dir), Path(student_dir)
    sources = {p.name: p for p in sorted(src_dir.glob("*.ipynb"))}
    published = {p.name: p for p in sorted(student_dir.glob("*.ipynb"))}
    out = [f"{student_dir / name} is missing" for name in sources if name not in published]
    out += [f"{student_dir / name} has no instructor notebook in {src_dir}; delete it"
            for name in published if name not in sources]
    for name in sorted(set(sources) & set(published)):
        expected = student_notebook(nbformat.read(sources[name], as_version=4), where=name)
        if _content(expected) != _content(nbformat.read(published[name], as_version=4)):
            out.append(f"{student_dir / name} differs from what {src_dir / name} gives")
    return out
