"""TensorFlow's start-up notices: one place that keeps them out of notebooks and the command line.

When TensorFlow 2.21 loads, it prints these lines twice, straight to file descriptor 2::

    WARNING: All log messages before absl::InitializeLog() is called are written to STDERR
    I0000 ... port.cc:153] oneDNN custom operations are on. You may see slightly different numerical ...
    I0000 ... cudart_stub.cc:31] Could not find cuda drivers on your machine, GPU will not be used.

They are information, not errors. ``TF_CPP_MIN_LOG_LEVEL`` does not silence them: Abseil writes every
message logged before ``absl::InitializeLog()`` to stderr, whatever the level (abseil-cpp pull request
#1957 proposes to change that). ``TF_ENABLE_ONEDNN_OPTS=0`` would remove the oneDNN line only by switching
oneDNN off, which changes the computation, so cnnkit leaves it on.

Two more lines come from TensorFlow's own logging, which ``TF_CPP_MIN_LOG_LEVEL`` does control, but only if
it is set before TensorFlow loads: the ``cpu_feature_guard`` note that the binary could use more CPU
instructions (level 0, information) and, on a machine without a GPU driver, ``E0000 ... failed call to
cuInit`` when TensorFlow first looks for a GPU (level 2, error). ``import cnnkit`` sets the level to 3 unless
you chose one, which removes both, but a notebook that imports ``keras`` or ``tensorflow`` before ``cnnkit``
sets it too late.

So every notebook's Setup cell starts its imports with ``import cnnkit.quiet``: importing this module
imports TensorFlow through :func:`import_tensorflow`, after ``cnnkit`` has set the level, and drops exactly
the notices above; everything else TensorFlow prints still shows. Where cnnkit owns the process
(``python -m cnnkit doctor``, ``run-full``) the same function is used. Notebook 00 tells a learner what
they may still see (other lines, e.g. on a GPU machine, or all of them with ``TF_CPP_MIN_LOG_LEVEL`` set
lower by hand).
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import sys
import tempfile

NOTICES = re.compile(
    r"WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR"
    r"|I\d{4} [\d:.]+ +\d+ port\.cc:\d+\] oneDNN custom operations are on\..*"
    r"|I\d{4} [\d:.]+ +\d+ cudart_stub\.cc:\d+\] Could not find cuda drivers on your machine, GPU will not be used\."
)


def drop_notices(text: str) -> str:
    """``text`` without the lines that are TensorFlow's known start-up notices (see the module docstring)."""
    return "".join(line for line in text.splitlines(keepends=True) if not NOTICES.fullmatch(line.rstrip("\r\n")))


@contextlib.contextmanager
def notices_dropped():
    """Within the block, what is written to file descriptor 2 is held back; at its end, all of it except the
    start-up notices goes to stderr."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as held:
        os.dup2(held.fileno(), 2)
        try:
            yield
        finally:
            with contextlib.suppress(Exception):
                sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            held.seek(0)
            rest = drop_notices(held.read().decode("utf-8", errors="replace"))
            if rest:
                sys.stderr.write(rest)
                sys.stderr.flush()


def import_tensorflow():
    """``import tensorflow`` without its start-up notices; every other line it prints still shows."""
    if "tensorflow" not in sys.modules:
        with notices_dropped():
            import tensorflow  # noqa: F401
    return sys.modules["tensorflow"]


_RETRACING = "triggered tf.function retracing"


class _DropRetracingNotice(logging.Filter):
    def filter(self, record):
        return _RETRACING not in record.getMessage()


@contextlib.contextmanager
def retracing_notices_dropped():
    """Within the block, TensorFlow's warning "N out of the last M calls to <function ...> triggered tf.function
    retracing" is dropped; every other message still shows.

    Each Keras model traces its own training, evaluation and prediction functions once. TensorFlow counts the
    tracings of all functions made from the same code together, so code that trains or evaluates several new
    models in turn (notebook 05's ablation, its test-set evaluation of four models) gets this ~700-character
    warning although nothing is traced more than once per model.
    """
    logger = logging.getLogger("tensorflow")
    notice_filter = _DropRetracingNotice()
    logger.addFilter(notice_filter)
    try:
        yield
    finally:
        logger.removeFilter(notice_filter)


# Importing this module is how a notebook's Setup cell loads TensorFlow quietly (see the module docstring).
import_tensorflow()
