"""The student edition of the notebooks, and the Colab ref every Setup cell installs.

Instructor notebooks (``notebooks/``) hold the solutions. In them:

* a cell tagged ``exercise`` contains the learner's task, a ``# HINT: ...`` line and the solution
  between ``### BEGIN SOLUTION`` and ``### END SOLUTION``; the student edition replaces those lines
  with ``raise NotImplementedError("<exercise title>. Hint: <hint>")`` and tags the cell
  ``raises-exception``;
* a cell tagged ``solution`` (a worked answer in prose or code) is removed.

``python -m cnnkit student-edition OUT_DIR`` writes the student notebooks.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat

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
    return nb


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


# --------------------------------------------------------------------------------------------------
# Colab


_REF_LINE = re.compile(r'COURSE_REPO, COURSE_REF = "([^"]*)", "([^"]*)"')
_BADGE = re.compile(r"colab\.research\.google\.com/github/([^/]+/[^/]+)/blob/([^/]+)/notebooks/")


def course_repository(pyproject="pyproject.toml") -> tuple[str, str]:
    """``(repository URL, ref)`` from ``[tool.cnnkit]`` in pyproject.toml: the one place they are set."""
    text = Path(pyproject).read_text(encoding="utf-8")  # tomllib is 3.11+; these two lines are simple
    section = text.split("[tool.cnnkit]", 1)[1].split("\n[", 1)[0]
    values = dict(re.findall(r'(?m)^(repository|colab_ref) = "([^"]*)"$', section))
    return values["repository"], values["colab_ref"]


def colab_settings(nb) -> list:
    """Every ``(repository, ref)`` pair a notebook names, in its Setup cell and its Colab badge."""
    found = []
    for cell in nb.cells:
        for repo, ref in _REF_LINE.findall(cell.source):
            found.append((repo, ref))
        for slug, ref in _BADGE.findall(cell.source):
            found.append((f"https://github.com/{slug}", ref))
    return found


def set_colab_ref(ref: str, notebooks_dir="notebooks", pyproject="pyproject.toml") -> list:
    """Set the ref in pyproject.toml and in every notebook's Setup cell and badge; return changed files."""
    if not re.fullmatch(r"[A-Za-z0-9._/-]+", ref):
        raise ValueError(f"not a git ref: {ref!r}")
    repo, _ = course_repository(pyproject)
    slug = repo.removeprefix("https://github.com/")
    changed = []
    text = Path(pyproject).read_text(encoding="utf-8")
    new = re.sub(r'(?m)^colab_ref = ".*"$', f'colab_ref = "{ref}"', text)
    if new != text:
        Path(pyproject).write_text(new, encoding="utf-8")
        changed.append(Path(pyproject))
    for path in sorted(Path(notebooks_dir).glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        before = [c.source for c in nb.cells]
        for cell in nb.cells:
            cell.source = _REF_LINE.sub(f'COURSE_REPO, COURSE_REF = "{repo}", "{ref}"', cell.source)
            cell.source = _BADGE.sub(f"colab.research.google.com/github/{slug}/blob/{ref}/notebooks/", cell.source)
        if [c.source for c in nb.cells] != before:
            nbformat.write(nb, path)
            changed.append(path)
    return changed
