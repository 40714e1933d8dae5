"""cnnkit.data: the registry of datasets and the status report, without downloading anything."""

from cnnkit import data


def test_status_reports_the_pack(pack):
    status = data.status()
    assert set(status) == set(data.DATASETS)
    assert all(present for present, _ in status.values())
    assert "TEST 2,487" in status["blood-cells"][1]


def test_status_on_empty_root(data_root):
    assert not any(present for present, _ in data.status().values())
