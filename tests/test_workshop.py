"""The workshop kit's budgets and schedules come from the notebooks and the recorded reduced-mode runs."""

import json
import re

import nbformat
import pytest

from cnnkit import cli, workshop
from cnnkit.data import DataNotFoundError

ROOT = workshop.Path(__file__).resolve().parent.parent


def _notebook(path, markdown, exercises=0):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(text) for text in markdown]
    nb.cells += [nbformat.v4.new_markdown_cell(f"### Exercise {i + 1} · Build it") for i in range(exercises)]
    nb.cells.append(nbformat.v4.new_code_cell("x = 'words in code do not count'"))
    nbformat.write(nb, path)
    return path


def _quick_run(results, stem, seconds):
    (results / "quick").mkdir(parents=True, exist_ok=True)
    doc = {"notebook": f"notebooks/{stem}.ipynb", "runs": [{"mode": "quick", "device": "cpu", "wall_seconds": seconds}]}
    (results / "quick" / f"{stem}.json").write_text(json.dumps(doc))


def test_words_and_exercises_are_counted(tmp_path):
    path = _notebook(tmp_path / "01_x.ipynb", ["# 01 · Title\n\nfour words here", "two  words"], exercises=2)
    nb = workshop.json.loads(path.read_text())
    nb["cells"][1]["source"] = "two  words\n\n### Exercise 3 · Inside a cell"  # a heading below other text counts
    path.write_text(workshop.json.dumps(nb))
    assert workshop.markdown_words(path) == 7 + 2 + 7 + 2 * 6  # "### Exercise 3 · Inside a cell": seven words
    assert workshop.exercise_count(path) == 3


def test_budget_adds_reading_running_and_exercises(tmp_path):
    b = workshop.Budget("03_x", words=2_000, exercises=3, run_seconds=90)
    assert b.reading_minutes == 2_000 / workshop.READING_WPM
    assert b.exercise_minutes == 3 * workshop.EXERCISE_MINUTES
    total = 2_000 / workshop.READING_WPM + 1.5 + 3 * workshop.EXERCISE_MINUTES
    assert b.minutes % 5 == 0 and total <= b.minutes < total + 5
    assert workshop.Budget("00_x", 0, 0, None).minutes == 0


def test_budgets_read_the_quick_runs(tmp_path):
    nbs, results = tmp_path / "nb", tmp_path / "results"
    nbs.mkdir()
    _notebook(nbs / "00_a.ipynb", ["one two three"])
    _notebook(nbs / "01_b.ipynb", ["one"], exercises=1)
    _quick_run(results, "01_b", 42.0)
    plan = workshop.budgets(nbs, results)
    assert [(b.notebook, b.words, b.exercises, b.run_seconds) for b in plan] == [("00_a", 3, 0, None),
                                                                               ("01_b", 7, 1, 42.0)]
    assert "| 00 a | 3 | 0 min | not measured | 0 (0 min) | 5 min |" in workshop.kit_tables(nbs, results)


def _minutes(span):
    start, end = span.split("-")
    return [int(t[:2]) * 60 + int(t[3:]) for t in (start, end)]


def test_one_day_in_order_with_breaks_and_the_rest_as_homework():
    plan = [workshop.Budget(f"0{i}_nb{i}", 0, 9, None) for i in range(6)]  # 90 min each
    (rows,) = workshop.schedule(plan, days=1)
    taught = [s for t, s in rows if s.startswith("0")]
    assert taught == [f"0{i} nb{i}" for i in range(4)]  # 6 h of teaching fit 4 of them
    assert rows[-1] == ("after the day", "homework: 04 nb4, 05 nb5")
    spans = [_minutes(t) for t, _ in rows[:-1]]
    assert all(a[1] == b[0] for a, b in zip(spans, spans[1:]))  # no gaps, no overlaps
    assert spans[0][0] == workshop.DAY_START and spans[-1][1] <= workshop.DAY_END
    assert {"Break", "Lunch"} <= {s for _, s in rows}


def test_two_days_share_the_notebooks_in_order():
    plan = [workshop.Budget(f"0{i}_nb{i}", 0, 6, None) for i in range(8)]  # 60 min each
    days = workshop.schedule(plan, days=2)
    taught = [[s for _, s in rows if s[:2].isdigit() and s[2] == " "] for rows in days]
    assert taught[0] + taught[1] == [f"0{i} nb{i}" for i in range(8)]
    assert abs(len(taught[0]) - len(taught[1])) <= 1
    assert not any("homework" in s for rows in days for _, s in rows)


def test_the_kit_is_up_to_date():
    assert not workshop.update_kit(ROOT / "docs" / "workshop.md", ROOT / "notebooks", ROOT / "results", check=True), \
        "docs/workshop.md is out of date: run  python -m cnnkit workshop"
    assert cli.main(["workshop", "--check", "--kit", str(ROOT / "docs" / "workshop.md"),
                     "--notebooks", str(ROOT / "notebooks"), "--results", str(ROOT / "results")]) == 0


def test_update_kit_needs_its_markers(tmp_path):
    kit = tmp_path / "kit.md"
    kit.write_text("no markers here")
    with pytest.raises(ValueError, match="markers"):
        workshop.update_kit(kit, ROOT / "notebooks", ROOT / "results")
    assert kit.read_text() == "no markers here"


def test_preflight_trains_a_model_that_learns(pack, capsys):
    report = workshop.preflight()
    assert report["ok"] and report["accuracy"] >= 0.6 and report["images"] == 3_000
    assert re.search(r"Pre-flight: LeNet-5 trained on 3,000 Fashion-MNIST images .* ready for the course",
                     capsys.readouterr().out)


def test_preflight_without_data_says_what_is_missing(data_root, capsys):
    with pytest.raises(DataNotFoundError):
        workshop.preflight()
    assert cli.main(["preflight"]) == 1
    assert "fashion-mnist" in capsys.readouterr().err.lower()


def test_two_days_split_where_the_days_come_closest():
    minutes = [5, 60, 60, 80, 70, 70, 80, 65]  # budgets like the course's: 205 + 285 or 275 + 215 minutes
    plan = [workshop.Budget(f"0{i}_nb{i}", m * workshop.READING_WPM, 0, None) for i, m in enumerate(minutes)]
    assert [b.minutes for b in plan] == minutes
    days = workshop.schedule(plan, days=2)
    taught = [[s for _, s in rows if s[:2].isdigit() and s[2] == " "] for rows in days]
    assert taught[0] == [f"0{i} nb{i}" for i in range(5)]  # 275 vs 215 minutes, not 205 vs 285
