"""The PNG plots of a training run: learning curves, confusion matrix, misclassified
images and the decision boundary of a 2-D problem."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from backprop.cli.common import pyplot
from backprop.datasets import Dataset, Scaler
from backprop.network import Network

#: Figure sizes in inches at DPI dots per inch: PNG sizes are these times DPI.
DPI = 100
CURVES_SIZE = (10.0, 4.0)
CONFUSION_SIZE = (6.0, 5.0)
MISCLASSIFIED_SIZE = (8.0, 8.0)
BOUNDARY_SIZE = (6.0, 5.0)
#: The files write_plots may write.
PLOT_FILES = ("curves.png", "confusion.png", "misclassified.png", "boundary.png")


def write_plots(
    out: Path,
    net: Network,
    data: Dataset,
    rows: list[dict[str, float]],
    X_test: np.ndarray | None,
    y_test: np.ndarray | None,
    scaler: Scaler | None,
) -> list[Path]:
    """curves.png, and confusion.png / misclassified.png / boundary.png where they apply.

    Without matplotlib, prints a note and writes nothing.
    """
    plt = pyplot()
    if plt is None:
        return []
    written = [_curves(out, rows, plt)]
    classification = data.task == "classification"
    if classification and X_test is not None and y_test is not None:
        predicted = np.asarray(net.predict(X_test))
        labels = np.asarray(y_test)
        written.append(_confusion(out, labels, predicted, data, plt))
        if data.image_shape is not None:
            written.append(_misclassified(out, data, labels, predicted, plt))
    if classification and data.n_features == 2:
        written.append(_boundary(out, net, data, scaler, plt))
    return written


def _curves(out: Path, rows: list[dict[str, float]], plt: Any) -> Path:
    fig, axes = plt.subplots(1, 2, figsize=CURVES_SIZE, dpi=DPI)
    epochs = [r["epoch"] for r in rows]
    for ax, metric in zip(axes, ("loss", "accuracy"), strict=True):
        for prefix, style in (("", "-"), ("val_", "--")):
            key = prefix + metric
            if rows and key in rows[0]:
                ax.plot(epochs, [r[key] for r in rows], style, marker="o",
                        label="validation" if prefix else "train")
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric)
        ax.set_title(metric)
        if ax.lines:
            ax.legend()
        else:
            ax.text(0.5, 0.5, f"no {metric} (regression)" if metric == "accuracy" else "",
                    ha="center", va="center", transform=ax.transAxes)
    fig.tight_layout()
    path = out / "curves.png"
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    return path


def _confusion(out: Path, labels: np.ndarray, predicted: np.ndarray, data: Dataset,
               plt: Any) -> Path:
    k = int(data.n_classes or (max(labels.max(), predicted.max()) + 1))
    matrix = np.zeros((k, k), dtype=np.int64)
    np.add.at(matrix, (labels.astype(np.int64), predicted.astype(np.int64)), 1)
    fig, ax = plt.subplots(figsize=CONFUSION_SIZE, dpi=DPI)
    image = ax.imshow(matrix, cmap="Blues")
    fig.colorbar(image, ax=ax)
    names = [data.class_name(i) for i in range(k)]
    if k <= 20:
        ax.set_xticks(range(k), names, rotation=90 if k > 10 else 0)
        ax.set_yticks(range(k), names)
        threshold = matrix.max() / 2
        for i in range(k):
            for j in range(k):
                ax.text(j, i, str(matrix[i, j]), ha="center", va="center", fontsize=7,
                        color="white" if matrix[i, j] > threshold else "black")
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(f"confusion matrix ({int(np.trace(matrix))}/{int(matrix.sum())} right)")
    fig.tight_layout()
    path = out / "confusion.png"
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    return path


def _misclassified(out: Path, data: Dataset, labels: np.ndarray, predicted: np.ndarray,
                   plt: Any) -> Path:
    assert data.image_shape is not None and data.X_test is not None
    wrong = np.flatnonzero(labels != predicted)[:25]
    fig, axes = plt.subplots(5, 5, figsize=MISCLASSIFIED_SIZE, dpi=DPI)
    for n, ax in enumerate(axes.flat):
        ax.axis("off")
        if n < len(wrong):
            i = int(wrong[n])
            ax.imshow(data.X_test[i].reshape(data.image_shape), cmap="gray_r")
            ax.set_title(f"true {data.class_name(int(labels[i]))}, "
                         f"pred {data.class_name(int(predicted[i]))}", fontsize=8)
    fig.suptitle(f"misclassified test images ({int((labels != predicted).sum())} in all)")
    fig.tight_layout()
    path = out / "misclassified.png"
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    return path


def _boundary(out: Path, net: Network, data: Dataset, scaler: Scaler | None,
              plt: Any) -> Path:
    X = data.X_train
    (x0, y0), (x1, y1) = X.min(axis=0), X.max(axis=0)
    pad_x, pad_y = 0.1 * (x1 - x0 or 1.0), 0.1 * (y1 - y0 or 1.0)
    gx, gy = np.meshgrid(np.linspace(x0 - pad_x, x1 + pad_x, 200),
                         np.linspace(y0 - pad_y, y1 + pad_y, 200))
    grid = np.column_stack([gx.ravel(), gy.ravel()]).astype(np.float32)
    if scaler is not None:
        grid = np.asarray(scaler.transform(grid), dtype=np.float32)
    regions = np.asarray(net.predict(grid)).reshape(gx.shape)
    fig, ax = plt.subplots(figsize=BOUNDARY_SIZE, dpi=DPI)
    ax.contourf(gx, gy, regions, alpha=0.3, cmap="tab10", vmin=0, vmax=9,
                levels=np.arange(-0.5, int(data.n_classes or 2) + 0.5))
    ax.scatter(X[:, 0], X[:, 1], c=data.y_train, cmap="tab10", vmin=0, vmax=9, s=8,
               edgecolors="none")
    ax.set_title(f"decision boundary: {data.name}")
    fig.tight_layout()
    path = out / "boundary.png"
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    return path
