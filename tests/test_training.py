"""cnnkit.training: the triangular schedule, weight averaging, re-augmented epochs, test-time augmentation."""

import keras
import numpy as np
import pytest

from cnnkit import models
from cnnkit.layers import whitening_filters
from cnnkit.training import (
    FlipShiftEpochs,
    TriangularSchedule,
    WeightAveraging,
    airbench_peak_lr,
    airbench_weight_decay,
    predict_tta,
    shift_pad,
    train_airbench,
)


def test_triangular_schedule_shape():
    s = TriangularSchedule(2.0, total_steps=100, warmup=0.2, start=0.1, end=0.05)
    lr = np.array([float(s(i)) for i in range(0, 121)])
    assert lr[0] == pytest.approx(0.2) and lr[20] == pytest.approx(2.0) and lr[100] == pytest.approx(0.1)
    assert lr[10] == pytest.approx(1.1)  # halfway up
    assert lr[60] == pytest.approx(2.0 * (1 + (0.05 - 1) * 0.5))  # halfway down
    assert np.all(np.diff(lr[:21]) > 0) and np.all(np.diff(lr[20:101]) < 0) and np.all(lr[100:] == lr[100])
    again = TriangularSchedule.from_config(s.get_config())
    assert float(again(37)) == pytest.approx(float(s(37)))
    with pytest.raises(ValueError):
        TriangularSchedule(1.0, 0)
    with pytest.raises(ValueError):
        TriangularSchedule(1.0, 10, warmup=1.5)


def _tiny_model():
    inputs = keras.Input((2,))
    outputs = keras.layers.Dense(1, use_bias=False, kernel_initializer="zeros")(inputs)
    return keras.Model(inputs, outputs)


def test_weight_averaging_follows_the_formula():
    model = _tiny_model()
    cb = WeightAveraging(total_steps=10, every=5, decay=0.9)
    cb.set_model(model)
    w = model.weights[0]
    history = []
    for step in range(1, 11):
        w.assign(np.full((2, 1), float(step), "float32"))  # pretend the optimiser moved the weight to `step`
        cb.on_train_batch_end(step - 1)
        history.append(float(w.numpy()[0, 0]))
    d5 = 0.9 ** 5 * (5 / 10) ** 3
    # the average starts from the weights after the first step (1.0) and is first updated at step 5
    avg5 = d5 * 1.0 + (1 - d5) * 5.0
    assert history[4] == pytest.approx(avg5)  # the model continues from the average
    assert history[3] == 4.0 and history[8] == 9.0  # untouched between averaging steps
    assert history[9] == pytest.approx(avg5)  # at the last step the model gets the average (d = 1)


def test_flip_shift_epochs_batches_flips_and_shifts():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (10, 8, 8, 3), dtype=np.uint8)
    y = np.arange(10) % 3
    ds = FlipShiftEpochs(x, y, batch_size=4, num_classes=3, shift=0, seed=1)
    assert len(ds) == 2  # the last incomplete batch is dropped
    xb, yb = ds[0]
    assert xb.shape == (4, 8, 8, 3) and xb.dtype == np.float32 and yb.shape == (4, 3)
    first = ds.flips(0)
    assert np.array_equal(ds.flips(1), ~first)  # alternating: the other half is flipped in odd epochs
    for idx in ds.order[:8]:
        expected = x[idx, :, ::-1] if first[idx] else x[idx]
        assert np.array_equal(ds.images[idx], expected)
    ds.on_epoch_end()
    assert ds.epoch == 1 and np.array_equal(np.where(~first[:, None, None, None], x[:, :, ::-1], x), ds.images)


def test_flip_shift_epochs_shifts_stay_within_the_mirrored_border():
    x = np.arange(6 * 6, dtype=np.uint8).reshape(1, 6, 6, 1).repeat(50, 0)
    ds = FlipShiftEpochs(x, np.zeros(50, int), batch_size=10, num_classes=2, shift=2, flip=False, seed=0)
    padded = shift_pad(x[:1], 2)[0]
    windows = {padded[i:i + 6, j:j + 6].tobytes() for i in range(5) for j in range(5)}
    assert all(img.tobytes() in windows for img in ds.images)
    assert len({img.tobytes() for img in ds.images}) > 5  # different shifts were drawn
    assert np.array_equal(shift_pad(np.arange(3).reshape(1, 1, 3, 1), 1)[0, 1, :, 0], [1, 0, 1, 2, 1])  # no edge repeat


def test_flip_shift_epochs_bad_input():
    with pytest.raises(ValueError, match="one label each"):
        FlipShiftEpochs(np.zeros((4, 8, 8, 3)), np.zeros(3), 2)
    with pytest.raises(ValueError, match="fewer than one batch"):
        FlipShiftEpochs(np.zeros((4, 8, 8, 3)), np.zeros(4), 8)


def test_flip_shift_epochs_trains_a_model():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (64, 32, 32, 3), dtype=np.uint8)
    y = (x[..., 0].mean(axis=(1, 2)) > 127).astype(int)
    keras.utils.set_random_seed(0)
    model = models.airbench(widths=(8, 8, 8), num_classes=2)
    model.compile(keras.optimizers.SGD(TriangularSchedule(0.2, 8), momentum=0.85, nesterov=True),
                  keras.losses.CategoricalCrossentropy(label_smoothing=0.2))
    ds = FlipShiftEpochs(x, y, batch_size=16, num_classes=2)
    hist = model.fit(ds, epochs=2, verbose=0, callbacks=[WeightAveraging(8)])
    assert len(hist.history["loss"]) == 2 and np.all(np.isfinite(hist.history["loss"]))


def test_predict_tta_levels():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (6, 32, 32, 3)).astype("float32")
    keras.utils.set_random_seed(0)
    model = models.airbench(widths=(8, 8, 8))
    plain = model.predict(images, verbose=0)
    assert np.allclose(predict_tta(model, images, level=0), plain, atol=1e-6)
    mirror = model.predict(images[:, :, ::-1].copy(), verbose=0)
    assert np.allclose(predict_tta(model, images, level=1), (plain + mirror) / 2, atol=1e-6)
    logits = predict_tta(model, images, level=2, output="logits")
    assert logits.shape == (6, 10) and not np.allclose(logits.sum(axis=1), 1)
    probs = predict_tta(model, images, level=2)
    assert np.allclose(probs.sum(axis=1), 1, atol=1e-5)
    with pytest.raises(ValueError, match="level"):
        predict_tta(model, images, level=3)
    with pytest.raises(ValueError, match="no layer"):
        predict_tta(model, images, output="nope")


def test_train_airbench_returns_a_trained_compiled_model():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (64, 32, 32, 3), dtype=np.uint8)
    y = rng.integers(0, 10, 64)
    run = train_airbench(x, y, widths=(8, 8, 8), epochs=2, batch_size=16, whiten_images=32, seed=0,
                         validation_data=(x[:16], y[:16]))
    model, history, seconds = run
    assert run.model is model and seconds > 0
    assert model.count_params() == models.airbench(widths=(8, 8, 8)).count_params()
    assert model.optimizer.iterations.numpy() == 2 * (64 // 16)
    assert len(history["val_accuracy"]) == 2 and len(history["loss"]) == 2
    mean, std = x.reshape(-1, 3).mean(axis=0) / 255, x.reshape(-1, 3).std(axis=0) / 255
    standardised = model.get_layer("normalize")(x[:2].astype("float32"))  # the statistics of x, not CIFAR-10's
    assert np.allclose(np.asarray(standardised), (x[:2] / 255 - mean) / std, atol=1e-4)
    whiten = model.get_layer("whiten").get_weights()[0]
    expected = whitening_filters((x[:32] / 255 - mean) / std)
    assert np.allclose(whiten, expected, atol=1e-5) and not model.get_layer("whiten").trainable
    assert np.all(np.isfinite(model.predict(x[:4], verbose=0)))
    assert keras.mixed_precision.global_policy().name == "float32"  # the previous policy is restored
    with pytest.raises(ValueError, match="RGB images"):
        train_airbench(x[..., 0], y, widths=(8, 8, 8))
    with pytest.raises(ValueError, match="epochs"):
        train_airbench(x, y, widths=(8, 8, 8), epochs=0)
    with pytest.raises(ValueError, match="labels"):
        train_airbench(x, y[:10], widths=(8, 8, 8))


def test_train_airbench_switches_remove_one_ingredient_each():
    rng = np.random.default_rng(1)
    x = rng.integers(0, 256, (32, 32, 32, 3), dtype=np.uint8)
    y = rng.integers(0, 10, 32)
    plain = train_airbench(x, y, widths=(8, 8, 8), epochs=1, batch_size=16, whitening=False, averaging=False,
                           augment=False, label_smoothing=0.0, precision="mixed_bfloat16").model
    assert plain.get_layer("whiten").trainable  # an ordinary first layer, learned
    assert plain.loss.label_smoothing == 0.0
    assert plain.get_layer("block1_conv1").compute_dtype == "bfloat16"
    assert keras.mixed_precision.global_policy().name == "float32"


def test_airbench_learning_rate_and_weight_decay_follow_the_original():
    # airbench94: lr 11.5 and wd 0.0153 per 1,024 examples, momentum 0.85; lr * wd is the per-step shrink
    assert airbench_peak_lr(0.85) == pytest.approx(11.5 / (1 + 1 / 0.15))
    assert airbench_peak_lr(0.85) * airbench_weight_decay(0.85) == pytest.approx(0.0153 / (1 + 1 / 0.15))
    assert airbench_weight_decay(0.85) == pytest.approx(models.airbench.__kwdefaults__["weight_decay"], rel=1e-3)
