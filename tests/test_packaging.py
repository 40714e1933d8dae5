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


def pyproject_packages():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return {_name(s) for s in project["dependencies"] + project["optional-dependencies"]["dev"]}


def conda_packages():
    names, in_deps = set(), False
    for line in (ROOT / "environment.yml").read_text().splitlines():
        if line.startswith("dependencies:"):
            in_deps = True
        elif in_deps and re.match(r"^  - [A-Za-z]", line):
            names.add(_name(line[4:]))
    return names - {"python", "pip", "pip:"}


def test_environment_yml_agrees_with_pyproject():
    assert conda_packages() == pyproject_packages()
    text = (ROOT / "environment.yml").read_text()
    assert "conda-forge" in text and "- -e ." in text
    assert re.search(r"tensorflow>=2\.16", text)


def test_readme_quick_start_has_two_commands():
    readme = (ROOT / "README.md").read_text()
    block = readme.split("## Quick start", 1)[1].split("```", 2)[1]
    commands = [ln for ln in block.splitlines()[1:] if ln.strip() and not ln.startswith("#")]
    assert commands == ['pip install -e ".[dev]" && jupyter lab notebooks/', "pytest"]


def test_every_notebook_has_title_badge_setup_and_summary():
    from cnnkit.student import colab_settings, course_repository

    repo, ref = course_repository(ROOT / "pyproject.toml")
    notebooks = sorted((ROOT / "notebooks").glob("*.ipynb"))
    assert [p.name[:2] for p in notebooks][:1] == ["00"]
    for path in notebooks:
        nb = nbformat.read(path, as_version=4)
        md = [c.source for c in nb.cells if c.cell_type == "markdown"]
        assert sum(line.startswith("# ") for text in md for line in text.splitlines()) == 1, path.name
        assert "colab-badge.svg" in md[0] and path.name in md[0], path.name
        assert set(colab_settings(nb)) == {(repo, ref)}, path.name  # one ref, set in pyproject.toml
        code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
        assert 'if "google.colab" in sys.modules' in code and "cnnkit.set_seed(" in code, path.name
        assert "cnnkit.env_report()" in code, path.name
