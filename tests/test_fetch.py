"""Downloads, archives and pickles (network-free: a local HTTP server on 127.0.0.1)."""

import hashlib
import io
import os
import pickle
import tarfile
import zipfile

import numpy as np
import pytest

from cnnkit import fetch

PAYLOAD = os.urandom(300_000)
SHA = hashlib.sha256(PAYLOAD).hexdigest()


def names(folder):
    return sorted(p.name for p in folder.iterdir())


def test_sha256sum(tmp_path):
    f = tmp_path / "f.bin"
    f.write_bytes(PAYLOAD)
    assert fetch.sha256sum(f) == SHA


def test_download_verified_and_renamed_into_place(tmp_path, http_server):
    http_server.files["/f.bin"] = PAYLOAD
    dest = tmp_path / "sub" / "f.bin"
    assert fetch.download(http_server.url + "/f.bin", dest, SHA) == dest
    assert dest.read_bytes() == PAYLOAD
    assert names(dest.parent) == ["f.bin"]  # no temporary folder left behind


def test_existing_verified_file_is_not_downloaded_again(tmp_path, http_server):
    dest = tmp_path / "f.bin"
    dest.write_bytes(PAYLOAD)
    fetch.download(http_server.url + "/f.bin", dest, SHA)
    assert http_server.hits == []


def test_checksum_mismatch_keeps_the_bad_file_aside(tmp_path, http_server):
    http_server.files["/f.bin"] = PAYLOAD[:-1] + b"x"
    dest = tmp_path / "f.bin"
    with pytest.raises(fetch.DownloadError, match="not the official one"):
        fetch.download(http_server.url + "/f.bin", dest, SHA)
    assert not dest.exists()
    assert names(tmp_path) == ["f.bin.sha256-mismatch"]


def test_existing_corrupt_file_is_kept_and_replaced(tmp_path, http_server, capsys):
    http_server.files["/f.bin"] = PAYLOAD
    dest = tmp_path / "f.bin"
    dest.write_bytes(b"half a file")
    fetch.download(http_server.url + "/f.bin", dest, SHA)
    assert dest.read_bytes() == PAYLOAD
    assert (tmp_path / "f.bin.sha256-mismatch").read_bytes() == b"half a file"
    assert "did not match" in capsys.readouterr().out


def test_connection_dropped_half_way_leaves_nothing_that_looks_finished(tmp_path, http_server):
    http_server.files["/f.bin"] = PAYLOAD
    http_server.drop_after["/f.bin"] = len(PAYLOAD) // 2
    dest = tmp_path / "f.bin"
    with pytest.raises(fetch.DownloadError, match="Could not download"):
        fetch.download(http_server.url + "/f.bin", dest, SHA)
    assert names(tmp_path) == []


def test_http_error_is_a_download_error(tmp_path, http_server):
    with pytest.raises(fetch.DownloadError, match="404"):
        fetch.download(http_server.url + "/missing", tmp_path / "f.bin", SHA)
    assert names(tmp_path) == []


def test_unwritable_destination_is_a_clear_error(tmp_path, http_server):
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where a folder should be")
    with pytest.raises(fetch.DownloadError, match="Cannot write"):
        fetch.download(http_server.url + "/f.bin", blocker / "f.bin", SHA)


# ---------------------------------------------------------------------------------------------- archives


def make_tar(path, members):
    """members: list of (name, bytes) for files or (name, ('sym'|'hard', target)) for links."""
    with tarfile.open(path, "w:gz") as tar:
        for name, content in members:
            info = tarfile.TarInfo(name)
            if isinstance(content, tuple):
                info.type = tarfile.SYMTYPE if content[0] == "sym" else tarfile.LNKTYPE
                info.linkname = content[1]
                tar.addfile(info)
            else:
                info.size = len(content)
                tar.addfile(info, io.BytesIO(content))
    return path


def test_extract_tar(tmp_path):
    archive = make_tar(tmp_path / "ok.tar.gz", [("top/a.txt", b"a"), ("top/sub/b.txt", b"b"),
                                                 ("top/link", ("sym", "a.txt"))])
    out = fetch.extract(archive, tmp_path / "out")
    assert (out / "top" / "sub" / "b.txt").read_bytes() == b"b"
    assert names(tmp_path) == ["ok.tar.gz", "out"]


@pytest.mark.parametrize("members", [
    [("../evil.txt", b"x")],
    [("/tmp/cnnkit-evil.txt", b"x")],
    [("top/../../evil.txt", b"x")],
    [("top/link", ("sym", "/etc/passwd"))],
    [("top/link", ("sym", "../../outside"))],
    [("hard", ("hard", "../outside"))],
])
def test_extract_refuses_members_outside_the_target(tmp_path, members):
    archive = make_tar(tmp_path / "evil.tar.gz", members)
    with pytest.raises(fetch.UnsafeArchiveError):
        fetch.extract(archive, tmp_path / "out")
    assert names(tmp_path) == ["evil.tar.gz"]  # nothing written, not even the target
    assert not os.path.exists("/tmp/cnnkit-evil.txt")


def test_extract_zip_and_refuse_climbing_zip(tmp_path):
    good = tmp_path / "good.zip"
    with zipfile.ZipFile(good, "w") as zf:
        zf.writestr("PetImages/Cat/0.jpg", b"jpeg bytes")
    assert (fetch.extract(good, tmp_path / "out") / "PetImages" / "Cat" / "0.jpg").exists()
    bad = tmp_path / "bad.zip"
    with zipfile.ZipFile(bad, "w") as zf:
        zf.writestr("../evil.txt", b"x")
    with pytest.raises(fetch.UnsafeArchiveError):
        fetch.extract(bad, tmp_path / "out2")
    assert not (tmp_path / "evil.txt").exists() and not (tmp_path / "out2").exists()


def test_extract_never_overwrites(tmp_path):
    archive = make_tar(tmp_path / "ok.tar.gz", [("a.txt", b"a")])
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "mine.txt").write_text("keep me")
    with pytest.raises(FileExistsError):
        fetch.extract(archive, tmp_path / "out")
    assert (tmp_path / "out" / "mine.txt").read_text() == "keep me"


def test_extract_rejects_damaged_zip(tmp_path):
    damaged = tmp_path / "d.zip"
    with zipfile.ZipFile(damaged, "w", compression=zipfile.ZIP_STORED) as zf:
        zf.writestr("a.txt", b"hello world" * 100)
    raw = bytearray(damaged.read_bytes())
    raw[raw.index(b"hello")] ^= 0xFF  # flip a byte of the member's data: its CRC-32 no longer matches
    damaged.write_bytes(bytes(raw))
    with pytest.raises(fetch.DownloadError, match="CRC"):
        fetch.extract(damaged, tmp_path / "out")
    assert not (tmp_path / "out").exists()


# ---------------------------------------------------------------------------------------------- pickles


def test_load_pickle_reads_numpy_batches():
    batch = {b"labels": [1, 2], b"data": np.arange(12, dtype=np.uint8).reshape(2, 6)}
    out = fetch.load_pickle(pickle.dumps(batch, protocol=2))
    np.testing.assert_array_equal(out[b"data"], batch[b"data"])
    assert out[b"labels"] == [1, 2]


class Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned > /tmp/cnnkit-pwned",))


def test_load_pickle_refuses_code(tmp_path):
    path = tmp_path / "data_batch_1"
    path.write_bytes(pickle.dumps({b"data": Evil()}, protocol=2))
    with pytest.raises(fetch.UnsafePickleError, match="refusing to load"):
        fetch.load_pickle(path)
    assert not os.path.exists("/tmp/cnnkit-pwned")


def test_make_temp_dir_is_a_new_private_folder_in_the_parent(tmp_path):
    first = fetch.make_temp_dir(tmp_path, ".x.part-")
    second = fetch.make_temp_dir(tmp_path, ".x.part-")
    for folder in (first, second):
        assert os.path.dirname(folder) == str(tmp_path) and os.path.basename(folder).startswith(".x.part-")
        assert os.path.isdir(folder) and os.listdir(folder) == []
    assert first != second
