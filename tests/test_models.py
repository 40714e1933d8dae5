"""Parameter counts of the rebuilt seed models (the audit's table F) and the shared builders."""

import numpy as np
import pytest

from cnnkit import models


@pytest.mark.parametrize("build,params,out", [
    (lambda: models.lenet5(), 107_786, (None, 10)),
    (lambda: models.seed_blood_cells(), 10_250_788, (None, 4)),
    (lambda: models.seed_cifar10(), 160_202, (None, 10)),
    (lambda: models.seed_cats_dogs(), 3_937_409, (None, 1)),
    (lambda: models.seed_cats_dogs(input_shape=(256, 256, 3)), 66_065_537, (None, 1)),
])
def test_seed_models(build, params, out):
    model = build()
    assert model.count_params() == params
    assert tuple(model.output_shape) == out


def test_rescaling_is_inside_the_models():
    model = models.lenet5()
    assert model.layers[0].name == "rescale"
    assert models.lenet5(rescale=False).count_params() == 107_786
    assert models.lenet5(rescale=False).layers[0].name == "c1"


def test_vgg_style_heads_and_errors():
    multi = models.vgg_style((32, 32, 3), 10, filters=(8, 16), convs_per_block=1)
    assert multi.output_shape == (None, 10)
    binary = models.vgg_style((32, 32, 3), 1, filters=(8,), batch_norm=False, dropout=0)
    assert binary.output_shape == (None, 1) and binary.layers[-1].activation.__name__ == "sigmoid"
    # 3x3x3x8 conv without bias + BN (4x8) ; dense 8x10+10
    assert models.vgg_style((32, 32, 3), 10, filters=(8,), convs_per_block=1, dropout=0).count_params() == \
        3 * 3 * 3 * 8 + 4 * 8 + 8 * 10 + 10
    with pytest.raises(ValueError):
        models.vgg_style((32, 32, 3), 0)


def test_augmentation_only_in_training():
    aug = models.augmentation(flip="horizontal", translation=0.1, zoom=0.1, rotation=0.05, contrast=0.1, seed=1)
    x = np.random.default_rng(0).uniform(0, 255, (2, 16, 16, 3)).astype("float32")
    np.testing.assert_allclose(aug(x, training=False).numpy(), x)
    assert not np.allclose(aug(x, training=True).numpy(), x)
    with pytest.raises(ValueError):
        models.augmentation(flip=None)
