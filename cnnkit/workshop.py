"""Planning a workshop from measurements: each notebook's time budget, the schedules, and a pre-flight check.

A notebook's *budget* for a group is the sum of three figures, each shown separately:

* reading: the words of its Markdown cells at :data:`READING_WPM` words a minute;
* running: its recorded reduced-mode wall time on the course's 2-core CPU (``results/quick/``, written by
  ``python -m cnnkit run-full --quick --results results``);
* exercises: :data:`EXERCISE_MINUTES` per exercise, a planning allowance rather than a measurement.

:func:`update_kit` writes the budget table and the one- and two-day schedules built from it into
``docs/workshop.md`` (between markers), so the kit changes when a notebook or a measurement does; a test
fails when they disagree. :func:`preflight` trains a small model on a participant's laptop before the day.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

from .runner import replace_between

# Brysbaert (2019), "How many words do we read per minute? A review and meta-analysis of reading rate",
# Journal of Memory and Language 109: silent reading of English non-fiction averages 238 words a minute.
# Technical prose with code beside it is slower, so the course plans with 200.
READING_WPM = 200
EXERCISE_MINUTES = 10  # minutes allowed per exercise in a workshop (an allowance, not a measurement)

START, END = "<!-- workshop:start -->", "<!-- workshop:end -->"
DAY_START, DAY_END = 9 * 60, 16 * 60 + 30  # 09:00-16:30
BREAKS = ((10 * 60 + 15, 15, "Break"), (12 * 60, 60, "Lunch"), (14 * 60 + 45, 15, "Break"))  # (not before, minutes)


def _cells(notebook) -> list:
    if isinstance(notebook, (str, Path)):
        return json.loads(Path(notebook).read_text(encoding="utf-8"))["cells"]
    return notebook["cells"]  # a notebook already read (nbformat's or json's)


def markdown_words(notebook) -> int:
    """Words in the Markdown cells of ``notebook`` (a path, or a notebook already read), split at white space:
    the course's measure of a notebook's length (at most 5,000, checked by ``scripts/check_notebooks.py``)."""
    return sum(len("".join(c["source"]).split()) for c in _cells(notebook) if c["cell_type"] == "markdown")


def exercise_count(notebook) -> int:
    """Exercises in ``notebook`` (a path, or a notebook already read): its Markdown headings ``### Exercise N · ...``, wherever they
    stand in a cell."""
    return sum(1 for c in _cells(notebook) if c["cell_type"] == "markdown"
               for line in "".join(c["source"]).splitlines() if re.match(r"### Exercise \d+ · ", line))


@dataclass(frozen=True)
class Budget:
    """One notebook's workshop budget; ``run_seconds`` is None when no reduced-mode run is recorded."""

    notebook: str
    words: int
    exercises: int
    run_seconds: float | None

    @property
    def reading_minutes(self) -> float:
        return self.words / READING_WPM

    @property
    def exercise_minutes(self) -> int:
        return self.exercises * EXERCISE_MINUTES

    @property
    def minutes(self) -> int:
        """The whole budget in minutes, rounded up to a multiple of 5."""
        total = self.reading_minutes + (self.run_seconds or 0) / 60 + self.exercise_minutes
        return 5 * math.ceil(total / 5)


def budgets(notebooks_dir="notebooks", results_dir="results") -> list[Budget]:
    """The budget of every notebook in ``notebooks_dir``, in course order, with reduced-mode times from
    ``results_dir/quick``."""
    from .results import latest_run

    out = []
    for nb in sorted(Path(notebooks_dir).glob("[0-9][0-9]_*.ipynb")):
        quick = Path(results_dir) / "quick" / f"{nb.stem}.json"
        run = latest_run(json.loads(quick.read_text(encoding="utf-8")), "cpu", mode="quick") if quick.is_file() else None
        out.append(Budget(nb.stem, markdown_words(nb), exercise_count(nb), run["wall_seconds"] if run else None))
    return out


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _title(stem: str) -> str:
    number, _, rest = stem.partition("_")
    return f"{number} {rest.replace('_', ' ')}"


def _day(todo: list[Budget]) -> tuple[list[tuple[str, str]], list[Budget]]:
    """One day's rows from the front of ``todo`` (notebooks in order, breaks between them), and what is left."""
    todo = list(todo)
    rows, now, taken = [], DAY_START, set()
    while todo:
        for i, (not_before, length, label) in enumerate(BREAKS):
            if i not in taken and now >= not_before:
                rows.append((f"{_clock(now)}-{_clock(now + length)}", label))
                now += length
                taken.add(i)
        if now + todo[0].minutes > DAY_END:
            break
        b = todo.pop(0)
        rows.append((f"{_clock(now)}-{_clock(now + b.minutes)}", _title(b.notebook)))
        now += b.minutes
    if DAY_END - now >= 15:
        rest = "questions, full-size results, projects" + ("" if len(taken) == len(BREAKS) else " (and the breaks)")
        rows.append((f"{_clock(now)}-{_clock(DAY_END)}", rest))
    return rows, todo


def schedule(plan: list[Budget], days: int = 1) -> list[list[tuple[str, str]]]:
    """Sessions for ``days`` days of :data:`DAY_START`-:data:`DAY_END`, notebooks in course order, each
    given its whole budget, breaks between notebooks. One day takes notebooks until the day is full and
    lists the rest as homework; several days share the notebooks out as evenly as they fit. Returns one
    list of ``(time, session)`` rows a day."""
    if days == 1:
        rows, left = _day(plan)
        if left:
            rows.append(("after the day", "homework: " + ", ".join(_title(b.notebook) for b in left)))
        return [rows]
    total = sum(b.minutes for b in plan)
    out, todo = [], list(plan)
    for day in range(days):
        share = total * (day + 1) / days  # this day ends where the running total comes closest to this share
        done = total - sum(b.minutes for b in todo)
        take = 0
        while take < len(todo) and (day == days - 1 or take == 0
                                    or abs(done + todo[take].minutes - share) < abs(done - share)):
            done += todo[take].minutes
            take += 1
        rows, left = _day(todo[:take])
        out.append(rows)
        todo = left + todo[take:]
    if todo:
        out[-1].append(("after the days", "homework: " + ", ".join(_title(b.notebook) for b in todo)))
    return out


def _minutes_run(seconds) -> str:
    return "not measured" if seconds is None else f"{seconds:.0f} s"


def kit_tables(notebooks_dir="notebooks", results_dir="results") -> str:
    """The budget table and both schedules, as the Markdown that :func:`update_kit` writes."""
    plan = budgets(notebooks_dir, results_dir)
    lines = [f"Each notebook's budget: its Markdown at {READING_WPM} words a minute, its recorded reduced-mode "
             f"run on the course's 2-core CPU, and {EXERCISE_MINUTES} minutes per exercise, rounded up to 5 "
             "minutes (generated by `python -m cnnkit workshop` from the notebooks and `results/quick/`).",
             "", "| Notebook | Words | Reading | Reduced-mode run | Exercises | Budget |", "|---|---|---|---|---|---|"]
    for b in plan:
        lines.append(f"| {_title(b.notebook)} | {b.words:,} | {b.reading_minutes:.0f} min | {_minutes_run(b.run_seconds)} | "
                     f"{b.exercises} ({b.exercise_minutes} min) | {b.minutes} min |")
    for days, heading in ((1, "**One day**"), (2, "**Two days**")):
        lines += ["", heading, ""]
        for d, rows in enumerate(schedule(plan, days), start=1):
            lines += ([f"Day {d}:", ""] if days > 1 else []) + ["| Time | Session |", "|---|---|"]
            lines += [f"| {t} | {s} |" for t, s in rows] + [""]
        lines.pop()
    return "\n".join(lines)


def update_kit(kit="docs/workshop.md", notebooks_dir="notebooks", results_dir="results", check: bool = False) -> bool:
    """Replace the generated part of the workshop kit (between its markers); return True if it changed (or
    would, with ``check``)."""
    return replace_between(kit, START, END, kit_tables(notebooks_dir, results_dir), check)


def preflight(images: int = 3_000, epochs: int = 3, file=None) -> dict:
    """Train LeNet-5 (notebook 04's model) on ``images`` Fashion-MNIST training images for ``epochs``
    epochs and test it on 1,000 test images: a laptop that passes can run the course in reduced mode.

    Prints the time and the accuracy, and returns them with ``ok`` (accuracy at least 60%; chance is 10%).
    Raises :class:`cnnkit.data.DataNotFoundError` with its one-line message when the data is missing.
    """
    import sys

    import keras

    from . import data, models
    from .config import set_seed
    from .results import timer

    file = file or sys.stdout
    set_seed(0)
    (x, y), (x_test, y_test) = data.load_fashion_mnist(limit=images)
    model = models.lenet5()
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    with timer() as t:
        model.fit(x, y, batch_size=64, epochs=epochs, verbose=0)
    _, accuracy = model.evaluate(x_test[:1_000], y_test[:1_000], verbose=0)
    ok = accuracy >= 0.60
    print(f"Pre-flight: LeNet-5 trained on {len(x):,} Fashion-MNIST images for {epochs} epochs in {t.seconds:.1f} s; "
          f"test accuracy {accuracy:.1%} on 1,000 images (chance 10%): "
          + ("ready for the course." if ok else "it did not learn; see the workshop kit's common errors."), file=file)
    return {"seconds": t.seconds, "accuracy": float(accuracy), "images": len(x), "epochs": epochs, "ok": bool(ok)}
