"""Test-suite settings shared by the unit tests and nbval (notebook kernels inherit this environment)."""

import os

# Reduced mode: every notebook runs on a CPU in about a minute. Wrong exercise answers fail loudly.
os.environ.setdefault("CNNKIT_QUICK", "1")
os.environ.setdefault("CNNKIT_STRICT_CHECKS", "1")
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
