"""cnnkit.data: the registry of datasets and the status report, without downloading anything."""

import pytest

from cnnkit import data


def test_status_reports_the_pack(pack):
    status = data.status()
    assert set(status) == set(data.DATASETS)
    assert all(present for present, _ in status.values())
    assert "TEST 2,487" in status["blood-cells"][1]


def test_status_on_empty_root(data_root):
    assert not any(present for present, _ in data.status().values())


def test_offline_message_says_to_unset_the_variable(data_root, monkeypatch):
    with pytest.raises(data.DataNotFoundError) as err:
        data.load_cifar10()
    message = str(err.value)
    assert "unset CNNKIT_OFFLINE" in message and "rerun this cell" not in message
    monkeypatch.delenv("CNNKIT_OFFLINE")
    online = str(data.DataNotFoundError("cifar-10", data_root, reason="no network"))
    assert "rerun this cell" in online and "unset CNNKIT_OFFLINE" not in online


def test_every_dataset_has_a_description_and_an_ensure_function():
    assert set(data.ENSURE) == set(data.DATASETS) == {"fashion-mnist", "cifar-10", "blood-cells", "cats-vs-dogs"}
    assert data.ENSURE["fashion-mnist"] is data.ensure_fashion_mnist
    assert data.ENSURE["cifar-10"] is data.ensure_cifar10
    assert data.ENSURE["blood-cells"] is data.ensure_blood_cells
    assert data.ENSURE["cats-vs-dogs"] is data.ensure_cats_vs_dogs


def test_ensure_functions_return_each_dataset_folder_of_the_pack(pack):
    assert data.ensure_fashion_mnist() == pack / "fashion-mnist"
    assert data.ensure_cifar10() == pack / "cifar-10" / "cifar-10-batches-py"
    assert data.ensure_blood_cells() == pack / "blood-cells" / "dataset2-master" / "images"
    assert data.ensure_cats_vs_dogs() == pack / "cats-vs-dogs" / "PetImages"


def test_the_public_api_is_exported():
    missing = [name for name in data.__all__ if not hasattr(data, name)]
    assert missing == []
    assert callable(data.blood_cells) and callable(data.cats_vs_dogs)  # the loaders, not their modules
