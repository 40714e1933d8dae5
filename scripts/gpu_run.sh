#!/usr/bin/env bash
# Full-size runs of the training notebooks on a GPU machine, offline: the data comes from a folder you give
# (a cnnkit data root, e.g. a copy of data/ or of the offline pack with the full CIFAR-10 written by
# tools/cifar10_pickles.py into cifar-10/cifar-10-batches-py/); nothing is downloaded.
#
#   scripts/gpu_run.sh DATA_ROOT [NOTEBOOK ...]      # default: notebooks/05_cifar10_augmentation.ipynb
#
# Each notebook runs with `python -m cnnkit run-full`, which records a GPU run in results/<notebook>.json beside
# the CPU one (python -m cnnkit syllabus then fills the README's GPU column). Executed notebooks, with their
# logs and figures, go to ${EXECUTED:-gpu-executed}/. Notebook 05 alone is sized to finish within 10 minutes on
# one recent NVIDIA GPU (mixed float16 and XLA switch on by themselves there).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -lt 1 ] || [ ! -d "$1" ]; then
  echo "usage: scripts/gpu_run.sh DATA_ROOT [NOTEBOOK ...]   (DATA_ROOT must be an existing folder)" >&2
  exit 2
fi
export CNNKIT_DATA="$(cd "$1" && pwd)" CNNKIT_OFFLINE=1
shift
NOTEBOOKS=("$@")
[ ${#NOTEBOOKS[@]} -gt 0 ] || NOTEBOOKS=(notebooks/05_cifar10_augmentation.ipynb)
python - <<'PY'
import tensorflow as tf
gpus = tf.config.list_physical_devices("GPU")
print("GPUs:", gpus or "none: this script is for a GPU machine; the CPU figures come from run-full directly")
raise SystemExit(0 if gpus else 1)
PY
python -m cnnkit doctor || true   # which datasets are there (05 needs only cifar-10)
for nb in "${NOTEBOOKS[@]}"; do
  python -m cnnkit run-full --results results --executed "${EXECUTED:-gpu-executed}" "$nb"
done
python -m cnnkit syllabus
