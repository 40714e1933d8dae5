"""Reduced mode teaches: in the recorded reduced-mode runs (results/quick/, written on the course's 2-core CPU by
``python -m cnnkit run-full --quick --results results``) every model learns, each notebook's comparison goes the
way its lesson says, and every notebook runs within about three minutes."""

import json
from pathlib import Path

import pytest

from cnnkit.results import latest_run

QUICK = Path(__file__).resolve().parent.parent / "results" / "quick"
NOTEBOOKS = sorted(p.stem for p in (QUICK.parent.parent / "notebooks").glob("[0-9][0-9]_*.ipynb"))
MAX_SECONDS = 180


def _models(stem):
    run = latest_run(json.loads((QUICK / f"{stem}.json").read_text()), "cpu", mode="quick")
    assert run is not None, f"{stem}: no recorded reduced-mode run"
    return run, {m["model"]: m for m in run["models"]}


@pytest.mark.parametrize("stem", NOTEBOOKS)
def test_every_notebook_has_a_recorded_reduced_run_within_three_minutes(stem):
    run, _ = _models(stem)
    assert run["wall_seconds"] <= MAX_SECONDS, f"{stem}: {run['wall_seconds']:.0f} s in reduced mode"
    assert run["machine"]["cpu_count"] <= 2 and not run["machine"]["gpus"]  # the course's laptop-sized CPU


def _acc(models, name, key="test_accuracy"):
    assert name in models, f"no recorded model {name!r}; recorded: {sorted(models)}"
    return models[name][key]


def test_03_the_improved_blood_cell_model_learns_and_beats_the_articles():
    _, m = _models("03_blood_cells")
    assert _acc(m, "bn_gap_augment") >= 0.40  # chance: 25% (four classes)
    assert _acc(m, "bn_gap_augment") > _acc(m, "article_blood_cells")


def test_04_both_models_learn_and_the_improved_cnn_beats_lenet():
    _, m = _models("04_lenet_fashion_mnist")
    assert _acc(m, "lenet5") >= 0.80 and _acc(m, "fashion_cnn") >= 0.80  # chance: 10%
    assert _acc(m, "fashion_cnn") > _acc(m, "lenet5")


def test_05_the_fast_network_learns_beats_the_articles_and_tta_does_not_hurt():
    _, m = _models("05_cifar10_augmentation")
    assert _acc(m, "airbench") >= 0.60  # with test-time augmentation; chance: 10%
    assert _acc(m, "airbench") > _acc(m, "article_cifar10")
    assert _acc(m, "airbench") >= _acc(m, "airbench", "test_accuracy_without_tta")


def test_06_the_improved_cats_dogs_model_learns():
    _, m = _models("06_cats_vs_dogs_sigmoid")
    assert _acc(m, "cats_dogs_cnn") >= 0.60  # chance: 50%


def test_07_a_new_head_on_the_reused_cifar10_network_learns():
    _, m = _models("07_transfer_learning_and_gradcam")
    assert _acc(m, "cifar_transfer_head") >= 0.70  # chance: 50%
