"""The course's plots: image grids, matrices with their values, training curves, confusion matrices,
misclassified galleries and heat-map overlays.

Every plot gets a title and axis labels, and uses colours and line styles that stay distinguishable for
colour-blind readers and in greyscale (:data:`COLOURS` is the Okabe-Ito palette; lines also differ in
style and marker).

Two kinds of function:

* axes-level, ``f(ax, ...)``: draw on one ``matplotlib`` axes and return the image they drew (for
  ``fig.colorbar``): :func:`show_matrix`, :func:`confusion_matrix`, :func:`overlay_heatmap`;
* figure-level: make a figure and return it: :func:`image_grid`, :func:`training_curves`,
  :func:`misclassified_gallery`.

None of them calls ``plt.show()``; a notebook does that (or Jupyter shows the figure at the end of the cell).
Images may be NumPy arrays or tensors, ``(H, W)``, ``(H, W, 1)`` (greyscale) or ``(H, W, 3)`` (RGB), with
values 0-255 or floats in [0, 1], or paths of image files.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from . import evaluate

__all__ = ["COLOURS", "as_image", "show_matrix", "image_grid", "training_curves", "confusion_matrix",
           "misclassified_gallery", "overlay_heatmap"]

# Okabe and Ito (2008), "Color Universal Design": distinguishable with every common colour-vision deficiency.
COLOURS = ["#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#f0e442", "#000000"]
_MARKERS = ["o", "s", "^", "D", "v", "P", "X", "*"]


def _plt():
    import matplotlib.pyplot as plt

    return plt


def as_image(image) -> np.ndarray:
    """An image as an array ``imshow`` draws correctly: ``(H, W)`` for greyscale, ``(H, W, 3|4)`` for colour.

    Args:
        image: an array or tensor (``(H, W)``, ``(H, W, 1)``, ``(H, W, 3)``), values 0-255 or in [0, 1],
            or the path of an image file.

    Returns:
        A NumPy array; colour images with values above 1 become uint8 (``imshow`` reads float RGB as 0-1).
    """
    if isinstance(image, (str, Path)):
        from PIL import Image

        with Image.open(image) as img:
            return np.asarray(img.convert("RGB"))
    if hasattr(image, "numpy") and callable(image.numpy):
        image = image.numpy()
    arr = np.asarray(image)
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[..., 0]
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (3, 4)):
        raise ValueError(f"an image must be (H, W), (H, W, 1), (H, W, 3) or (H, W, 4), got shape {np.shape(image)}")
    if arr.ndim == 3 and arr.dtype != np.uint8 and arr.size and float(np.nanmax(arr)) > 1.0:
        arr = np.clip(np.round(arr), 0, 255).astype(np.uint8)
    return arr


def _draw_image(ax, image, cmap=None, vmin=None, vmax=None):
    arr = as_image(image)
    if arr.ndim == 2:
        cmap = cmap or "gray"
        if arr.dtype == np.uint8 and vmin is None and vmax is None:
            vmin, vmax = 0, 255
    ax.imshow(arr, cmap=cmap, vmin=vmin, vmax=vmax)
    ax.set_xticks([])
    ax.set_yticks([])


def show_matrix(ax, values, title: str | None = None, fmt: str = "{:.0f}", cmap: str = "gray", vmin=None, vmax=None,
                fontsize: int = 9):
    """Draw a small 2-D array as a heatmap with each value written in its cell.

    Args:
        ax: the matplotlib axes to draw on.
        values: a 2-D array.
        title: the axes title.
        fmt: format of each value (``"{:.2f}"``, ``"{:g}"``...); ``-0`` is written ``0``.
        cmap: colour map; text is dark on light cells and light on dark ones.
        vmin, vmax: the colour scale (default: the array's minimum and maximum).
        fontsize: size of the values' text.

    Returns:
        The ``AxesImage`` (for ``fig.colorbar``).
    """
    values = np.asarray(values, dtype=float)
    if values.ndim != 2:
        raise ValueError(f"show_matrix draws a 2-D array, got shape {values.shape}")
    vmin = values.min() if vmin is None else vmin
    vmax = values.max() if vmax is None else vmax
    im = ax.imshow(values, cmap=cmap, vmin=vmin, vmax=vmax)
    for (r, c), v in np.ndenumerate(values):
        text = fmt.format(v)
        if text.startswith("-") and float(text) == 0:
            text = text[1:]  # no "-0.00"
        light = (v - vmin) / max(vmax - vmin, 1e-12) > 0.45
        ax.text(c, r, text, ha="center", va="center", fontsize=fontsize, color="black" if light else "white")
    if title:
        ax.set_title(title, fontsize=10)
    ax.set_xticks(range(values.shape[1]))
    ax.set_yticks(range(values.shape[0]))
    ax.set_xlabel("column")
    ax.set_ylabel("row")
    return im


def image_grid(images, titles=None, *, ncols: int | None = None, cmap=None, vmin=None, vmax=None,
               suptitle: str | None = None, size: float = 2.0, fontsize: int = 9):
    """A grid of images, each with its own title.

    Args:
        images: a sequence (or an ``(N, H, W[, C])`` array) of images or image paths (see :func:`as_image`).
        titles: one title per image, or None.
        ncols: images per row (default: all in one row, at most 8).
        cmap, vmin, vmax: for greyscale images (default: grey, 0-255 for uint8).
        suptitle: the figure's title.
        size: width of one image in inches.
        fontsize: size of the titles.

    Returns:
        The figure; unused cells of the last row are left blank.
    """
    plt = _plt()
    n = len(images)
    if n == 0:
        raise ValueError("image_grid needs at least one image")
    if titles is not None and len(titles) != n:
        raise ValueError(f"{n} images but {len(titles)} titles")
    ncols = min(n, 8) if ncols is None else max(1, int(ncols))
    nrows = -(-n // ncols)
    title_lines = max(str(t).count("\n") + 1 for t in titles) if titles is not None else 0
    row_height = size + title_lines * fontsize * 1.5 / 72  # the image and its title, in inches
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, row_height * nrows + (0.6 if suptitle else 0.2)),
                             squeeze=False)
    for k, ax in enumerate(axes.flat):
        if k >= n:
            ax.axis("off")
            continue
        _draw_image(ax, images[k], cmap, vmin, vmax)
        if titles is not None:
            ax.set_title(titles[k], fontsize=fontsize)
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig


def _histories(histories) -> dict:
    """``{name: {metric: [values per epoch]}}`` from a History, a history dict, or a dict of either."""
    def logs(h):
        return dict(h.history) if hasattr(h, "history") and isinstance(h.history, dict) else dict(h)

    if hasattr(histories, "history") and isinstance(histories.history, dict):
        return {None: logs(histories)}
    if isinstance(histories, dict) and histories and all(np.ndim(v) == 1 for v in histories.values()):
        return {None: logs(histories)}
    if isinstance(histories, dict) and histories:
        return {name: logs(h) for name, h in histories.items()}
    raise ValueError("histories must be a keras History, a history dict {metric: values}, or a dict of those")


def training_curves(histories, metrics=("loss", "accuracy"), *, ylabels: dict | None = None, title: str | None = None,
                    best_epoch=None, size=(5.5, 3.8)):
    """One plot per metric of training (solid) and validation (dashed) values per epoch.

    Args:
        histories: what ``model.fit`` returned (a ``History`` or its ``.history`` dict), or a dict
            ``{run name: history}`` to compare runs (one colour and marker per run).
        metrics: the metrics to plot, each a key of the history; ``val_<metric>`` is drawn too when present.
        ylabels: y-axis label per metric (default: the metric's name).
        title: prefix of each plot's title (``"<title>: <metric>"``; default ``"<metric> per epoch"``).
        best_epoch: an epoch (1-based) to mark with a dotted vertical line, or ``{run name: epoch}``.
        size: size of one plot in inches.

    Returns:
        The figure.
    """
    plt = _plt()
    from matplotlib.ticker import MaxNLocator

    runs = _histories(histories)
    metrics = [metrics] if isinstance(metrics, str) else list(metrics)
    for name, logs in runs.items():
        missing = [m for m in metrics if m not in logs]
        if missing:
            raise KeyError(f"{'the history' if name is None else repr(name)} has no {missing}; it has {sorted(logs)}")
    ylabels = ylabels or {}
    best = best_epoch if isinstance(best_epoch, dict) else {name: best_epoch for name in runs}
    fig, axes = plt.subplots(1, len(metrics), figsize=(size[0] * len(metrics), size[1]), squeeze=False)
    n_epochs = max(len(logs[m]) for logs in runs.values() for m in metrics)
    for ax, metric in zip(axes[0], metrics):
        for k, (name, logs) in enumerate(runs.items()):
            colour, marker = COLOURS[k % len(COLOURS)], _MARKERS[k % len(_MARKERS)]
            prefix = "" if name is None else f"{name}: "
            epochs = np.arange(1, len(logs[metric]) + 1)
            ax.plot(epochs, logs[metric], "-", color=colour, marker=marker, label=f"{prefix}training")
            if f"val_{metric}" in logs:
                ax.plot(np.arange(1, len(logs[f"val_{metric}"]) + 1), logs[f"val_{metric}"], "--", color=colour,
                        marker=marker, markerfacecolor="none", label=f"{prefix}validation")
            if best.get(name) is not None:
                ax.axvline(best[name], color=colour if name is not None else "gray", linestyle=":",
                           label=f"{prefix}best epoch ({best[name]})")
        ax.set_xlabel("epoch")
        ax.set_ylabel(ylabels.get(metric, metric))
        ax.set_title(f"{title}: {metric}" if title else f"{metric} per epoch")
        ax.set_xlim(0.5, n_epochs + 0.5)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def confusion_matrix(ax, cm, class_names, *, colour: str = "share", values: str = "count", title: str | None = None,
                     colorbar: bool = True, hide_zeros: bool = False, cmap: str = "cividis", fontsize: int = 8):
    """Draw a confusion matrix (rows = true class, columns = predicted class) with a number in each cell.

    Args:
        ax: the matplotlib axes to draw on.
        cm: the matrix, as ``sklearn.metrics.confusion_matrix`` returns it.
        class_names: one name per class, in label order.
        colour: ``"share"`` colours each cell by its share of its row (the true class), so classes of
            different sizes compare; ``"count"`` by the count itself.
        values: the text in each cell: ``"count"``, ``"share"`` (of the row, in %) or ``"both"``.
        title: the axes title.
        colorbar: add a colour bar beside the axes.
        hide_zeros: leave cells with a count of 0 blank.
        cmap: colour map (cividis: readable with colour-vision deficiencies and in greyscale).
        fontsize: size of the cells' text.

    Returns:
        The ``AxesImage``.
    """
    cm = np.asarray(cm)
    k = len(class_names)
    if cm.shape != (k, k):
        raise ValueError(f"cm has shape {cm.shape} but there are {k} class names")
    if colour not in {"share", "count"} or values not in {"count", "share", "both"}:
        raise ValueError(f"colour must be 'share' or 'count' and values 'count', 'share' or 'both'; got {colour!r}, "
                         f"{values!r}")
    rows = cm.sum(axis=1, keepdims=True)
    share = np.divide(cm, rows, out=np.zeros(cm.shape), where=rows > 0)
    shown = share if colour == "share" else cm
    vmax = 1.0 if colour == "share" else max(float(cm.max()), 1.0)
    im = ax.imshow(shown, cmap=cmap, vmin=0, vmax=vmax)
    for i in range(k):
        for j in range(k):
            if hide_zeros and cm[i, j] == 0:
                continue
            text = {"count": f"{cm[i, j]}", "share": f"{share[i, j]:.0%}",
                    "both": f"{cm[i, j]}\n{share[i, j]:.0%}"}[values]
            ax.text(j, i, text, ha="center", va="center", fontsize=fontsize,
                    color="black" if shown[i, j] > vmax / 2 else "white")
    ax.set_xticks(range(k), class_names, rotation=45, ha="right")
    ax.set_yticks(range(k), class_names)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    if title:
        ax.set_title(title)
    if colorbar:
        label = "share of the true class (row)" if colour == "share" else "number of examples"
        ax.figure.colorbar(im, ax=ax, label=label)
    return im


def misclassified_gallery(images, y_true, probs, class_names, *, n: int = 12, ncols: int = 6, threshold: float = 0.5,
                          title: str | None = None, size: float = 2.0):
    """The misclassified examples the model was surest of, each titled with the true and the predicted class.

    Args:
        images: all the examples' images, indexable like ``y_true`` (an array, a list of arrays, or image
            paths, which are read only for the images shown).
        y_true: the true classes.
        probs: the predicted probabilities (``(N, C)`` softmax, or ``(N,)`` / ``(N, 1)`` sigmoid).
        class_names: one name per class.
        n: at most this many images, the most confident mistakes first (:func:`cnnkit.evaluate.confident_mistakes`).
        ncols: images per row.
        threshold: decision threshold of a sigmoid output.
        title: the figure's title (default: how many of how many are wrong).
        size: width of one image in inches.

    Returns:
        The figure, or None when there is no mistake (nothing is drawn then).
    """
    y_true = np.asarray(y_true).reshape(-1)
    pred, confidence = evaluate.predicted_classes(probs, threshold)
    shown = evaluate.confident_mistakes(y_true, probs, n, threshold)
    if len(shown) == 0:
        return None
    n_wrong = int(np.sum(pred != y_true))
    titles = [f"true: {class_names[y_true[i]]}\npred: {class_names[pred[i]]} ({confidence[i]:.2f})" for i in shown]
    title = title or (f"The {len(shown)} most confident of {n_wrong} mistakes in {len(y_true)} examples "
                      "(true class, predicted class and its probability)")
    return image_grid([images[i] for i in shown], titles, ncols=min(ncols, len(shown)), suptitle=title, size=size,
                      fontsize=8)


def overlay_heatmap(ax, image, heatmap, *, alpha: float = 0.45, cmap: str = "inferno", vmin=None, vmax=None,
                    colorbar: bool = False, label: str = "", title: str | None = None):
    """Draw ``image`` with ``heatmap`` laid over it, stretched to the image's size (e.g. a Grad-CAM map).

    Args:
        ax: the matplotlib axes to draw on.
        image: the image (see :func:`as_image`).
        heatmap: a 2-D array of any size (e.g. a 7x7 class-activation map); it is stretched over the
            whole image with bilinear interpolation.
        alpha: opacity of the heat map (0: invisible, 1: hides the image).
        cmap: colour map of the heat map (inferno: perceptually uniform and colour-blind-safe).
        vmin, vmax: its colour scale (default: the heat map's minimum and maximum).
        colorbar: add a colour bar for the heat map.
        label: the colour bar's label.
        title: the axes title.

    Returns:
        The heat map's ``AxesImage``.
    """
    arr = as_image(image)
    heatmap = np.asarray(heatmap.numpy() if hasattr(heatmap, "numpy") else heatmap, dtype=float)
    if heatmap.ndim == 3 and heatmap.shape[2] == 1:
        heatmap = heatmap[..., 0]
    if heatmap.ndim != 2:
        raise ValueError(f"heatmap must be 2-D, got shape {heatmap.shape}")
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be between 0 and 1, got {alpha!r}")
    h, w = arr.shape[:2]
    _draw_image(ax, arr)
    hm = ax.imshow(heatmap, cmap=cmap, alpha=alpha, vmin=vmin, vmax=vmax, interpolation="bilinear",
                   extent=(-0.5, w - 0.5, h - 0.5, -0.5))
    ax.set_xlim(-0.5, w - 0.5)
    ax.set_ylim(h - 0.5, -0.5)
    if colorbar:
        ax.figure.colorbar(hm, ax=ax, label=label)
    if title:
        ax.set_title(title)
    return hm
