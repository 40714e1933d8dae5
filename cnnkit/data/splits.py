"""Choosing examples: a balanced subset, and train/validation splits (stratified, or by group).

* :func:`balanced_indices`: at most ``limit`` examples, the same number from every class (reduced mode);
* :func:`split_indices`: a seeded validation split, stratified by label; with ``groups``, whole groups
  (e.g. all augmented copies of one photo) go to one side, each class keeping its share of groups;
* :func:`shared_groups`: the groups found on both sides of a split (leakage).
"""

from __future__ import annotations

import numpy as np

__all__ = ["balanced_indices", "split_indices", "shared_groups"]


def balanced_indices(labels, limit: int | None, num_classes: int | None = None) -> np.ndarray:
    """Indices of at most ``limit`` examples, spread evenly over the classes, in their original order.

    Each class gets ``limit // num_classes`` examples (the first ones), the first ``limit % num_classes``
    classes one more; a class with too few examples gives all it has.
    """
    labels = np.asarray(labels).reshape(-1)
    if limit is None or limit >= labels.size:
        return np.arange(labels.size)
    if not isinstance(limit, (int, np.integer)) or limit < 1:
        raise ValueError(f"limit must be a positive int or None, got {limit!r}")
    classes = np.arange(num_classes) if num_classes else np.unique(labels)
    quota, extra = divmod(int(limit), len(classes))
    chosen = [np.flatnonzero(labels == c)[: quota + (i < extra)] for i, c in enumerate(classes)]
    return np.sort(np.concatenate(chosen))


def split_indices(labels, validation_split: float, seed: int | None, groups=None):
    """Seeded train/validation indices, stratified by label, or by group so that no group is on both sides.

    Args:
        labels: one integer class per example.
        validation_split: the share held out for validation, between 0 and 1.
        seed: seed of the random draw; the same seed gives the same split.
        groups: optional, one group id per example (e.g. the photo an augmented image was made from). Then
            whole groups are held out: for every class, ``validation_split`` of its groups (at least one
            when it has two or more), a group belonging to the class most of its members have. This keeps
            each class's share of groups, which matters when a class has few of them; scikit-learn's
            ``GroupShuffleSplit`` draws groups without regard to their class, and ``StratifiedGroupKFold``
            makes folds (a validation share of ``1/k``), not an arbitrary fraction.

    Returns:
        ``(train_idx, val_idx)``, sorted integer arrays that together cover every example once.
    """
    labels = np.asarray(labels)
    if not 0 < validation_split < 1:
        raise ValueError(f"validation_split must be between 0 and 1, got {validation_split!r}")
    if groups is not None:
        return _group_split(labels, np.asarray(groups), validation_split, seed)
    from sklearn.model_selection import train_test_split

    idx = np.arange(len(labels))
    counts = np.bincount(labels) if labels.size else np.array([])
    stratify = labels if counts.size and counts[counts > 0].min() >= 2 else None
    train, val = train_test_split(idx, test_size=validation_split, random_state=seed, stratify=stratify)
    return np.sort(train), np.sort(val)


def _group_split(labels: np.ndarray, groups: np.ndarray, validation_split: float, seed):
    if labels.shape != groups.shape or labels.ndim != 1:
        raise ValueError(f"labels and groups must be 1-D and of the same length, got {labels.shape} and {groups.shape}")
    rng = np.random.default_rng(seed)
    uniq, inverse = np.unique(groups, return_inverse=True)
    group_class = []
    for g in range(len(uniq)):
        vals, counts = np.unique(labels[inverse == g], return_counts=True)
        group_class.append(vals[np.argmax(counts)])
    group_class = np.array(group_class)
    val_groups = []
    for c in np.unique(group_class):
        members = np.flatnonzero(group_class == c)
        k = int(round(validation_split * len(members)))
        k = min(max(k, 1 if len(members) >= 2 else 0), len(members) - 1) if len(members) >= 2 else 0
        val_groups.extend(rng.choice(members, size=k, replace=False).tolist())
    is_val = np.isin(inverse, val_groups)
    return np.flatnonzero(~is_val), np.flatnonzero(is_val)


def shared_groups(groups_a, groups_b, min_count: int = 1) -> np.ndarray:
    """Groups that occur at least ``min_count`` times in ``groups_a`` and in ``groups_b`` (sorted)."""
    a_vals, a_counts = np.unique(np.asarray(groups_a), return_counts=True)
    b_vals, b_counts = np.unique(np.asarray(groups_b), return_counts=True)
    return np.intersect1d(a_vals[a_counts >= min_count], b_vals[b_counts >= min_count])
