#!/usr/bin/env bash
# The lowest versions that pyproject.toml's bounds allow, installed and tested: a fresh virtual environment
# gets every runtime dependency at its declared lower bound (uv's `--resolution lowest-direct`, wheels only:
# what a learner's pip can install without a compiler), their own dependencies at the newest versions that
# fit, and the dev tools (pytest, nbval, ...) at their newest; then the unit tests and notebooks 01 and 04 run
# in reduced mode. Everything goes to the log (results/lowest_versions.log by default).
#
#   CNNKIT_DATA=/path/to/data scripts/lowest_versions.sh             # the unit tests, notebooks 01 and 04
#   CNNKIT_DATA=... scripts/lowest_versions.sh tests/test_ops.py    # or what you name (quick checks)
#
# Settings (environment): LOWEST_DIR (work folder, default /tmp/cnnkit-lowest: the venv, uv, the lock),
# LOWEST_LOG (the log), LOWEST_PYTHON (the interpreter, default python3), LATEST_PYTHON (an interpreter
# whose environment is the "latest" tested set: its versions go into the log too; optional).
# Needs a package index (PyPI) for uv and the packages. Heavy: run it with `nice -n 10` on a shared machine.
set -euo pipefail

# The whole script is this function, which bash reads before it runs: editing the file during a run cannot
# change that run.
main() {
cd "$(dirname "$0")/.."
ROOT="$PWD"

WORK="${LOWEST_DIR:-/tmp/cnnkit-lowest}"
LOG="${LOWEST_LOG:-results/lowest_versions.log}"
PY="${LOWEST_PYTHON:-python3}"
# tests/test_packaging.py::test_lowest_versions_log_tested_the_bounds checks the log this run writes: left out.
[ "$#" -gt 0 ] || set -- tests notebooks/01_pixels_and_convolution.ipynb notebooks/04_lenet_fashion_mnist.ipynb \
  --deselect tests/test_packaging.py::test_lowest_versions_log_tested_the_bounds
if [ -z "${CNNKIT_DATA:-}" ] || [ ! -d "$CNNKIT_DATA" ]; then
  echo "Set CNNKIT_DATA to a data root (the offline data pack will do)." >&2
  exit 1
fi
export CNNKIT_DATA="$(cd "$CNNKIT_DATA" && pwd)"
export CNNKIT_OFFLINE=1 CNNKIT_QUICK=1 MPLBACKEND=Agg TF_CPP_MIN_LOG_LEVEL=2 PIP_DISABLE_PIP_VERSION_CHECK=1
export UV_CACHE_DIR="${UV_CACHE_DIR:-$WORK/uv-cache}"
unset PYTHONPATH VIRTUAL_ENV

mkdir -p "$WORK" "$(dirname "$LOG")"
rm -f "$LOG"  # a new file: output still coming from an earlier run goes to the old one
exec > >(tee "$LOG") 2>&1
echo "# scripts/lowest_versions.sh at commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD 2>/dev/null || echo ' (with uncommitted changes)'), $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "# $(uname -sm), $(nproc) CPU cores; CNNKIT_DATA=$CNNKIT_DATA"

# uv in a venv of its own (not in the environment under test)
if [ ! -x "$WORK/tool/bin/uv" ]; then
  "$PY" -m venv "$WORK/tool"
  "$WORK/tool/bin/python" -m pip install -q uv
fi
UV="$WORK/tool/bin/uv"
echo "# $("$UV" --version)"

# 1. The lowest runtime set: pyproject.toml's dependencies at their lower bounds, wheels only.
rm -rf "$WORK/venv"
"$PY" -m venv "$WORK/venv"
VPY="$WORK/venv/bin/python"
echo "# Python: $("$VPY" -V 2>&1)"
"$UV" pip compile pyproject.toml --resolution lowest-direct --only-binary :all: \
  --python "$VPY" --no-header --quiet -o "$WORK/lowest.txt"
# 2. Install it, cnnkit from this checkout and the dev tools (newest; the runtime set held by the lock).
"$UV" pip install --python "$VPY" --only-binary :all: -r "$WORK/lowest.txt"
"$UV" pip install --python "$VPY" -e ".[dev]" -c "$WORK/lowest.txt"
"$VPY" -m ipykernel install --sys-prefix --name python3 >/dev/null

echo
echo "== the lowest set: pyproject.toml's dependencies as installed"
"$VPY" - <<'PY'
import re

try:
    import tomllib
except ImportError:  # Python 3.10: pytest brings tomli
    import tomli as tomllib
from importlib.metadata import version

deps = tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]
for spec in deps:
    name = re.split(r"[<>=!~ \[;]", spec, maxsplit=1)[0]
    print(f"  {name:<14} {version(name):<10} (pyproject.toml: {spec})")
PY
echo "== everything in the environment"
"$UV" pip freeze --python "$VPY" | sed 's/^/  /'
if [ -n "${LATEST_PYTHON:-}" ]; then
  echo "== the latest set, for comparison: $LATEST_PYTHON ($("$LATEST_PYTHON" -V 2>&1))"
  "$LATEST_PYTHON" - <<'PY'
from importlib.metadata import version

for name in ("tensorflow", "keras", "numpy", "matplotlib", "scikit-learn", "scipy", "pillow", "kagglehub"):
    print(f"  {name:<14} {version(name)}")
PY
fi

echo
echo "== python -m cnnkit doctor"
(cd "$WORK" && "$VPY" -m cnnkit doctor) || echo "(doctor exit status $?)"

echo
echo "== pytest $*"
status=0
"$WORK/venv/bin/pytest" -p no:cacheprovider "$@" || status=$?
echo "pytest exit status: $status"
exit "$status"
}

main "$@"
