"""Notebook 05's GPU branch, run on the CPU (issue 23, item 8): the settings that device_settings picks on a GPU
(mixed_float16 with Keras's automatic loss scaling, jit_compile=True), then save, load in float32 (as notebook 07
does) and Grad-CAM. Reduced sizes: this test is about the code path, not accuracy."""

import keras
import numpy as np

from cnnkit import checkpoints, explain, training


def test_gpu_branch_trains_saves_loads_in_float32_and_explains(tmp_path, monkeypatch):
    monkeypatch.setenv("CNNKIT_MODELS", str(tmp_path))
    device = training.device_settings(on_gpu=True)
    assert device == {"precision": "mixed_float16", "jit_compile": True}
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (80, 32, 32, 3), dtype=np.uint8)
    y = rng.integers(0, 10, 80)
    # whiten_bias_epochs=1: the whitening bias freezes after the first epoch (the training step is rebuilt, under XLA)
    run = training.train_airbench(x, y, widths=(8, 8, 8), epochs=2, batch_size=20, seed=0, whiten_bias_epochs=1,
                                  validation_data=(x[:20], y[:20]), backup=tmp_path / "backup", **device)
    model = run.model
    assert isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer)  # Keras adds it under mixed_float16
    assert model.get_layer("block1_conv1").compute_dtype == "float16" and model.output.dtype == "float32"
    assert np.all(np.isfinite(run.history["loss"])) and keras.mixed_precision.global_policy().name == "float32"
    assert 0 < int(model.optimizer.iterations.numpy()) <= 8  # steps with an overflow are skipped, not counted

    saved = checkpoints.save_model(model, "gpu-branch")
    loaded = checkpoints.load_model("gpu-branch", dtype="float32")
    assert {layer.dtype_policy.name for layer in loaded.layers} == {"float32"}
    images = x[:4].astype("float32")
    original = model.predict(images, verbose=0)
    assert np.allclose(loaded.predict(images, verbose=0), original, atol=2e-2)  # float16 vs float32 arithmetic
    assert saved.exists()

    maps = explain.grad_cam(loaded, images, "block3_gelu2")
    assert maps.shape[0] == 4 and np.all(np.isfinite(maps))
    tta = training.predict_tta(loaded, images, level=2, output="logits")
    assert tta.shape == (4, 10) and np.all(np.isfinite(tta))
