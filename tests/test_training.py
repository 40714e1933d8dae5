"""cnnkit.training: the triangular schedule, weight averaging, re-augmented epochs, test-time augmentation."""

import os

import keras
import numpy as np
import pytest

from cnnkit import models
from cnnkit.layers import whitening_filters
from cnnkit.training import (
    AIRBENCH_SETTINGS,
    FlipShiftEpochs,
    FreezeLayerAfter,
    TriangularSchedule,
    WeightAveraging,
    airbench_peak_lr,
    airbench_settings,
    airbench_weight_decay,
    device_settings,
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
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="sgd", loss="mse")
    model.optimizer.build(model.trainable_variables)
    return model


def _drive(cb, model, values):
    """Pretend the optimiser moved the weight to each of ``values`` in turn, counting its steps as fit does."""
    w = model.weights[0]
    cb.set_model(model)
    cb.on_train_begin()
    history = []
    for i, value in enumerate(values):
        cb.on_train_batch_begin(i)
        w.assign(np.full((2, 1), float(value), "float32"))
        model.optimizer.iterations.assign(model.optimizer.iterations + 1)
        cb.on_train_batch_end(i)
        history.append(float(w.numpy()[0, 0]))
    return history


@pytest.mark.parametrize("total", [10, 12])
def test_weight_averaging_follows_the_formula(total):
    model = _tiny_model()  # the weight starts at 0: the average starts from the initial weights
    history = _drive(WeightAveraging(total_steps=total, every=5, decay=0.9), model, range(1, total + 1))
    d5, d10 = 0.9 ** 5 * (5 / total) ** 3, 0.9 ** 5 * (10 / total) ** 3
    avg5 = d5 * 0.0 + (1 - d5) * 5.0
    assert history[4] == pytest.approx(avg5)  # the model continues from the average
    assert history[3] == 4.0 and history[8] == 9.0  # untouched between averaging steps
    avg10 = d10 * avg5 + (1 - d10) * 10.0  # at step 10 the regular averaging step is made, also when it is the last
    assert history[9] == pytest.approx(avg10)
    assert history[-1] == pytest.approx(avg10)  # at the last step the model gets the average


def test_weight_averaging_counts_optimiser_steps_and_ends_with_the_average():
    model = _tiny_model()
    cb = WeightAveraging(total_steps=10, every=5, decay=0.9)
    cb.set_model(model)
    cb.on_train_begin()
    w = model.weights[0]
    for i, (value, counted) in enumerate([(1, True), (2, False), (3, True), (4, True), (5, True), (6, True)]):
        cb.on_train_batch_begin(i)
        w.assign(np.full((2, 1), float(value), "float32"))
        if counted:  # a loss-scaling optimiser skips a step with an overflow: iterations stays
            model.optimizer.iterations.assign(model.optimizer.iterations + 1)
        cb.on_train_batch_end(i)
    d5 = 0.9 ** 5 * (5 / 10) ** 3
    avg5 = (1 - d5) * 6.0  # one averaging step, at the optimiser's 5th step (the 6th batch)
    assert float(w.numpy()[0, 0]) == pytest.approx(avg5)
    w.assign(np.full((2, 1), 7.0, "float32"))
    cb.on_train_end()  # training ended before total_steps: the model gets the average
    assert float(w.numpy()[0, 0]) == pytest.approx(avg5)


def test_weight_averaging_saves_and_restores_its_average(tmp_path):
    model = _tiny_model()
    cb = WeightAveraging(total_steps=20, every=5, decay=0.9, backup=tmp_path)
    _drive(cb, model, range(1, 6))
    cb.on_epoch_end(0)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["weight_averaging-5.npz"]
    saved = [np.array(a.numpy()) for a in cb._average]
    again = WeightAveraging(total_steps=20, every=5, decay=0.9, backup=tmp_path)
    again.set_model(model)
    again.on_train_begin()
    model.weights[0].assign(np.full((2, 1), 99.0, "float32"))
    again.on_train_batch_begin(0)
    assert again.step == 5 and all(np.array_equal(a, b.numpy()) for a, b in zip(saved, again._average))


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


@pytest.mark.parametrize("alternating", [True, False])
def test_flip_shift_epochs_each_epoch_follows_from_the_seed_and_its_number(alternating):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (40, 8, 8, 3), dtype=np.uint8)
    y = np.arange(40) % 10
    walked = FlipShiftEpochs(x, y, batch_size=8, seed=3, alternating=alternating)
    served = []
    for _ in range(4):
        served.append([walked[i][0] for i in range(len(walked))])
        walked.on_epoch_end()
    jumped = FlipShiftEpochs(x, y, batch_size=8, seed=3, alternating=alternating)
    jumped.epoch = 2  # as a resumed run starts: directly at epoch 2
    assert all(np.array_equal(a, jumped[i][0]) for i, a in enumerate(served[2]))
    assert not np.array_equal(served[2][0], served[3][0])  # epochs differ
    other = FlipShiftEpochs(x, y, batch_size=8, seed=4, alternating=alternating)
    assert not np.array_equal(other[0][0], served[0][0])


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


def test_freeze_layer_after_stops_one_layer_from_the_given_epoch():
    keras.utils.set_random_seed(0)
    inputs = keras.Input((4,))
    x = keras.layers.Dense(3, name="first")(inputs)
    outputs = keras.layers.Dense(2, name="second")(x)
    model = keras.Model(inputs, outputs)
    model.compile(keras.optimizers.SGD(0.1, momentum=0.9), "mse")
    seen = []

    class Record(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            seen.append([w.copy() for w in self.model.get_layer("first").get_weights()]
                        + [self.model.get_layer("second").get_weights()[0].copy()])

    rng = np.random.default_rng(0)
    model.fit(rng.normal(size=(32, 4)), rng.normal(size=(32, 2)), batch_size=8, epochs=4, verbose=0,
              callbacks=[FreezeLayerAfter("first", 2), Record()])
    changed = [not np.array_equal(a[0], b[0]) for a, b in zip(seen, seen[1:])]
    assert changed == [True, False, False]  # trained in epochs 0 and 1 only (momentum included)
    assert all(not np.array_equal(a[2], b[2]) for a, b in zip(seen, seen[1:]))  # the other layer trains on
    assert model.get_layer("first").trainable  # trainable again after fit


def _data(n=200, size=16, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, size, size, 3), dtype=np.uint8), rng.integers(0, 10, n)


def test_train_airbench_freezes_the_whitening_bias_after_whiten_bias_epochs(monkeypatch):
    from cnnkit import training

    seen = []

    class Recording(FreezeLayerAfter):
        def on_epoch_begin(self, epoch, logs=None):
            seen.append(self.model.get_layer("whiten_shift").get_weights()[0].copy())
            super().on_epoch_begin(epoch, logs)

    monkeypatch.setattr(training, "FreezeLayerAfter", Recording)
    x, y = _data(80)
    model = train_airbench(x, y, widths=(8, 8, 8), epochs=3, batch_size=20, averaging=False, seed=0,
                           whiten_bias_epochs=1).model
    bias = model.get_layer("whiten_shift").get_weights()[0]
    assert np.all(seen[0] == 0) and np.any(seen[1] != 0)  # trained in the first epoch
    assert np.array_equal(seen[2], seen[1]) and np.array_equal(bias, seen[1])  # not after it
    assert model.get_layer("whiten_shift").trainable
    seen.clear()
    model = train_airbench(x, y, widths=(8, 8, 8), epochs=3, batch_size=20, averaging=False, seed=0,
                           whiten_bias_epochs=None).model
    assert seen == [] and not np.array_equal(model.get_layer("whiten_shift").get_weights()[0], bias)


def test_train_airbench_resumes_an_interrupted_run_exactly(tmp_path, monkeypatch):
    x, y = _data()
    settings = dict(widths=(8, 8, 8), epochs=4, batch_size=40, seed=1, whiten_bias_epochs=3)  # 5 steps/epoch

    class Interrupted(Exception):
        pass

    class InterruptAfterEpoch2(keras.callbacks.BackupAndRestore):
        def on_epoch_end(self, epoch, logs=None):
            super().on_epoch_end(epoch, logs)
            if epoch == 1:
                raise Interrupted

    whole = train_airbench(x, y, **settings).model.get_weights()
    backup = tmp_path / "backup"
    with monkeypatch.context() as m:
        m.setattr(keras.callbacks, "BackupAndRestore", InterruptAfterEpoch2)
        with pytest.raises(Interrupted):
            train_airbench(x, y, backup=backup, **settings)
    assert (backup / "weight_averaging-10.npz").exists() and (backup / "training_metadata.json").exists()
    keras.utils.set_random_seed(123)  # a resumed run does not share the global random state
    resumed = train_airbench(x, y, backup=backup, **settings)
    assert resumed.model.optimizer.iterations.numpy() == 20 and len(resumed.history["loss"]) == 2
    assert all(np.array_equal(a, b) for a, b in zip(whole, resumed.model.get_weights()))
    assert not backup.exists()  # Keras deletes the backup once training completes


def test_train_airbench_refuses_a_backup_folder_with_other_files(tmp_path):
    x, y = _data(40)
    (tmp_path / "my_notes.txt").write_text("keep me")
    with pytest.raises(ValueError, match="other files"):
        train_airbench(x, y, widths=(8, 8, 8), epochs=1, batch_size=20, backup=tmp_path)
    assert (tmp_path / "my_notes.txt").read_text() == "keep me"


def test_train_airbench_include_validation_trains_on_both():
    x, y = _data(60)
    run = train_airbench(x[:40], y[:40], widths=(8, 8, 8), epochs=1, batch_size=20,
                         validation_data=(x[40:], y[40:]), include_validation=True)
    assert run.model.optimizer.iterations.numpy() == 3 and "val_accuracy" not in run.history
    with pytest.raises(ValueError, match="validation_data"):
        train_airbench(x, y, widths=(8, 8, 8), epochs=1, batch_size=20, include_validation=True)


def test_airbench_settings_and_device_settings():
    full, quick = airbench_settings(quick=False), airbench_settings(quick=True)
    assert full == AIRBENCH_SETTINGS["full"] and full is not AIRBENCH_SETTINGS["full"]
    assert full["widths"] == (64, 256, 256) and full["batch_size"] == 1024 and quick["epochs"] < full["epochs"]
    assert set(full) == set(quick)
    assert device_settings(on_gpu=True) == {"precision": "mixed_float16", "jit_compile": True}
    assert device_settings(on_gpu=False, quick=True) == {"precision": "float32", "jit_compile": False}
    assert device_settings(on_gpu=False, quick=False)["precision"] in ("float32", "mixed_bfloat16")


def test_a_half_written_average_does_not_block_resuming(tmp_path):
    """A run killed while saving its weight average leaves weight_averaging-N.tmp.npz behind; the backup
    folder must still be accepted when the training is started again, and the file must be one it writes."""
    import numpy as np

    from cnnkit.training import WeightAveraging, _check_backup_folder

    averaging = WeightAveraging(total_steps=10, backup=str(tmp_path))
    averaging._average = [keras.Variable(np.zeros(2, "float32"))]
    averaging.step = 5
    written = []
    real_savez = np.savez

    def spy(file, **arrays):
        written.append(os.path.basename(file))
        real_savez(file, **arrays)

    np.savez = spy
    try:
        averaging.on_epoch_end(0)
    finally:
        np.savez = real_savez
    assert written == ["weight_averaging-5.tmp.npz"]
    (tmp_path / "weight_averaging-9.tmp.npz").write_bytes(b"cut short")
    _check_backup_folder(tmp_path)  # no ValueError: it is the averaging's own file
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(ValueError, match="other files"):
        _check_backup_folder(tmp_path)
