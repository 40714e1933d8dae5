"""Test-suite settings shared by the unit tests and nbval (notebook kernels inherit this environment)."""

import os
import tempfile

# Reduced mode: every notebook runs on a CPU in about a minute. Wrong exercise answers fail loudly.
os.environ.setdefault("CNNKIT_QUICK", "1")
os.environ.setdefault("CNNKIT_STRICT_CHECKS", "1")
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# Models that notebooks save for later ones (05 -> 07) go to a folder of this test session, not the checkout.
os.environ.setdefault("CNNKIT_MODELS", tempfile.mkdtemp(prefix="cnnkit-models-"))

# Kernels work in notebooks/: CNNKIT_DATA=../shared/data must mean the folder seen from here. (Imported
# after the settings above, which importing cnnkit would otherwise pre-empt.)
from cnnkit.config import pin_data_root  # noqa: E402

pin_data_root()
