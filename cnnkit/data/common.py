"""What every dataset module shares: the missing-data error, the offline switch, the download checks.

* :class:`DataNotFoundError`: one message saying which dataset is missing, where cnnkit looked and how to
  get it;
* :func:`offline`: ``CNNKIT_OFFLINE=1`` forbids every download;
* :func:`download_root`: the data root, checked before a download starts;
* :func:`kaggle_download`: a public Kaggle dataset, fetched with ``kagglehub`` into a temporary folder and
  moved into place only once it holds the expected data.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from .. import fetch
from ..config import DATA_ENV, data_root

OFFLINE_ENV = "CNNKIT_OFFLINE"


class DataNotFoundError(FileNotFoundError):
    """A dataset is not in the data root and could not be downloaded."""

    def __init__(self, dataset: str, folder, missing=(), reason: str = ""):
        self.dataset, self.folder, self.missing, self.reason = dataset, Path(folder), list(missing), reason
        lines = [f"The {dataset} dataset is not available.", f"  Looked in: {self.folder}"]
        if self.missing:
            shown = ", ".join(str(m) for m in self.missing[:6]) + (" ..." if len(self.missing) > 6 else "")
            lines.append(f"  Missing:   {shown}")
        if reason:
            lines.append(f"  Download:  {reason}")
        online = (f"  * with internet: unset {OFFLINE_ENV} (it forbids downloads) where you start Python or "
                  f"Jupyter, then run  python -m cnnkit download {dataset};" if offline() else
                  f"  * with internet: run  python -m cnnkit download {dataset}  (or just rerun this cell);")
        lines += [
            "How to fix it:",
            online,
            f"  * offline: set {DATA_ENV} to a folder that holds {dataset}/ (e.g. a USB copy of the data",
            "    root), in the shell before starting Jupyter, or with os.environ before importing cnnkit.",
        ]
        super().__init__("\n".join(lines))

    def __str__(self):  # FileNotFoundError would otherwise format (errno, strerror)
        return self.args[0]


def offline() -> bool:
    """True when ``CNNKIT_OFFLINE`` is set to 1 (or true, yes, on): no download is attempted."""
    return os.environ.get(OFFLINE_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


def download_root(dataset: str, folder: Path, missing) -> Path:
    """The data root, checked to be usable for a download of ``missing`` into ``folder``.

    Raises :class:`DataNotFoundError` when ``CNNKIT_DATA`` names a folder that does not exist, or when
    ``CNNKIT_OFFLINE=1`` forbids downloads.
    """
    root = data_root()
    env = os.environ.get(DATA_ENV, "").strip()
    if env and not root.exists():
        hint = " (a typo?)"
        if not Path(env).expanduser().is_absolute():
            hint = (f"; {env!r} is a relative path, taken from the working directory {Path.cwd()} "
                    "(a notebook runs in its own folder): use an absolute path")
        raise DataNotFoundError(dataset, folder, missing, reason=f"{DATA_ENV} points to {root}, which does not exist{hint}")
    if offline():
        raise DataNotFoundError(dataset, folder, missing, reason=f"{OFFLINE_ENV}=1 forbids downloads")
    return root


def kaggle_download(handle: str, base: Path, find, expected: str) -> None:
    """Download a public Kaggle dataset with kagglehub into a temporary folder beside ``base``, check that
    ``find`` locates the data in it, then move it to ``base`` (which is absent or empty). On any failure the
    temporary folder is removed and nothing else is touched."""
    import kagglehub

    base.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(fetch.make_temp_dir(base.parent, f".{base.name}.download-"))
    try:
        kagglehub.dataset_download(handle, output_dir=str(staging))
        if find(staging) is None:
            raise fetch.DownloadError(f"the Kaggle download of {handle} has no {expected}")
        if not base.exists():
            os.replace(staging, base)
            return
        for entry in staging.iterdir():
            os.replace(entry, base / entry.name)
        staging.rmdir()
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
