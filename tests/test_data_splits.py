"""cnnkit.data.splits: balanced subsets, stratified splits, group splits and shared groups."""

import numpy as np
import pytest

from cnnkit import data


def test_balanced_indices():
    y = np.array([0, 0, 0, 1, 1, 1, 2, 2, 2, 2])
    idx = data.balanced_indices(y, 5, 3)
    assert list(idx) == sorted(idx)
    assert np.bincount(y[idx]).tolist() == [2, 2, 1]
    assert len(data.balanced_indices(y, None)) == 10
    assert len(data.balanced_indices(y, 100)) == 10
    with pytest.raises(ValueError):
        data.balanced_indices(y, 0)


def test_split_indices_is_stratified_seeded_and_complete():
    labels = np.array([0] * 40 + [1] * 20 + [2] * 10)
    train, val = data.split_indices(labels, 0.2, seed=1)
    assert np.array_equal(np.sort(np.concatenate([train, val])), np.arange(70))
    assert list(train) == sorted(train) and list(val) == sorted(val)
    assert np.bincount(labels[val]).tolist() == [8, 4, 2]  # each class in proportion
    assert np.array_equal(data.split_indices(labels, 0.2, seed=1)[1], val)
    assert not np.array_equal(data.split_indices(labels, 0.2, seed=2)[1], val)
    # a class with a single example cannot be stratified: the split is then plain random
    train, val = data.split_indices(np.array([0, 0, 0, 1]), 0.5, seed=0)
    assert len(train) == len(val) == 2
    with pytest.raises(ValueError, match="validation_split"):
        data.split_indices(labels, 0.0, seed=0)


def test_split_by_groups_keeps_groups_together_and_classes_balanced():
    rng = np.random.default_rng(0)
    groups = np.repeat(np.arange(60), rng.integers(1, 8, size=60))
    labels = groups % 3  # every group has one class; 20 groups per class
    train, val = data.split_indices(labels, 0.25, seed=4, groups=groups)
    assert np.intersect1d(groups[train], groups[val]).size == 0
    assert np.union1d(train, val).tolist() == list(range(len(labels)))
    for c in range(3):
        assert len(np.unique(groups[val][labels[val] == c])) == 5  # 25% of 20 groups
    again = data.split_indices(labels, 0.25, seed=4, groups=groups)
    assert np.array_equal(again[1], val)
    other = data.split_indices(labels, 0.25, seed=5, groups=groups)
    assert not np.array_equal(other[1], val)


def test_split_by_groups_small_classes_and_errors():
    labels = np.array([0, 0, 1, 1, 1, 2])
    groups = np.array([10, 11, 20, 20, 21, 30])  # class 2 has a single group: it stays in training
    train, val = data.split_indices(labels, 0.1, seed=0, groups=groups)
    assert 30 in groups[train] and 30 not in groups[val]
    assert len(np.unique(groups[val][labels[val] == 0])) == 1  # at least one group when a class has two
    with pytest.raises(ValueError, match="validation_split"):
        data.split_indices(labels, 1.5, seed=0, groups=groups)
    with pytest.raises(ValueError, match="same length"):
        data.split_indices(labels, 0.2, seed=0, groups=groups[:3])


def test_shared_groups_with_min_count():
    a = [1, 1, 2, 3, 3, 3]
    b = [3, 2, 2, 9, 1]
    assert data.shared_groups(a, b).tolist() == [1, 2, 3]
    assert data.shared_groups(a, b, min_count=2).tolist() == []
    assert data.shared_groups(a, [3, 3, 1], min_count=2).tolist() == [3]
