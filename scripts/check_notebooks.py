"""Fail if a notebook carries outputs or execution counts (the course commits notebooks stripped).

    python scripts/check_notebooks.py notebooks/*.ipynb        # check (no arguments: the same)
    nbstripout notebooks/*.ipynb                               # fix
"""

import sys
from pathlib import Path

import nbformat

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def problems(path):
    nb = nbformat.read(path, as_version=4)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        if cell.get("outputs"):
            yield f"{path}: cell {i} has stored outputs"
        if cell.get("execution_count") is not None:
            yield f"{path}: cell {i} has an execution count"


def main(paths):
    paths = paths or sorted(str(p) for p in NOTEBOOKS.glob("*.ipynb"))
    if not paths:
        print(f"no notebooks found in {NOTEBOOKS}", file=sys.stderr)
        return 1
    found = [p for path in paths for p in problems(path)]
    for line in found:
        print(line, file=sys.stderr)
    if found:
        print("Strip them with:  nbstripout notebooks/*.ipynb", file=sys.stderr)
        return 1
    print(f"{len(paths)} notebook(s) stored without outputs")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
