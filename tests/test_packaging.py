"""environment.yml and pyproject.toml list the same packages; README and notebooks keep their promises."""

import re
from pathlib import Path

try:
    import tomllib
except ImportError:  # Python 3.10: pytest depends on tomli there
    import tomli as tomllib

import nbformat

ROOT = Path(__file__).resolve().parent.parent


def _name(spec: str) -> str:
    return re.split(r"[<>=!~ \[;]", spec.strip(), maxsplit=1)[0].lower().replace("_", "-")


def _spec(spec: str) -> tuple:
    """(name, version bound) of a requirement such as ``keras>=3.9``."""
    name = _name(spec)
    return name, spec.strip()[len(name):].replace(" ", "")


def pyproject_specs():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return {_spec(s) for s in project["dependencies"] + project["optional-dependencies"]["dev"]}


def conda_specs():
    specs, in_deps = set(), False
    for line in (ROOT / "environment.yml").read_text().splitlines():
        if line.startswith("dependencies:"):
            in_deps = True
        elif in_deps and re.match(r"^  - [A-Za-z]", line):
            specs.add(_spec(line[4:]))
    return {s for s in specs if s[0] not in {"python", "pip", "pip:"}}


def test_environment_yml_agrees_with_pyproject():
    assert conda_specs() == pyproject_specs()  # the same packages, with the same lower bounds
    text = (ROOT / "environment.yml").read_text()
    assert "conda-forge" in text and "- -e ." in text


# (what the code uses, package, the first release that has it; evidence)
NEEDS = [
    (r"\bkeras\b", "tensorflow", "2.16"),  # TensorFlow 2.16 is the first whose tf.keras is Keras 3
    (r"RandomErasing\(", "keras", "3.9"),  # new in Keras 3.9.0 (release notes; 3.8.0 has no such layer)
    (r'layout="constrained"', "matplotlib", "3.5"),  # Figure(layout=...): Matplotlib 3.5.0 API changes
    (r"set_[xy]ticks\([^)\n]*, [^)\n]*\)", "matplotlib", "3.5"),  # set_ticks(ticks, labels): 3.5.0 what's new
    (r"classification_report\([^)]*zero_division", "scikit-learn", "0.22.1"),  # honoured since 0.22.1
    (r"dataset_download\([^)]*output_dir=", "kagglehub", "0.4.3"),  # kagglehub 0.4.3 changelog
    # keras.utils.set_random_seed resets unseeded keras.random draws from 3.13.0 on (3.12.4 does not, with
    # TensorFlow 2.16.1: tests/test_config.py::test_set_seed_makes_runs_repeatable; scripts/lowest_versions.sh)
    (r"keras\.utils\.set_random_seed\(", "keras", "3.13"),
    # pyplot before 3.9.0 imports IPython.core.pylabtools.backend2gui, gone in IPython 9 (a kernel with
    # MPLBACKEND=Agg fails at the first plot with 3.8.4; scripts/lowest_versions.sh)
    (r"matplotlib\.pyplot", "matplotlib", "3.9"),
    # TensorFlow 2.16.x computes convolutions wrongly (even NaN) with "same" padding and a kernel larger than
    # the image; 2.17.0 does not (tests/test_ops.py::test_conv2d_matches_tf_nn_conv2d)
    (r"Conv2D\(", "tensorflow", "2.17"),
]


def _version(text: str) -> tuple:
    return tuple(int(p) for p in text.split("."))


def test_lower_bounds_cover_what_the_code_uses():
    bounds = dict(pyproject_specs())
    sources = [p.read_text() for p in (ROOT / "cnnkit").rglob("*.py")]
    for path in (ROOT / "notebooks").glob("*.ipynb"):
        sources += [c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]
    code = "\n".join(sources)
    for pattern, package, first in NEEDS:
        if re.search(pattern, code):
            bound = bounds.get(package, "")
            assert bound.startswith(">=") and _version(bound[2:]) >= _version(first), (
                f"the code uses {pattern!r}, which needs {package}>={first}; pyproject.toml says {package}{bound}")


def _quick_start_commands():
    readme = (ROOT / "README.md").read_text()
    block = readme.split("## Quick start", 1)[1].split("```", 2)[1]
    lines = [ln.split("  #")[0].strip() for ln in block.splitlines()[1:]]
    return [ln for ln in lines if ln and not ln.startswith("#")]


def test_readme_quick_start_uses_a_venv_and_reduced_mode():
    assert _quick_start_commands() == [
        "python3 -m venv .venv && . .venv/bin/activate",
        'pip install -e ".[dev]"',
        "python -m cnnkit preflight",
        "CNNKIT_QUICK=1 jupyter lab student/",  # a learner starts in the student edition, not the solutions
    ]
    start = (ROOT / "README.md").read_text().split("## Quick start", 1)[1].split("\n## ", 1)[0]
    assert ".venv\\Scripts\\activate" in start and "conda env create -f environment.yml" in start
    assert "$env:CNNKIT_QUICK=1; jupyter lab student/" in start  # the Windows form of reduced mode
    assert "second terminal" in start and "`pytest`" in start  # Jupyter holds the first one
    assert "2.7 GB" in start and "1.1 GB" in start  # the install's and the datasets' sizes


def test_every_notebook_has_title_badge_setup_and_summary():
    from cnnkit.colab import badge_folders, colab_settings, course_repository

    repo, ref = course_repository(ROOT / "pyproject.toml")
    notebooks = sorted((ROOT / "notebooks").glob("*.ipynb"))
    assert [p.name[:2] for p in notebooks][:1] == ["00"]
    for path in notebooks:
        nb = nbformat.read(path, as_version=4)
        md = [c.source for c in nb.cells if c.cell_type == "markdown"]
        assert sum(line.startswith("# ") for text in md for line in text.splitlines()) == 1, path.name
        assert "colab-badge.svg" in md[0] and path.name in md[0], path.name
        assert set(colab_settings(nb)) == {(repo, ref)}, path.name  # one ref, set in pyproject.toml
        assert badge_folders(nb) == {"notebooks"}, path.name
        code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
        assert 'if "google.colab" in sys.modules' in code and "cnnkit.set_seed(" in code, path.name
        assert "cnnkit.env_report()" in code, path.name


def _bound(spec: str) -> str:
    assert spec.startswith(">=") and "," not in spec, f"expected one lower bound, got {spec!r}"
    return spec[2:]


def test_doctor_tested_range_starts_at_the_bounds():
    from cnnkit.doctor import SUPPORTED_PYTHON, TESTED, _release

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    bounds = {_name(s): _spec(s)[1] for s in project["dependencies"]}
    for name, package in (("TensorFlow", "tensorflow"), ("Keras", "keras")):
        first, last = TESTED[name]
        assert _release(_bound(bounds[package])) == _release(first), (name, bounds[package], first)
        assert _release(first) <= _release(last)
    assert _bound(project["requires-python"]) == SUPPORTED_PYTHON[0]
    assert SUPPORTED_PYTHON[0] <= TESTED["Python"][0] <= TESTED["Python"][1] <= SUPPORTED_PYTHON[1]


def test_lowest_versions_log_tested_the_bounds():
    """results/lowest_versions.log (scripts/lowest_versions.sh) installed every bound exactly, and passed."""
    from cnnkit.doctor import TESTED, _release

    log = (ROOT / "results" / "lowest_versions.log").read_text()
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    installed = dict(re.findall(r"(?m)^  (\S+) +(\S+) +\(pyproject\.toml: ", log))
    assert set(installed) == {_name(s) for s in project["dependencies"]}
    for spec in project["dependencies"]:
        name, bound = _spec(spec)
        assert _release(installed[name]) == _release(_bound(bound)), f"the log installed {name} {installed[name]}, not {spec}"
    python = re.search(r"(?m)^# Python: Python (\d+\.\d+)", log).group(1)
    assert TESTED["Python"][0] <= python <= TESTED["Python"][1]
    latest = dict(re.findall(r"(?m)^  (tensorflow|keras) +(\S+)$", log.split("== the latest set", 1)[1]))
    assert (latest["tensorflow"], latest["keras"]) == (TESTED["TensorFlow"][1], TESTED["Keras"][1])
    summary = log.split("== pytest ", 1)[1]
    assert "notebooks/01_" in summary.splitlines()[0] and "notebooks/04_" in summary.splitlines()[0]
    result = re.findall(r"(?m)^=+ (.*) in [\d.]+s", summary)[-1]  # pytest's last line: "976 passed, 3 skipped"
    assert "passed" in result and "failed" not in result and "error" not in result, result
    assert summary.rstrip().endswith("pytest exit status: 0")
