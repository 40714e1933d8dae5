"""cnnkit.plots: each function draws what it should (titles, labels, images, colour bars) on the Agg backend."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PIL import Image  # noqa: E402

from cnnkit import plots  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def texts(ax):
    return [t.get_text() for t in ax.texts]


def test_as_image_handles_grey_colour_floats_tensors_and_paths(tmp_path):
    import tensorflow as tf

    assert plots.as_image(np.zeros((4, 5, 1), "uint8")).shape == (4, 5)
    float_rgb = np.full((2, 2, 3), 200.0, "float32")  # 0-255 floats, as a tf.data pipeline gives them
    out = plots.as_image(float_rgb)
    assert out.dtype == np.uint8 and out.max() == 200
    unit = np.full((2, 2, 3), 0.5)
    assert plots.as_image(unit).dtype == np.float64  # [0, 1] floats are what imshow expects
    assert plots.as_image(tf.zeros((3, 3, 3))).shape == (3, 3, 3)
    Image.fromarray(np.zeros((6, 8), "uint8")).save(tmp_path / "g.png")
    assert plots.as_image(tmp_path / "g.png").shape == (6, 8, 3)
    with pytest.raises(ValueError, match="image must be"):
        plots.as_image(np.zeros((2, 2, 2)))


def test_show_matrix_writes_every_value_without_negative_zero():
    fig, ax = plt.subplots()
    values = np.array([[1.0, -0.001], [2.5, 3.0]])
    im = plots.show_matrix(ax, values, "a matrix", fmt="{:.2f}")
    assert texts(ax) == ["1.00", "0.00", "2.50", "3.00"]
    assert ax.get_title() == "a matrix" and ax.get_xlabel() == "column" and ax.get_ylabel() == "row"
    assert im.get_clim() == (-0.001, 3.0)
    # dark text on light cells, light text on dark ones
    colours = {t.get_text(): t.get_color() for t in ax.texts}
    assert colours["3.00"] == "black" and colours["0.00"] == "white"
    with pytest.raises(ValueError):
        plots.show_matrix(ax, np.zeros(3))


def test_image_grid_titles_of_two_lines_stay_clear_of_the_row_above():
    images = np.zeros((4, 32, 32, 3), "uint8")
    fig = plots.image_grid(images, [f"true: cat\npred: dog ({i})" for i in range(4)], ncols=2, size=2.0,
                           suptitle="a title", fontsize=8)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    top, bottom = fig.axes[0], fig.axes[2]  # one image of the first row, the one below it
    title_box = bottom.title.get_window_extent(renderer)
    assert title_box.y1 <= top.get_window_extent(renderer).y0 + 1  # the title ends below the image above


def test_image_grid_draws_each_image_with_its_title():
    images = np.random.default_rng(0).integers(0, 256, (5, 8, 8, 1)).astype("uint8")
    fig = plots.image_grid(images, [f"img {i}" for i in range(5)], ncols=3, suptitle="five images")
    drawn = [ax for ax in fig.axes if ax.images]
    assert len(fig.axes) == 6 and len(drawn) == 5
    assert [ax.get_title() for ax in drawn] == [f"img {i}" for i in range(5)]
    assert drawn[0].images[0].get_cmap().name == "gray" and drawn[0].images[0].get_clim() == (0, 255)
    assert fig._suptitle.get_text() == "five images"
    rgb = plots.image_grid([np.zeros((4, 4, 3), "uint8")] * 2)
    assert len([ax for ax in rgb.axes if ax.images]) == 2
    with pytest.raises(ValueError):
        plots.image_grid(images, ["only one title"])
    with pytest.raises(ValueError):
        plots.image_grid([])


HISTORY = {"loss": [1.0, 0.7, 0.6], "val_loss": [1.1, 0.8, 0.9], "accuracy": [0.5, 0.7, 0.8],
           "val_accuracy": [0.45, 0.65, 0.6], "learning_rate": [0.1, 0.1, 0.01]}


def test_training_curves_one_history_with_best_epoch():
    fig = plots.training_curves(HISTORY, ylabels={"loss": "cross-entropy"}, title="LeNet", best_epoch=2)
    loss_ax, acc_ax = fig.axes
    assert loss_ax.get_title() == "LeNet: loss" and acc_ax.get_title() == "LeNet: accuracy"
    assert loss_ax.get_ylabel() == "cross-entropy" and acc_ax.get_ylabel() == "accuracy"
    assert loss_ax.get_xlabel() == "epoch"
    labels = [line.get_label() for line in loss_ax.get_lines()]
    assert labels == ["training", "validation", "best epoch (2)"]
    np.testing.assert_allclose(loss_ax.get_lines()[1].get_ydata(), HISTORY["val_loss"])
    assert loss_ax.get_lines()[1].get_linestyle() == "--"


def test_training_curves_compares_runs_and_any_metric():
    class History:  # what model.fit returns
        history = HISTORY

    fig = plots.training_curves({"a": History(), "b": HISTORY}, metrics=["learning_rate"])
    (ax,) = fig.axes
    assert [line.get_label() for line in ax.get_lines()] == ["a: training", "b: training"]  # no val_learning_rate
    assert ax.get_title() == "learning_rate per epoch"
    assert ax.get_lines()[0].get_color() != ax.get_lines()[1].get_color()
    with pytest.raises(KeyError, match="auc"):
        plots.training_curves(HISTORY, metrics=["auc"])
    with pytest.raises(ValueError):
        plots.training_curves([1, 2])


def test_confusion_matrix_by_share_and_by_count():
    cm = np.array([[8, 2], [0, 5]])
    fig, axes = plt.subplots(1, 2)
    im = plots.confusion_matrix(axes[0], cm, ["cat", "dog"], values="both", title="shares")
    assert im.get_array()[0, 1] == pytest.approx(0.2) and im.get_clim() == (0, 1.0)
    assert texts(axes[0]) == ["8\n80%", "2\n20%", "0\n0%", "5\n100%"]
    assert axes[0].get_xlabel() == "predicted class" and axes[0].get_ylabel() == "true class"
    assert [t.get_text() for t in axes[0].get_xticklabels()] == ["cat", "dog"]
    assert im.colorbar is not None and im.colorbar.ax.get_ylabel() == "share of the true class (row)"
    im2 = plots.confusion_matrix(axes[1], cm, ["cat", "dog"], colour="count", hide_zeros=True, colorbar=False)
    assert im2.get_clim() == (0, 8.0) and im2.colorbar is None
    assert texts(axes[1]) == ["8", "2", "5"]
    with pytest.raises(ValueError):
        plots.confusion_matrix(axes[1], cm, ["only one"])
    with pytest.raises(ValueError):
        plots.confusion_matrix(axes[1], cm, ["cat", "dog"], colour="log")


def test_misclassified_gallery_rgb_greyscale_and_paths(tmp_path):
    y = np.array([0, 1, 2, 1])
    probs = np.array([[0.1, 0.8, 0.1], [0.1, 0.85, 0.05], [0.6, 0.3, 0.1], [0.2, 0.7, 0.1]])  # 0 and 2 wrong
    rgb = np.zeros((4, 6, 6, 3), "uint8")
    fig = plots.misclassified_gallery(rgb, y, probs, ["a", "b", "c"])
    drawn = [ax for ax in fig.axes if ax.images]
    assert len(drawn) == 2
    assert [ax.get_title() for ax in drawn] == ["true: a\npred: b (0.80)", "true: c\npred: a (0.60)"]
    assert "2 mistakes in 4 examples" in fig._suptitle.get_text()
    grey = plots.misclassified_gallery(np.zeros((4, 6, 6, 1), "uint8"), y, probs, ["a", "b", "c"], n=1)
    (ax,) = [ax for ax in grey.axes if ax.images]
    assert ax.images[0].get_array().shape == (6, 6) and ax.images[0].get_cmap().name == "gray"
    paths = []
    for i in range(4):
        Image.fromarray(np.full((5, 7, 3), 40 * i, "uint8")).save(tmp_path / f"{i}.png")
        paths.append(tmp_path / f"{i}.png")
    fig = plots.misclassified_gallery(paths, y, probs, ["a", "b", "c"])
    assert [ax.images[0].get_array()[0, 0, 0] for ax in fig.axes if ax.images] == [0, 80]
    binary = plots.misclassified_gallery(rgb[:2], [1, 0], np.array([[0.3], [0.2]]), ["Cat", "Dog"])
    assert [ax.get_title() for ax in binary.axes if ax.images] == ["true: Dog\npred: Cat (0.70)"]
    assert plots.misclassified_gallery(rgb[:1], [1], [[0.1, 0.9]], ["a", "b"]) is None  # no mistake


def test_overlay_heatmap_stretches_the_map_over_the_image_with_a_colour_bar():
    fig, (ax1, ax2) = plt.subplots(1, 2)
    image = np.zeros((32, 48, 3), "uint8")
    heat = np.arange(12, dtype=float).reshape(3, 4)
    hm = plots.overlay_heatmap(ax1, image, heat, alpha=0.5, colorbar=True, label="importance", title="Grad-CAM")
    assert len(ax1.images) == 2 and ax1.images[0].get_array().shape == (32, 48, 3)
    assert list(hm.get_extent()) == [-0.5, 47.5, 31.5, -0.5]  # the 3x4 map covers the whole 32x48 image
    assert hm.get_alpha() == 0.5 and hm.get_clim() == (0.0, 11.0)
    assert hm.colorbar is not None and hm.colorbar.ax.get_ylabel() == "importance"
    assert ax1.get_title() == "Grad-CAM"
    hm2 = plots.overlay_heatmap(ax2, np.zeros((8, 8), "uint8"), heat[..., None], vmin=0, vmax=1)
    assert hm2.colorbar is None and hm2.get_clim() == (0, 1)
    with pytest.raises(ValueError):
        plots.overlay_heatmap(ax2, image, np.zeros(5))
    with pytest.raises(ValueError):
        plots.overlay_heatmap(ax2, image, heat, alpha=2)
