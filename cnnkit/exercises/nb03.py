"""Checkers for notebook 03 (blood cells: the walkthrough done right).

Each checker computes the right answer itself from its inputs and prints one sentence; it never
prints the expected values.
"""

from __future__ import annotations

import numpy as np

from . import Check, check_int, check_recall, report  # check_recall: exercise 4, the shared checker

__all__ = ["array_bytes", "check_float32_bytes", "article_dense_params", "check_article_dense_params",
           "shared_count", "check_shared_count", "check_recall"]


def array_bytes(n_images: int, height: int, width: int, channels: int = 3, bytes_per_value: int = 4) -> int:
    """Bytes of an ``(n_images, height, width, channels)`` array with ``bytes_per_value`` bytes per value."""
    return int(n_images) * int(height) * int(width) * int(channels) * int(bytes_per_value)


def check_float32_bytes(answer, n_images: int = 12_500, height: int = 200, width: int = 200,
                        channels: int = 3) -> Check:
    """Exercise 1: bytes of the articles' float32 copy of ``n_images`` images of ``height x width x channels``."""
    expected = array_bytes(n_images, height, width, channels, 4)
    if hasattr(answer, "item") and np.ndim(answer) == 0:
        answer = answer.item()
    if isinstance(answer, float):  # the task asks for an int; 6e9 or 12_500 * 2.4e5 is a float
        return report(False, "float32_bytes should be a whole number (int), but it is a float: compute it with "
                            "integers only (no 'e' notation, no '/').")
    if isinstance(answer, int) and not isinstance(answer, bool) and answer != expected:
        wrong = {
            array_bytes(n_images, height, width, channels, 1): "that is the uint8 size: a float32 value takes 4 bytes",
            array_bytes(n_images, height, width, channels, 8): "that is the float64 size: a float32 value takes 4 bytes",
            array_bytes(n_images, height, width, 1, 4): "you left out the 3 colour channels",
        }
        if answer in wrong:
            return report(False, f"float32_bytes is not right: {wrong[answer]}.")
        if answer * 10**6 == expected or answer * 10**9 == expected or answer * 2**30 == expected:
            return report(False, "float32_bytes looks like it is in MB or GB; give the number of bytes.")
    return check_int(answer, expected, name="float32_bytes")


def article_dense_params(image_size: int = 200, filters: int = 32, units: int = 128) -> int:
    """Weights and biases of the articles' ``Dense(units)`` after two 2x2 poolings and ``Flatten``."""
    side = (int(image_size) // 2) // 2
    return side * side * int(filters) * int(units) + int(units)


def check_article_dense_params(answer, image_size: int = 200) -> Check:
    """Exercise 3: parameters of the articles' model's ``Dense(128)`` layer for ``image_size x image_size`` input."""
    expected = article_dense_params(image_size)
    if hasattr(answer, "item") and np.ndim(answer) == 0:
        answer = answer.item()
    if isinstance(answer, int) and not isinstance(answer, bool):
        if answer == expected - 128:
            return report(False, "dense_params is missing the 128 biases (one per unit).")
        if answer == article_dense_params(image_size * 2) or answer == article_dense_params(image_size * 2) - 128:
            return report(False, "dense_params is too large: each of the two 2x2 poolings halves the height and "
                                "the width.")
    return check_int(answer, expected, name="dense_params")


def shared_count(query_sources, train_sources) -> int:
    """How many entries of ``query_sources`` also occur somewhere in ``train_sources``."""
    return int(np.isin(np.asarray(query_sources), np.asarray(train_sources)).sum())


def check_shared_count(answer, query_sources, train_sources) -> Check:
    """Exercise 2: the number of query images whose source smear also has images in the training set."""
    expected = shared_count(query_sources, train_sources)
    if hasattr(answer, "item") and np.ndim(answer) == 0:
        answer = answer.item()
    if isinstance(answer, int) and not isinstance(answer, bool) and answer != expected:
        distinct = len(np.intersect1d(np.asarray(query_sources), np.asarray(train_sources)))
        if answer == distinct and distinct != expected:
            return report(False, "n_shared counts distinct smears; the exercise asks for images (a smear can "
                                "have several images).")
        if answer == shared_count(train_sources, query_sources):
            return report(False, "n_shared counts TRAIN images whose smear is in TEST_SIMPLE: the arguments of "
                                "np.isin are the wrong way round (the first is the array whose elements are "
                                "counted).")
    return check_int(answer, expected, name="n_shared")
