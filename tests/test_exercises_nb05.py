"""Checkers of notebook 05: right answers pass; wrong shape, value and type fail without revealing the answer."""

import numpy as np
import pytest

from cnnkit.exercises import ExerciseFailed, nb05


@pytest.fixture
def image():
    return np.random.default_rng(0).integers(0, 256, size=(32, 32, 3), dtype=np.uint8)


# ---------------------------------------------------------------- helpers the checkers rely on


def test_conv_and_dense_params_match_keras():
    from keras import layers

    conv = layers.Conv2D(7, 5)
    conv.build((None, 9, 9, 3))
    dense = layers.Dense(4)
    dense.build((None, 11))
    assert nb05.conv_params(5, 3, 7) == conv.count_params() == (5 * 5 * 3 + 1) * 7
    assert nb05.dense_params(11, 4) == dense.count_params() == 48


def test_article_params_matches_keras():
    from cnnkit import models

    assert nb05.article_params() == models.article_cifar10().count_params() == 160_202


def test_article_params_same_padding_matches_keras():
    import keras
    from keras import layers

    model = keras.Sequential([keras.Input((32, 32, 3))] + [
        layer for f in (32, 64, 128) for layer in (layers.Conv2D(f, 3, padding="same"), layers.MaxPooling2D())
    ] + [layers.Flatten(), layers.Dense(128), layers.Dense(10)])
    assert nb05.article_params("same") == model.count_params() == 356_810


def test_pad_and_crop_centre_is_identity_and_matches_a_shift(image):
    assert np.array_equal(nb05.pad_and_crop(image, 4, 4), image)
    crop = nb05.pad_and_crop(image, 1, 7)  # crop[i, j] = image[i - 3, j + 3]: content moves down 3, left 3
    assert np.array_equal(crop[3:, :-3], image[:-3, 3:])
    assert np.array_equal(crop[2, :-3], image[0, 3:])  # "symmetric" repeats the edge row ...
    assert np.array_equal(crop[1, :-3], image[1, 3:])  # ... then mirrors the rows below it
    with pytest.raises(ValueError):
        nb05.pad_and_crop(image, 9, 0)


def test_pad_and_crop_equals_keras_reflect_fill(image):
    """Keras's fill_mode="reflect" (used by RandomTranslation) is NumPy's "symmetric" padding."""
    from keras import ops

    # output (x, y) samples input (x + 3, y - 3): the transform RandomTranslation builds for dx = -3, dy = +3
    transform = np.array([[1, 0, 3, 0, 1, -3, 0, 0]], dtype="float32")
    shifted = ops.image.affine_transform(image[None].astype("float32"), transform, interpolation="nearest",
                                         fill_mode="reflect")
    assert np.array_equal(ops.convert_to_numpy(shifted)[0], nb05.pad_and_crop(image, 1, 7).astype("float32"))


def test_pad_and_crop_right(image, capsys):
    answer = np.pad(image, ((4, 4), (4, 4), (0, 0)), mode="symmetric")[1:33, 7:39]
    assert nb05.check_pad_and_crop(answer, image, top=1, left=7)
    assert "✓" in capsys.readouterr().out


def test_pad_and_crop_wrong_shape(image, lenient):
    answer = np.pad(image, ((4, 4), (4, 4), (0, 0)), mode="symmetric")  # forgot to crop
    result = nb05.check_pad_and_crop(answer, image, top=1, left=7)
    assert not result and "shape (40, 40, 3)" in result.message


def test_pad_and_crop_wrong_padding_mode(image, lenient):
    answer = np.pad(image, ((4, 4), (4, 4), (0, 0)), mode="reflect")[1:33, 7:39]  # NumPy's reflect skips the edge
    result = nb05.check_pad_and_crop(answer, image, top=1, left=7)
    assert not result and 'mode="reflect"' in result.message and '"symmetric"' in result.message


def test_pad_and_crop_swapped_top_left(image, lenient):
    answer = np.pad(image, ((4, 4), (4, 4), (0, 0)), mode="symmetric")[7:39, 1:33]
    result = nb05.check_pad_and_crop(answer, image, top=1, left=7)
    assert not result and "swapped" in result.message


def test_pad_and_crop_float_crop_fails_because_task_says_uint8(image, lenient):
    answer = np.pad(image, ((4, 4), (4, 4), (0, 0)), mode="symmetric")[1:33, 7:39].astype("float32")
    result = nb05.check_pad_and_crop(answer, image, top=1, left=7)
    assert not result and "float32" in result.message and "uint8" in result.message


def test_pad_and_crop_other_wrong_values(image, lenient):
    result = nb05.check_pad_and_crop(np.zeros_like(image), image, top=1, left=7)
    assert not result and "values differ" in result.message


def test_pad_and_crop_wrong_type(image, lenient):
    result = nb05.check_pad_and_crop("crop", image, top=1, left=7)
    assert not result and "array" in result.message and "str" in result.message


def test_pad_and_crop_strict_raises(image):
    with pytest.raises(ExerciseFailed):
        nb05.check_pad_and_crop(image, image, top=1, left=7)




# ---------------------------------------------------------------- exercise 2: whitening filters


@pytest.fixture
def cov():
    rng = np.random.default_rng(3)
    a = rng.normal(size=(12, 12))
    return a @ a.T / 12 + np.diag(np.geomspace(1e-3, 3, 12))


def _solution(cov, eps=5e-4):
    vals, vecs = np.linalg.eigh(cov)
    return vecs / np.sqrt(vals + eps)


def test_whitening_right_any_order_and_sign(cov, capsys):
    w = _solution(cov)
    assert nb05.check_whitening(w, cov, eps=5e-4)
    assert nb05.check_whitening(-w[:, ::-1], cov, eps=5e-4)
    assert "Correct" in capsys.readouterr().out


def test_whitening_success_message_does_not_claim_unit_variance(cov, capsys):
    assert nb05.check_whitening(_solution(cov), cov, eps=5e-4)
    out = capsys.readouterr().out
    assert "variance about 1" not in out and "lam / (lam + EPS)" in out and "weakest" in out


def test_whitening_without_eps_is_named(cov, lenient):
    vals, vecs = np.linalg.eigh(cov)
    w = vecs / np.sqrt(vals)
    assert np.allclose(w.T @ cov @ w, np.eye(12))  # exactly whitened: the old message called this "not the identity"
    result = nb05.check_whitening(w, cov, eps=5e-4)
    assert not result and "without EPS" in result.message and "is not" not in result.message


def test_whitening_scaled_but_correlated_or_wrong_gain(cov, lenient):
    vals, vecs = np.linalg.eigh(cov)
    rotated = np.linalg.qr(np.random.default_rng(1).normal(size=(12, 12)))[0]
    result = nb05.check_whitening(rotated / np.sqrt(vals + 5e-4), cov, eps=5e-4)
    assert not result and "not diagonal" in result.message
    result = nb05.check_whitening(vecs / np.sqrt(vals + 5e-2), cov, eps=5e-4)
    assert not result and "eigenvalue / (eigenvalue + EPS)" in result.message


def test_whitening_forgot_scaling(cov, lenient):
    _, vecs = np.linalg.eigh(cov)
    result = nb05.check_whitening(vecs, cov, eps=5e-4)
    assert not result and "not yet divided" in result.message


def test_whitening_rows_instead_of_columns(cov, lenient):
    vals, vecs = np.linalg.eigh(cov)
    result = nb05.check_whitening(vecs / np.sqrt(vals + 5e-4)[:, None], cov, eps=5e-4)
    assert not result and "columns" in result.message


def test_whitening_divided_by_eigenvalues(cov, lenient):
    vals, vecs = np.linalg.eigh(cov)
    result = nb05.check_whitening(vecs / (vals + 5e-4), cov, eps=5e-4)
    assert not result and "square roots" in result.message


def test_whitening_wrong_shape_type_and_other(cov, lenient):
    assert "shape" in nb05.check_whitening(np.eye(3), cov, eps=5e-4).message
    assert "NumPy array" in nb05.check_whitening("W", cov, eps=5e-4).message
    result = nb05.check_whitening(np.eye(12), cov, eps=5e-4)
    assert not result and "not diagonal" in result.message and "eigh" not in result.message


def test_whitening_strict_raises(cov):
    with pytest.raises(ExerciseFailed):
        nb05.check_whitening(np.eye(12), cov, eps=5e-4)


# ---------------------------------------------------------------- exercise 3: one airbench group


def _group(x, width, block, *, momentum=0.6, pool=True, names=True, gelu="gelu"):
    from keras import layers

    from cnnkit.layers import ScaledBias

    for j in (1, 2):
        x = layers.Conv2D(width, 3, padding="same", use_bias=False, name=f"block{block}_conv{j}")(x)
        if j == 1 and pool:
            x = layers.MaxPooling2D(2, name=f"block{block}_pool")(x)
        x = layers.BatchNormalization(momentum=momentum, center=False, scale=False,
                                      name=f"block{block}_bn{j}" if names else None)(x)
        x = ScaledBias(8.0, name=f"block{block}_shift{j}")(x)
        x = layers.Activation(gelu, name=f"block{block}_gelu{j}")(x)
    return x


@pytest.fixture(scope="module")
def cifar_few():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (32, 32, 32, 3)).astype("uint8")
    y = (x[..., 2].mean(axis=(1, 2)) > x[..., 0].mean(axis=(1, 2))).astype(int)  # a learnable rule
    return x, y


def test_conv_group_right(cifar_few, capsys):
    assert nb05.check_conv_group(_group, *cifar_few)
    assert "learns" in capsys.readouterr().out


def test_conv_group_wrong_momentum(cifar_few, lenient):
    result = nb05.check_conv_group(lambda x, w, b: _group(x, w, b, momentum=0.99), *cifar_few)
    assert not result and "momentum" in result.message and "0.6" in result.message


def test_conv_group_missing_pool(cifar_few, lenient):
    result = nb05.check_conv_group(lambda x, w, b: _group(x, w, b, pool=False), *cifar_few)
    assert not result and "adds 8 layers" in result.message


def test_conv_group_wrong_names_and_activation(cifar_few, lenient):
    result = nb05.check_conv_group(lambda x, w, b: _group(x, w, b, names=False), *cifar_few)
    assert not result and "named" in result.message
    result = nb05.check_conv_group(lambda x, w, b: _group(x, w, b, gelu="relu"), *cifar_few)
    assert not result and "activation" in result.message


def test_conv_group_errors_in_learner_code(cifar_few, lenient):
    def broken(x, w, b):
        raise NameError("name 'layer' is not defined")

    assert "NameError" in nb05.check_conv_group(broken, *cifar_few).message
    assert "return" in nb05.check_conv_group(lambda x, w, b: None, *cifar_few).message
    assert "function" in nb05.check_conv_group("conv_group", *cifar_few).message


def test_conv_group_strict_raises(cifar_few):
    with pytest.raises(ExerciseFailed):
        nb05.check_conv_group(lambda x, w, b: _group(x, w, b, momentum=0.9), *cifar_few)


# ---------------------------------------------------------------- exercise 4: the triangular schedule


def test_triangular_matches_the_keras_schedule():
    from cnnkit.training import TriangularSchedule

    schedule = TriangularSchedule(1.5, 440)
    for step in (0, 1, 50, 101, 102, 300, 440):
        assert nb05.triangular_lr(step, 1.5, 440) == pytest.approx(float(schedule(step)), rel=1e-5)


def test_triangular_right(capsys):
    assert nb05.check_triangular(lambda s: nb05.triangular_lr(s, 1.5, 440), peak=1.5, total=440)
    assert "Correct" in capsys.readouterr().out


@pytest.mark.parametrize("wrong, words", [
    (lambda s: nb05.triangular_lr(s, 1.5, 440, start=0.0), "starts at 0.2"),
    (lambda s: nb05.triangular_lr(s, 1.5, 440, end=0.0), "ends at 0.07"),
    (lambda s: nb05.triangular_lr(s, 1.5, 440, warmup=0.3), "exactly at step TOP"),
    (lambda s: 1.5 * (0.2 + 0.8 * (s / 101) ** 2) if s < 101 else nb05.triangular_lr(s, 1.5, 440), "rise"),
])
def test_triangular_wrong(wrong, words, lenient):
    result = nb05.check_triangular(wrong, peak=1.5, total=440)
    assert not result and words in result.message


def test_triangular_errors(lenient):
    assert "function" in nb05.check_triangular(1.5, peak=1.5, total=440).message
    assert "ZeroDivisionError" in nb05.check_triangular(lambda s: 1 / 0, peak=1.5, total=440).message
    with pytest.raises(ExerciseFailed):
        import os

        os.environ["CNNKIT_STRICT_CHECKS"] = "1"
        try:
            nb05.check_triangular(lambda s: 0.0, peak=1.5, total=440)
        finally:
            del os.environ["CNNKIT_STRICT_CHECKS"]


# ---------------------------------------------------------------- the notebook's hints give no answer away


def _exercise_comments(number):
    import json
    from pathlib import Path

    nb = json.loads((Path(__file__).resolve().parents[1] / "notebooks" / "05_cifar10_augmentation.ipynb").read_text())
    for cell in nb["cells"]:
        source = "".join(cell["source"])
        if cell["cell_type"] == "code" and source.startswith(f"# Exercise {number}:"):
            return "\n".join(line for line in source.splitlines() if line.lstrip().startswith("#"))
    raise AssertionError(f"no code cell of Exercise {number} in notebook 05")


def test_whitening_exercise_comments_do_not_state_the_formula():
    comments = _exercise_comments(2)
    assert "sqrt" not in comments and "EPS)" not in comments


def test_schedule_exercise_hint_does_not_spell_out_the_interpolations():
    comments = _exercise_comments(4)
    assert "(TOTAL - TOP)" not in comments and "step / TOP" not in comments and "0.07" not in comments
