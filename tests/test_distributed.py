"""Notebook 05's fast network trains under tf.distribute.MirroredStrategy on two logical CPU devices.

TensorFlow fixes its devices when it first starts, so the test runs in a fresh Python process that splits the
CPU into two logical devices before anything else.
"""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SCRIPT = textwrap.dedent("""
    import json, os
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    import keras
    import numpy as np
    from cnnkit import models, training

    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    replicas = strategy.num_replicas_in_sync
    per_replica = 16
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (8 * per_replica * replicas, 32, 32, 3)).astype("uint8")
    y = (x[..., 2].mean(axis=(1, 2)) > x[..., 0].mean(axis=(1, 2))).astype(int)
    keras.utils.set_random_seed(0)
    with strategy.scope():
        model = models.airbench(widths=(8, 16, 16), num_classes=2)
        model.compile(keras.optimizers.SGD(training.TriangularSchedule(0.1, 16), momentum=0.85, nesterov=True),
                      keras.losses.CategoricalCrossentropy(label_smoothing=0.2), metrics=["accuracy"])
        kernel = model.get_layer("block1_conv1").kernel
    data = training.FlipShiftEpochs(x, y, per_replica * replicas, num_classes=2, seed=0)
    history = model.fit(data, epochs=2, verbose=0, callbacks=[training.WeightAveraging(16)])
    print(json.dumps({"replicas": replicas, "loss": history.history["loss"],
                      "mirrored": type(kernel.value).__name__, "steps": int(model.optimizer.iterations.numpy())}))
""")


def test_airbench_trains_under_mirrored_strategy_on_two_logical_devices():
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=env, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["replicas"] == 2
    assert "Mirrored" in result["mirrored"]  # the variables live on both devices
    assert result["steps"] == 16  # 8 global batches per epoch, 2 epochs: each step used both replicas
    assert all(v == v and v < 10 for v in result["loss"])  # finite
