"""Check that every notebook follows the course template and is stored without outputs.

    python scripts/check_notebooks.py notebooks/*.ipynb        # check (no arguments: the same)
    nbstripout notebooks/*.ipynb                               # fix stored outputs

The template (see README, "Repository layout"):

1. The first cell starts with the only H1, ``# NN · Title`` (NN = the file name's number), and holds the
   Colab badge for this file, ``**What you will learn**`` and ``**Prerequisites:**``.
2. ``## Setup`` comes next, and right after it the first code cell: it installs cnnkit on Colab only
   (``"google.colab" in sys.modules``), imports, seeds (``cnnkit.set_seed``) and reports the environment
   (``cnnkit.env_report``).
3. Then numbered sections ``## 1 · Title``, ``## 2 · Title``... in order; subsections are free
   (``### Title``), or numbered after their section (``### 4.1 · Title``).
4. Where a notebook follows an article, its mistakes are listed in section 1, ``## 1 · What the … got wrong``
   (no other section may be titled so).
5. Exercises are ``### Exercise N · Title``, numbered from 1; each is followed by exactly one code cell
   tagged ``exercise`` and then by a code cell that calls a checker (``nbNN.check_…`` or
   ``exercises.check_…``); no ``exercise`` cell stands outside an exercise.
6. ``## Summary`` ends the numbered sections; only ``## Where to go next`` may follow it.
7. Code cells carry no outputs and no execution counts (``nbstripout`` removes them).
8. At most 5,000 words of Markdown (``WORD_LIMIT``; about 25 minutes of reading at 200 words a minute),
   counted as the course counts them: each Markdown cell's text split at white space. Notebooks named in
   ``OVER_WORD_LIMIT_FOR_NOW`` are over it today and being cut: for them the check only prints a note (and
   fails once one is within the limit, so that it leaves the set). Empty the set to check every notebook.
"""

import re
import sys
from pathlib import Path

import nbformat

from cnnkit.workshop import markdown_words

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"

SECTION = re.compile(r"^## (\d+) · \S")
SUBSECTION = re.compile(r"^### (\d+)\.(\d+) · \S")
EXERCISE = re.compile(r"^### Exercise (\d+) · \S")
CHECKER = re.compile(r"\b(nb\d\d|exercises)\.check_\w+\(")
FINAL = ("## Summary", "## Where to go next")
WORD_LIMIT = 5_000
# Notebooks over WORD_LIMIT today, whose owners are cutting them (file stems): checked as soon as they leave.
OVER_WORD_LIMIT_FOR_NOW: set[str] = set()  # none: every notebook is within the limit


def _tags(cell):
    return cell.get("metadata", {}).get("tags", [])


def headings(nb):
    """``(cell index, level, text)`` of every Markdown heading, fenced code blocks skipped."""
    out = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "markdown":
            continue
        fenced = False
        for line in cell.source.splitlines():
            if line.lstrip().startswith("```"):
                fenced = not fenced
            m = re.match(r"^(#{1,6}) ", line)
            if m and not fenced:
                out.append((i, len(m.group(1)), line.rstrip()))
    return out


def template_problems(nb, name, label=None, folder="notebooks"):
    """Where ``nb`` (file name ``name``) departs from the course template, one sentence each, starting ``label:``.

    ``folder`` is where the badge must point: ``notebooks`` for the course, ``student`` for the student edition.
    """
    where = f"{label or name}:"
    found = []
    if not nb.cells or nb.cells[0].cell_type != "markdown":
        return [f"{where} the first cell must be Markdown with the title"]
    first = nb.cells[0].source
    number = name[:2]
    if not re.match(rf"^# {re.escape(number)} · \S", first):
        found.append(f"{where} the first line must be the title '# {number} · Title'")
    if f"/{folder}/{name})" not in first or "colab-badge.svg" not in first:
        found.append(f"{where} the first cell needs the Open-in-Colab badge linking to {folder}/{name}")
    for label in ("**What you will learn**", "**Prerequisites:**"):
        if label not in first:
            found.append(f"{where} the first cell needs {label}")
    heads = headings(nb)
    h1 = [h for h in heads if h[1] == 1]
    if len(h1) != 1:
        found.append(f"{where} {len(h1)} H1 headings; the title must be the only one")

    # Setup, then the setup code cell
    h2 = [h for h in heads if h[1] == 2]
    code = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    if not h2 or h2[0][2] != "## Setup":
        found.append(f"{where} the first section must be '## Setup'")
    else:
        setup_cell = h2[0][0]
        if not code or code[0] != setup_cell + 1:
            found.append(f"{where} the setup code cell must directly follow '## Setup' and be the first code cell")
        else:
            src = nb.cells[code[0]].source
            for needle, what in (('"google.colab" in sys.modules', "install cnnkit on Colab only"),
                                 ("set_seed(", "seed (cnnkit.set_seed)"), ("env_report(", "report the environment")):
                if needle not in src:
                    found.append(f"{where} the setup cell must {what}")

    # numbered sections, Summary, Where to go next
    expected, section, finals = 1, 0, []
    for i, _, text in h2[1:]:
        if finals or text in FINAL:
            finals.append(text)
            continue
        m = SECTION.match(text)
        if not m:
            found.append(f"{where} cell {i}: '{text}' is not a numbered section '## {expected} · Title'")
        elif int(m.group(1)) != expected:
            found.append(f"{where} cell {i}: '{text}' should be section {expected}")
        if "got wrong" in text and expected != 1:
            found.append(f"{where} cell {i}: the article's mistakes belong in section 1")
        number = re.match(r"^## (\d+)", text)
        expected = int(number.group(1)) + 1 if number else expected + 1
    if not finals or finals[0] != "## Summary":
        found.append(f"{where} '## Summary' must follow the numbered sections")
    if finals[1:] not in ([], ["## Where to go next"]):
        found.append(f"{where} only '## Where to go next' may follow '## Summary', found {finals[1:]}")

    # subsections and exercises
    section, exercise = 0, 0
    owner = {}  # cell index of a heading -> exercise number
    for i, level, text in heads:
        if level == 2:
            m = SECTION.match(text)
            section = int(m.group(1)) if m else section
        if level != 3:
            continue
        if text.startswith("### Exercise"):
            exercise += 1
            m = EXERCISE.match(text)
            if not m:
                found.append(f"{where} cell {i}: '{text}' must read '### Exercise {exercise} · Title'")
            elif int(m.group(1)) != exercise:
                found.append(f"{where} cell {i}: '{text}' should be exercise {exercise}")
            owner[i] = exercise
        elif re.match(r"^### \d", text):
            m = SUBSECTION.match(text)
            if not m or int(m.group(1)) != section:
                found.append(f"{where} cell {i}: '{text}' must read '### {section}.N · Title' (or drop the number)")
    heading_cells = sorted({i for i, _, _ in heads})
    for i, n in owner.items():
        stop = next((j for j in heading_cells if j > i), len(nb.cells))
        tagged = [j for j in range(i + 1, stop) if nb.cells[j].cell_type == "code" and "exercise" in _tags(nb.cells[j])]
        if len(tagged) != 1:
            found.append(f"{where} exercise {n} needs exactly one code cell tagged 'exercise' before the next heading")
            continue
        after = next((j for j in range(tagged[0] + 1, len(nb.cells)) if nb.cells[j].cell_type == "code"), None)
        if after is None or not CHECKER.search(nb.cells[after].source):
            found.append(f"{where} exercise {n}: the code cell after the exercise must call its checker (nbNN.check_...)")
    claimed = set()
    for i in owner:
        stop = next((j for j in heading_cells if j > i), len(nb.cells))
        claimed.update(range(i + 1, stop))
    for j, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and "exercise" in _tags(cell) and j not in claimed:
            found.append(f"{where} cell {j} is tagged 'exercise' but has no '### Exercise N · Title' heading")
    return found


def word_problems(nb, name, label=None, limit=WORD_LIMIT, for_now=None):
    """``(problems, notes)`` about the length of ``nb`` (file name ``name``): a problem when it has more than
    ``limit`` words of Markdown, or when it is one of ``for_now`` (default ``OVER_WORD_LIMIT_FOR_NOW``) but no
    longer over the limit; a note for one of ``for_now`` that is still over it."""
    for_now = OVER_WORD_LIMIT_FOR_NOW if for_now is None else for_now
    where, stem = f"{label or name}:", Path(name).stem
    words = markdown_words(nb)
    over = words > limit
    if stem in for_now:
        if over:
            return [], [f"{where} {words:,} words of Markdown, over the limit of {limit:,} (allowed for now: "
                        "it is in OVER_WORD_LIMIT_FOR_NOW)"]
        return [f"{where} {words:,} words of Markdown, within the limit of {limit:,} now: remove {stem!r} from "
                "OVER_WORD_LIMIT_FOR_NOW in scripts/check_notebooks.py"], []
    if over:
        return [f"{where} {words:,} words of Markdown, over the course's limit of {limit:,} (about 25 minutes of "
                "reading): cut repetition, refer back to earlier notebooks, or move side topics out"], []
    return [], []


def problems(path, notes=None):
    """Every problem of the notebook at ``path``: stored outputs, and departures from the template."""
    nb = nbformat.read(path, as_version=4)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        if cell.get("outputs"):
            yield f"{path}: cell {i} has stored outputs"
        if cell.get("execution_count") is not None:
            yield f"{path}: cell {i} has an execution count"
    folder = "student" if Path(path).parent.name == "student" else "notebooks"
    yield from template_problems(nb, Path(path).name, str(path), folder=folder)
    found, noted = word_problems(nb, Path(path).name, str(path))
    yield from found
    if notes is not None:
        notes.extend(noted)


def main(paths):
    paths = paths or sorted(str(p) for p in NOTEBOOKS.glob("*.ipynb"))
    if not paths:
        print(f"no notebooks found in {NOTEBOOKS}", file=sys.stderr)
        return 1
    notes = []
    found = [p for path in paths for p in problems(path, notes)]
    for line in notes:
        print(f"note: {line}")
    for line in found:
        print(line, file=sys.stderr)
    if found:
        if any("stored outputs" in line or "execution count" in line for line in found):
            print("Strip outputs with:  nbstripout notebooks/*.ipynb", file=sys.stderr)
        return 1
    print(f"{len(paths)} notebook(s) follow the template, are stored without outputs and, but for the notes "
          f"above, have at most {WORD_LIMIT:,} words of Markdown")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
