"""cnnkit.explain: Grad-CAM and saliency maps against hand computations, and clear errors for bad input."""

import keras
import numpy as np
import pytest
from keras import layers

from cnnkit import explain


def conv_gap_dense(num_classes=3, activation="softmax", channels=1, size=12, seed=0, name="toy"):
    """conv (named 'conv') -> ReLU ('relu') -> global average pooling -> dense: the class score is linear in
    the pooled maps, so Grad-CAM's channel weights are the dense weights divided by h * w."""
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((size, size, channels))
    x = layers.Conv2D(4, 3, padding="same", name="conv")(inputs)
    x = layers.Activation("relu", name="relu")(x)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    outputs = layers.Dense(num_classes, activation=activation, name="predictions")(x)
    return keras.Model(inputs, outputs, name=name)


def by_hand(model, images, class_index):
    """Grad-CAM from the formula: A = ReLU maps, alpha = W[:, c] / (h w), map = ReLU(A . alpha) / max."""
    maps = keras.Model(model.inputs, model.get_layer("relu").output).predict(images, verbose=0)
    kernel = model.get_layer("predictions").kernel.numpy()
    h, w = maps.shape[1:3]
    out = []
    for a, c in zip(maps, class_index):
        weights = kernel[:, c] / (h * w) if kernel.shape[1] > 1 else (1 if c == 1 else -1) * kernel[:, 0] / (h * w)
        cam = np.maximum(a @ weights, 0)
        out.append(cam / cam.max() if cam.max() > 0 else cam)
    return np.array(out)


def images(n=5, size=12, channels=1, seed=1):
    return np.random.default_rng(seed).uniform(0, 1, (n, size, size, channels)).astype("float32")


def test_grad_cam_matches_the_formula_for_the_predicted_class():
    model = conv_gap_dense()
    x = images()
    cams, details = explain.grad_cam(model, x, "relu", return_details=True)
    logits = explain.class_scores(model, x)
    predicted = logits.argmax(axis=1)
    assert cams.shape == (5, 12, 12) and cams.dtype == np.float32
    assert cams.min() >= 0 and cams.max() <= 1
    assert np.array_equal(details["classes"], predicted)
    assert np.allclose(details["scores"], logits[np.arange(5), predicted], atol=1e-5)
    assert np.allclose(cams, by_hand(model, x, predicted), atol=1e-5)
    kernel = model.get_layer("predictions").kernel.numpy()
    assert np.allclose(details["weights"], kernel[:, predicted].T / (12 * 12), atol=1e-7)  # the per-channel mean
    # the logits are the dense layer's pre-softmax output
    probs = model.predict(x, verbose=0)
    assert np.allclose(keras.ops.softmax(logits).numpy(), probs, atol=1e-5)


def test_grad_cam_for_a_chosen_class_one_or_per_image():
    model = conv_gap_dense()
    x = images()
    assert np.allclose(explain.grad_cam(model, x, "relu", class_index=2), by_hand(model, x, [2] * 5), atol=1e-5)
    per_image = np.array([0, 1, 2, 0, 1])
    assert np.allclose(explain.grad_cam(model, x, "relu", class_index=per_image), by_hand(model, x, per_image),
                       atol=1e-5)


def test_grad_cam_of_one_sigmoid_unit_uses_plus_and_minus_the_logit():
    model = conv_gap_dense(num_classes=1, activation="sigmoid")
    x = images(6)
    z = explain.class_scores(model, x)[:, 0]
    p = model.predict(x, verbose=0)[:, 0]
    assert np.allclose(1 / (1 + np.exp(-z)), p, atol=1e-5)
    cams, details = explain.grad_cam(model, x, "relu", return_details=True)
    predicted = (z > 0).astype(int)
    assert np.array_equal(details["classes"], predicted)
    assert np.allclose(details["scores"], np.where(predicted == 1, z, -z), atol=1e-5)
    for c in (0, 1):
        assert np.allclose(explain.grad_cam(model, x, "relu", class_index=c), by_hand(model, x, [c] * 6), atol=1e-5)
    with pytest.raises(ValueError, match="between 0 and 1"):
        explain.grad_cam(model, x, "relu", class_index=2)


def test_the_map_lies_on_the_only_patch_with_evidence():
    """A blank image except for one bright patch; the class score grows with the brightness the conv sees."""
    inputs = keras.Input((32, 32, 1))
    x = layers.Conv2D(2, 3, padding="same", name="conv", kernel_initializer="ones", bias_initializer="zeros")(inputs)
    x = layers.Activation("relu", name="relu")(x)
    x = layers.GlobalAveragePooling2D()(x)
    outputs = layers.Dense(1, activation="sigmoid", kernel_initializer="ones", name="predictions")(x)
    model = keras.Model(inputs, outputs)
    image = np.zeros((1, 32, 32, 1), "float32")
    image[0, 5:11, 18:27] = 1.0
    cam = explain.grad_cam(model, image, "relu", class_index=1)[0]
    patch = np.zeros((32, 32), bool)
    patch[4:12, 17:28] = True  # the patch and the ring a 3x3 convolution spreads it to
    assert cam[patch].sum() / cam.sum() > 0.99
    assert explain.share_inside(cam[None], patch)[0] > 0.99
    assert cam.max() == 1.0 and cam[~patch].max() == 0.0
    # the other class has no positive evidence anywhere: its map is zero
    assert explain.grad_cam(model, image, "relu", class_index=0).max() == 0.0


def test_a_layer_inside_a_nested_base_gives_the_same_map_as_the_flat_model():
    flat = conv_gap_dense(num_classes=1, activation="sigmoid", channels=3, size=16)
    base = keras.Model(flat.inputs, flat.get_layer("gap").output, name="base")
    inputs = keras.Input((16, 16, 3))
    h = base(inputs)
    h = layers.Dropout(0.5)(h)
    outputs = flat.get_layer("predictions")(h)
    nested = keras.Model(inputs, outputs, name="classifier")
    x = images(4, size=16, channels=3)
    assert np.allclose(explain.grad_cam(nested, x, "relu"), explain.grad_cam(flat, x, "relu"), atol=1e-5)
    assert explain.feature_map_layers(nested) == ["conv", "relu"]
    assert explain.feature_map_layers(nested, convolutions_only=True) == ["conv"]


def test_a_nested_base_outside_a_chain_is_refused_in_one_sentence():
    flat = conv_gap_dense(num_classes=1, activation="sigmoid", channels=3, size=16)
    base = keras.Model(flat.inputs, flat.get_layer("gap").output, name="base")
    inputs = keras.Input((16, 16, 3))
    side = layers.Dense(4)(layers.GlobalMaxPooling2D()(inputs))
    merged = layers.Add()([base(inputs), side])
    model = keras.Model(inputs, layers.Dense(1, activation="sigmoid")(merged), name="branched")
    with pytest.raises(ValueError, match="not a chain"):
        explain.grad_cam(model, images(2, size=16, channels=3), "relu")


def test_bad_input_gets_a_clear_message():
    model = conv_gap_dense()
    x = images(2)
    with pytest.raises(ValueError, match="no layer named 'block9_conv'.*convolution layers are: conv"):
        explain.grad_cam(model, x, "block9_conv")
    with pytest.raises(ValueError, match="not feature maps"):
        explain.grad_cam(model, x, "gap")
    with pytest.raises(ValueError, match=r"a batch.*images\[np.newaxis\]"):
        explain.grad_cam(model, x[0], "relu")
    with pytest.raises(ValueError, match="12x12x1.*the height differs"):
        explain.grad_cam(model, images(2, size=10), "relu")
    with pytest.raises(ValueError, match="channels differs"):
        explain.grad_cam(model, images(2, channels=3), "relu")
    with pytest.raises(ValueError, match="one per image"):
        explain.grad_cam(model, x, "relu", class_index=[0, 1, 2])
    with pytest.raises(ValueError, match="empty"):
        explain.grad_cam(model, x[:0], "relu")
    with pytest.raises(ValueError, match="shape"):
        explain.saliency(model, np.zeros((12, 12)))


def test_batches_give_the_same_maps():
    model = conv_gap_dense()
    x = images(7)
    assert np.allclose(explain.grad_cam(model, x, "conv", batch_size=3), explain.grad_cam(model, x, "conv"), atol=1e-6)
    with pytest.raises(ValueError, match="batch_size"):
        explain.grad_cam(model, x, "conv", batch_size=0)


def test_saliency_is_the_scaled_absolute_input_gradient():
    """For a linear model the gradient of the score with respect to the pixels is the weight of each pixel."""
    inputs = keras.Input((4, 5, 2))
    flat = layers.Flatten()(inputs)
    dense = layers.Dense(1, activation="sigmoid", name="predictions")
    model = keras.Model(inputs, dense(flat))
    weights = np.random.default_rng(0).normal(size=(40, 1)).astype("float32")
    dense.set_weights([weights, np.zeros(1, "float32")])
    x = images(3, size=4, channels=2)[:, :, :4]  # (3, 4, 4, 2): wrong width
    with pytest.raises(ValueError, match="width"):
        explain.saliency(model, x)
    x = np.random.default_rng(2).uniform(0, 1, (3, 4, 5, 2)).astype("float32")
    got = explain.saliency(model, x)
    expected = np.abs(weights.reshape(4, 5, 2)).max(axis=-1)
    assert got.shape == (3, 4, 5) and np.allclose(got, expected / expected.max(), atol=1e-6)


def test_upsample_and_share_inside():
    maps = np.zeros((2, 2, 2), "float32")
    maps[0, 0, 0] = 1.0  # top-left cell only
    maps[1] = 1.0        # everywhere
    big = explain.upsample(maps, (8, 8))
    assert big.shape == (2, 8, 8) and np.allclose(big[1], 1.0) and big[0, 0, 0] == 1.0 and big[0, 7, 7] == 0.0
    left = np.zeros((8, 8), bool)
    left[:, :4] = True
    share = explain.share_inside(maps, left)
    assert share[0] > 0.8 and np.isclose(share[1], 0.5)  # bilinear stretching spreads the corner a little
    assert np.isnan(explain.share_inside(np.zeros((1, 2, 2)), left))[0]
    per_image = np.stack([left, ~left])
    assert np.isclose(explain.share_inside(maps, per_image)[1], 0.5)
    with pytest.raises(ValueError, match="one per map"):
        explain.share_inside(maps, np.stack([left] * 3))
    with pytest.raises(ValueError, match="non-negative"):
        explain.share_inside(-maps, left)
    with pytest.raises(ValueError, match=r"\(N, h, w\)"):
        explain.upsample(maps[0], (8, 8))


def test_a_mixed_precision_model_gives_float32_scores_and_maps():
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        model = conv_gap_dense(num_classes=2)
    finally:
        keras.mixed_precision.set_global_policy("float32")
    x = images(3)
    assert explain.class_scores(model, x).dtype == np.float32
    cams = explain.grad_cam(model, x, "relu")
    assert cams.dtype == np.float32 and cams.shape == (3, 12, 12) and np.isfinite(cams).all()
    assert explain.saliency(model, x).dtype == np.float32
    with pytest.raises(ValueError, match="empty"):
        explain.class_scores(model, x[:0])


def test_reinitialized_changes_only_the_named_layers_also_inside_a_nested_base():
    flat = conv_gap_dense(num_classes=1, activation="sigmoid", channels=3, size=16)
    base = keras.Model(flat.inputs, flat.get_layer("gap").output, name="base")
    inputs = keras.Input((16, 16, 3))
    nested = keras.Model(inputs, flat.get_layer("predictions")(layers.Dropout(0.5)(base(inputs))), name="classifier")
    before = [w.copy() for w in nested.get_weights()]
    fresh = explain.reinitialized(nested, ["conv", "predictions"], seed=3)
    assert all(np.array_equal(a, b) for a, b in zip(before, nested.get_weights()))  # the original is untouched
    old_conv, new_conv = nested.get_layer("base").get_layer("conv"), fresh.get_layer("base").get_layer("conv")
    assert new_conv is not old_conv and not np.allclose(new_conv.kernel.numpy(), old_conv.kernel.numpy())
    assert not np.allclose(fresh.get_layer("predictions").kernel.numpy(), nested.get_layer("predictions").kernel.numpy())
    only_head = explain.reinitialized(nested, "predictions", seed=3)
    assert np.array_equal(only_head.get_layer("base").get_layer("conv").kernel.numpy(), old_conv.kernel.numpy())
    # the same seed gives the same fresh weights
    again = explain.reinitialized(nested, ["conv", "predictions"], seed=3)
    assert all(np.array_equal(a, b) for a, b in zip(fresh.get_weights(), again.get_weights()))
    with pytest.raises(ValueError, match="no layer named 'nope'"):
        explain.reinitialized(nested, ["nope"])
    with pytest.raises(ValueError, match="no kernel"):
        explain.reinitialized(nested, ["relu"])


def test_the_randomisation_check_tells_a_model_explanation_from_an_edge_detector():
    # Grad-CAM of the trained toy model changes when its weights are re-initialised
    model = conv_gap_dense(num_classes=3, size=16, channels=3)
    x = images(8, size=16, channels=3)
    trained = explain.grad_cam(model, x, "relu", class_index=0)
    fresh = explain.grad_cam(explain.reinitialized(model, ["conv", "predictions"], seed=5), x, "relu", class_index=0)
    rho = explain.rank_correlation(trained, fresh)
    assert rho.shape == (8,) and np.nanmean(rho) < 0.5
    # a "map" that ignores the model (the image's brightness) would pass no such test: it cannot change
    brightness = x.mean(axis=-1)
    assert np.allclose(explain.rank_correlation(brightness, brightness), 1.0)


def test_rank_correlation():
    a = np.arange(16, dtype=float).reshape(4, 4)
    assert explain.rank_correlation(a, a ** 3)[0] == pytest.approx(1.0)  # the same order: 1
    assert explain.rank_correlation(a, -a)[0] == pytest.approx(-1.0)
    assert np.isnan(explain.rank_correlation(a, np.zeros((4, 4)))[0])  # a constant map ranks nothing
    assert explain.rank_correlation(np.stack([a, a]), np.stack([a, -a])).tolist() == pytest.approx([1.0, -1.0])
    with pytest.raises(ValueError, match="same shape"):
        explain.rank_correlation(a, a[:2])


def test_a_sequential_model_loaded_from_a_keras_file_gives_the_same_maps(tmp_path):
    # notebook 07 loads notebook 03's saved Sequential model; loading builds it again, which once cut the path
    # from a layer's maps to the scores (the gradient came back as None)
    from cnnkit import models

    keras.utils.set_random_seed(0)
    model = models.blood_cells_cnn((32, 32, 3), filters=(4, 8), augment=models.augmentation(flip="horizontal"))
    x = np.random.default_rng(0).uniform(0, 255, (3, 32, 32, 3)).astype("float32")
    model.save(tmp_path / "seq.keras")
    loaded = keras.models.load_model(tmp_path / "seq.keras")
    for name in ("block2_relu1", "block1_conv1"):
        before, after = explain.grad_cam(model, x, name), explain.grad_cam(loaded, x, name)
        assert before.shape == after.shape and np.allclose(before, after, atol=1e-5)
    assert np.allclose(explain.saliency(model, x), explain.saliency(loaded, x), atol=1e-5)
    assert np.allclose(explain.class_scores(loaded, x), explain.class_scores(model, x), atol=1e-4)
    with pytest.raises(ValueError, match="not feature maps"):
        explain.grad_cam(loaded, x, "predictions")
