"""Safe downloads, archive extraction and pickle reading.

* :func:`download` fetches with ``keras.utils.get_file`` (progress bar included) into a private
  temporary folder beside the destination, checks the SHA-256, and only then renames the file into
  place, so an interrupted or corrupted download never looks finished. A file whose checksum does not
  match is kept aside (``NAME.sha256-mismatch``) for inspection, never silently deleted.
* :func:`extract` unpacks a tar or zip archive into a temporary folder and renames it into place, and
  refuses members that would land outside the target (absolute paths, ``..``, links pointing out,
  device files), on every Python version cnnkit supports.
* :func:`load_pickle` reads a pickle with an unpickler that only knows the NumPy names the official
  CIFAR files use, so a tampered file cannot run code.
"""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import shutil
import stat
import tarfile
import zipfile
from pathlib import Path, PurePosixPath


class DownloadError(RuntimeError):
    """A download failed (no network, server error, checksum mismatch, read-only folder)."""


class UnsafeArchiveError(ValueError):
    """An archive member would be written outside the target folder."""


class UnsafePickleError(pickle.UnpicklingError):
    """A pickle asks for a Python object that is not on the allowlist."""


def sha256sum(path, chunk_size: int = 1 << 20) -> str:
    """The SHA-256 of a file, as 64 hex digits."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(chunk_size), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _set_aside(src: Path, target: Path) -> Path:
    """Rename ``src`` to ``target`` (or ``target.N`` if that is taken) and return it; nothing is deleted."""
    final, n = target, 1
    while final.exists():
        final = target.with_name(f"{target.name}.{n}")
        n += 1
    os.replace(src, final)
    return final


def download(url: str, dest, sha256: str | None = None, *, quiet: bool = False) -> Path:
    """Download ``url`` to ``dest`` and verify it; return ``dest``.

    If ``dest`` already exists and matches ``sha256`` nothing is fetched. An existing file that does
    not match is renamed to ``dest.sha256-mismatch`` (kept, not deleted) and fetched again.
    ``sha256=None`` skips the check; use it only where the publisher gives no checksum.
    """
    dest = Path(dest)
    if dest.exists():
        if sha256 is None or sha256sum(dest) == sha256:
            return dest
        kept = _set_aside(dest, dest.with_name(f"{dest.name}.sha256-mismatch"))
        if not quiet:
            print(f"{dest} did not match its SHA-256; kept it as {kept.name} and downloading again.")
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        part = Path(make_temp_dir(dest.parent, f".{dest.name}.part-"))
    except OSError as err:
        raise DownloadError(
            f"Cannot write to {dest.parent} ({err.strerror or err}). Make the folder writable, or "
            "point CNNKIT_DATA at a writable folder."
        ) from None
    try:
        import keras

        try:
            got = Path(
                keras.utils.get_file(
                    fname=dest.name, origin=url, cache_dir=str(part), cache_subdir="", file_hash=None
                )
            )
        except Exception as err:  # get_file raises a bare Exception on network errors
            raise DownloadError(f"Could not download {url}: {err}") from None
        if sha256 is not None:
            actual = sha256sum(got)
            if actual != sha256:
                kept = _set_aside(got, dest.with_name(f"{dest.name}.sha256-mismatch"))
                raise DownloadError(
                    f"The file downloaded from {url} is not the official one: its SHA-256 is {actual}, "
                    f"expected {sha256}. It was kept as {kept} for inspection; nothing was installed. "
                    "Try again (a proxy or a broken connection can cause this)."
                )
        os.replace(got, dest)
        return dest
    finally:
        shutil.rmtree(part, ignore_errors=True)



def make_temp_dir(parent: Path, prefix: str) -> str:
    """A new private folder inside ``parent`` (so that a later rename into place stays on one file system)."""
    import tempfile

    return tempfile.mkdtemp(prefix=prefix, dir=parent)


# --------------------------------------------------------------------------------------------------
# Archives


def _check_member_name(name: str) -> PurePosixPath:
    if not name or "\x00" in name:
        raise UnsafeArchiveError(f"archive member with an invalid name: {name!r}")
    posix = PurePosixPath(name.replace("\\", "/"))
    if posix.is_absolute() or (posix.parts and ":" in posix.parts[0]):
        raise UnsafeArchiveError(f"archive member with an absolute path: {name!r}")
    if ".." in posix.parts:
        raise UnsafeArchiveError(f"archive member that climbs out of the target folder: {name!r}")
    return posix


def _inside(base: Path, target: Path) -> bool:
    base = base.resolve()
    target = target.resolve()
    return target == base or base in target.parents


def _check_tar(tar: tarfile.TarFile, root: Path) -> list[tarfile.TarInfo]:
    members = []
    for m in tar.getmembers():
        rel = _check_member_name(m.name)
        if m.isdev() or m.isfifo() or m.ischr() or m.isblk():
            raise UnsafeArchiveError(f"archive member is a device or pipe: {m.name!r}")
        if m.issym() or m.islnk():
            link = m.linkname.replace("\\", "/")
            if PurePosixPath(link).is_absolute():
                raise UnsafeArchiveError(f"link with an absolute target: {m.name!r} -> {m.linkname!r}")
            base = root / rel.parent if m.issym() else root
            if not _inside(root, base / link):
                raise UnsafeArchiveError(f"link pointing outside the target: {m.name!r} -> {m.linkname!r}")
        members.append(m)
    return members


def extract(archive, dest) -> Path:
    """Extract a ``.tar``, ``.tar.gz``/``.tgz`` or ``.zip`` archive into the folder ``dest``.

    Everything is checked before anything is written. Extraction happens in a temporary folder that
    is renamed to ``dest`` at the end, so a half-finished extraction never looks complete. ``dest``
    must not exist yet (nothing of the user's is overwritten).
    """
    archive, dest = Path(archive), Path(dest)
    if dest.exists():
        raise FileExistsError(f"{dest} already exists; remove or rename it to extract {archive.name} again.")
    dest.parent.mkdir(parents=True, exist_ok=True)
    work = Path(make_temp_dir(dest.parent, f".{dest.name}.extract-"))
    try:
        if zipfile.is_zipfile(archive):
            with zipfile.ZipFile(archive) as zf:
                infos = zf.infolist()
                for info in infos:
                    _check_member_name(info.filename)
                    mode = info.external_attr >> 16
                    if stat.S_ISLNK(mode):
                        raise UnsafeArchiveError(f"zip member is a symbolic link: {info.filename!r}")
                bad = zf.testzip()  # CRC-32 of every member: the publisher's own checksum
                if bad is not None:
                    raise DownloadError(f"{archive} is damaged: member {bad!r} fails its CRC check.")
                zf.extractall(work)
        elif tarfile.is_tarfile(archive):
            with tarfile.open(archive) as tar:
                members = _check_tar(tar, work)
                if hasattr(tarfile, "data_filter"):
                    tar.extractall(work, members=members, filter="data")
                else:  # pragma: no cover - Pythons without PEP 706; the checks above still ran
                    tar.extractall(work, members=members)
        else:
            raise ValueError(f"{archive} is neither a zip nor a tar archive.")
        os.replace(work, dest)
        return dest
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise


# --------------------------------------------------------------------------------------------------
# Pickles


def _numpy_reconstruct():
    import numpy as np

    core = getattr(np, "_core", None) or np.core
    return core.multiarray._reconstruct


def _numpy_scalar():
    import numpy as np

    core = getattr(np, "_core", None) or np.core
    return core.multiarray.scalar


_ALLOWED = {
    ("numpy.core.multiarray", "_reconstruct"): _numpy_reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): _numpy_reconstruct,
    ("numpy.core.multiarray", "scalar"): _numpy_scalar,
    ("numpy._core.multiarray", "scalar"): _numpy_scalar,
    ("numpy", "ndarray"): lambda: __import__("numpy").ndarray,
    ("numpy", "dtype"): lambda: __import__("numpy").dtype,
    # Python 3 writes bytes inside protocol-2 pickles as _codecs.encode(str, "latin1"): pure data.
    ("_codecs", "encode"): lambda: __import__("_codecs").encode,
}


class _RestrictedUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        factory = _ALLOWED.get((module, name))
        if factory is None:
            raise UnsafePickleError(
                f"refusing to load {module}.{name}: this pickle asks for code that a CIFAR file never "
                "contains, so it may have been tampered with."
            )
        return factory()


def load_pickle(path_or_bytes, encoding: str = "bytes"):
    """Unpickle a CIFAR-style file, allowing only NumPy arrays, dtypes, lists, dicts and strings."""
    if isinstance(path_or_bytes, (bytes, bytearray)):
        return _RestrictedUnpickler(io.BytesIO(path_or_bytes), encoding=encoding).load()
    with open(path_or_bytes, "rb") as fh:
        return _RestrictedUnpickler(fh, encoding=encoding).load()
