"""``backprop predict MODEL INPUT``: predictions of a saved model.

INPUT is a CSV or NPZ file of samples (one per row; a target column, if
the file has one, is ignored) → CSV on stdout or --output FILE; or a PNG
image of a digit → resized to the model's square input (28x28 for
MNIST), grayscale, inverted when the background is white; prints the
label and the class probabilities.
"""

from __future__ import annotations

import argparse
import csv
import io
import math
import struct
import sys
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from backprop.cli.common import load_model, prepare_inputs
from backprop.cli.option_kinds import text
from backprop.cli.options import Options, add_command, argument, option
from backprop.errors import DataError
from backprop.files.io import (
    check_npz_sizes,
    check_regular_file,
    read_bytes,
    read_text,
    write_atomically,
)
from backprop.files.model_schema import image_shape
from backprop.limits import above_limit
from backprop.network import Network
from backprop.validation import as_numeric_array, cast_finite, check_finite, mark_finite
from backprop.version import install_hint


@dataclass(frozen=True, kw_only=True)
class PredictOptions(Options):
    model: str = argument("a model file written by `backprop train` (model.npz)")
    input: str = argument("a .csv or .npz file of samples, or a .png image")
    output: str | None = option(text, None, "write the CSV here", shown="stdout",
                                aliases=("-o",))


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``predict`` subcommand to an argparse subparsers object."""
    return add_command(
        subparsers, "predict", PredictOptions, run,
        help="predictions of a saved model for a CSV/NPZ file or a PNG image",
        description="CSV/NPZ in, CSV out (one row per sample: the prediction, and class "
        "probabilities for a classifier); or a PNG of a digit: its label and probabilities.",
    )


def _class_names(net: Network) -> list[str]:
    names = net.metadata.get("class_names")
    k = net.n_outputs if net.n_outputs > 1 else 2
    if isinstance(names, list) and len(names) == k:
        return [str(n) for n in names]
    return [str(i) for i in range(k)]


def _read_samples(net: Network, path: Path) -> np.ndarray:
    """Feature rows from a CSV (all-numeric; a target column is dropped when the
    file has one more column than the model's inputs) or an NPZ file (key X)."""
    from backprop.datasets import load_csv, load_npz

    if path.suffix.lower() == ".npz":
        return _read_npz_samples(path, load_npz)
    text = read_text(path, "input file", DataError)
    try:
        rows = [r for r in csv.reader(io.StringIO(text, newline="")) if any(c.strip() for c in r)]
    except csv.Error as error:
        raise DataError(f"{path}: malformed CSV ({error})") from None
    if not rows:
        raise DataError(f"{path}: the file is empty")
    if len(rows[0]) == net.n_inputs + 1 or not _numeric(rows[0]):
        # a target column or a header: let the dataset loader sort it out
        if len(rows[0]) == net.n_inputs + 1:
            return load_csv(path).X_train
        rows = rows[1:]
    if not rows:
        raise DataError(f"{path}: a header row but no data rows")
    values = np.empty((len(rows), len(rows[0])), dtype=np.float64)
    for i, row in enumerate(rows):
        if len(row) != values.shape[1]:
            raise DataError(f"{path}: row {i + 1} has {len(row)} cells, expected "
                            f"{values.shape[1]}")
        for j, cell in enumerate(row):
            try:
                values[i, j] = float(cell)
            except ValueError:
                raise DataError(f"{path}: row {i + 1}, column {j + 1}: {cell.strip()[:40]!r} "
                                "is not a number") from None
    check_finite(values, str(path))
    return mark_finite(cast_finite(values, np.float32, str(path)))  # predict need not check again


def _read_npz_samples(path: Path, load_npz: Any) -> np.ndarray:
    """X (or X_test) of an .npz file, each array's declared size checked first."""
    check_regular_file(path, "input file", DataError)
    if not zipfile.is_zipfile(path):
        raise DataError(f"{path}: not an .npz archive; save with np.savez(path, X=X)")
    try:
        check_npz_sizes(path, DataError)
        with np.load(path, allow_pickle=False) as arrays:
            key = "X" if "X" in arrays.files else ("X_test" if "X_test" in arrays.files
                                                 else None)
            if key is None:
                return np.asarray(load_npz(path).X_train)
            X = np.asarray(arrays[key])
    except DataError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error) as error:
        raise DataError(f"{path}: not a readable .npz file ({error})") from None
    if X.ndim == 0 or X.shape[0] == 0:
        raise DataError(f"{path}: {key} holds no samples (shape {X.shape})")
    X = as_numeric_array(X, f"{path}: {key}").reshape(len(X), -1)
    check_finite(X, f"{path}: {key}")
    return mark_finite(cast_finite(X, np.float32, f"{path}: {key}"))  # predict need not check


def _numeric(row: list[str]) -> bool:
    try:
        [float(c) for c in row]
    except ValueError:
        return False
    return True


def _check_png(path: Path, data: bytes) -> None:
    """Refuse a PNG whose header claims more pixels than BACKPROP_MAX_PIXELS, or whose chunks
    claim more bytes than the file holds (Pillow would allocate what they claim)."""
    if len(data) < 24 or data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        raise DataError(f"{path}: not a PNG image (no PNG signature and header)")
    width, height = struct.unpack(">II", data[16:24])  # the IHDR chunk: width, height first
    problem = above_limit(f"{path}: the image's pixel count ({width}x{height})",
                          width * height, "BACKPROP_MAX_PIXELS")
    if problem is not None:
        raise DataError(problem)
    position = 8
    while position + 8 <= len(data):  # each chunk: length, type, data, CRC
        length, kind = struct.unpack(">I4s", data[position : position + 8])
        left = len(data) - position - 12
        if length > left:
            raise DataError(f"{path}: corrupt or truncated PNG (chunk {kind!r} claims "
                            f"{length:,} bytes, the file holds {max(left, 0):,} more)")
        if kind == b"IEND":
            return
        position += 12 + length
    raise DataError(f"{path}: corrupt or truncated PNG (no IEND chunk)")


def _decode_png(path: Path) -> np.ndarray:
    """The pixels of a PNG as floats in [0, 1], its size and chunks checked before decoding."""
    try:
        from PIL import Image
    except ImportError:
        raise DataError(f"reading a PNG needs Pillow: {install_hint('cli')}") from None
    data = read_bytes(path, "image", DataError)
    _check_png(path, data)
    try:
        with Image.open(io.BytesIO(data), formats=["PNG"]) as image:
            image.load()
            decoded = image if image.mode in ("L", "LA", "RGB", "RGBA") else image.convert("RGBA")
            return np.asarray(decoded, dtype=np.float64) / 255.0
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as error:
        raise DataError(f"{path}: not a readable PNG image ({error})") from None


def read_image(path: Path, net: Network, model: object = "the model") -> np.ndarray:
    """A PNG as one row of the model's input: grayscale in [0, 1], digit bright on dark,
    resized (box-average / nearest) to the model's image shape (``model``, its file, names
    it in an error), else its square input."""
    side = math.isqrt(net.n_inputs)
    rows, cols = image_shape(net.metadata, model) or (side, side)
    if rows * cols != net.n_inputs:
        raise DataError(f"the model takes {net.n_inputs} inputs, not a square image")
    image = _decode_png(path)
    if image.ndim == 3 and image.shape[-1] in (2, 4):  # with alpha: transparent is background
        alpha = image[..., -1]
        color = image[..., :-1]
    else:
        alpha, color = None, image
    if color.ndim == 3 and color.shape[-1] == 3:
        gray = color @ np.array([0.299, 0.587, 0.114])
    else:
        gray = color[..., 0] if color.ndim == 3 else color
    if alpha is not None:  # transparent pixels count as background (white)
        gray = gray * alpha + (1.0 - alpha)
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    if border.mean() > 0.5:
        gray = 1.0 - gray
    return resize(gray, rows, cols).reshape(1, -1).astype(np.float32)


def resize(image: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """Resample a 2-D array to (rows, cols): the mean of each source block (nearest pixel
    when the image is smaller than the target)."""
    h, w = image.shape
    out = np.empty((rows, cols), dtype=np.float64)
    r_edges = np.linspace(0, h, rows + 1)
    c_edges = np.linspace(0, w, cols + 1)
    for i in range(rows):
        r0 = int(r_edges[i])
        r1 = max(math.ceil(r_edges[i + 1]), r0 + 1)
        for j in range(cols):
            c0 = int(c_edges[j])
            c1 = max(math.ceil(c_edges[j + 1]), c0 + 1)
            out[i, j] = image[r0:r1, c0:c1].mean()
    return out


def run(o: PredictOptions) -> int:
    net = load_model(o.model)
    path = check_regular_file(o.input, "input file", DataError)
    suffix = path.suffix.lower()
    if suffix == ".png":
        X = prepare_inputs(net, read_image(path, net, o.model), o.input)
        probabilities = np.asarray(net.forward(X))[0]
        label = int(np.asarray(net.predict(X))[0])
        names = _class_names(net)
        if net.n_outputs == 1:
            probabilities = np.array([1.0 - probabilities[0], probabilities[0]])
        print(f"label: {names[label] if label < len(names) else label}")
        for name, p in zip(names, probabilities, strict=False):
            print(f"  {name:>6}: {p:.4f}")
        return 0
    if suffix not in (".csv", ".npz"):
        raise DataError(f"{o.input}: give a .csv, .npz or .png file")
    X = prepare_inputs(net, _read_samples(net, path), o.input)
    predictions = np.asarray(net.predict(X))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    if net.is_classifier:
        names = _class_names(net)
        probabilities = np.asarray(net.forward(X))
        if net.n_outputs == 1:
            probabilities = np.column_stack([1.0 - probabilities[:, 0], probabilities[:, 0]])
        writer.writerow(["prediction", *(f"p_{n}" for n in names)])
        for label, row in zip(predictions, probabilities, strict=True):
            writer.writerow([names[int(label)], *(f"{p:.6g}" for p in row)])
    else:
        values = predictions.reshape(len(X), -1)
        writer.writerow([f"y{k}" if values.shape[1] > 1 else "y" for k in range(values.shape[1])])
        for row in values:
            writer.writerow([f"{v:.6g}" for v in row])
    if o.output:
        encoded = buffer.getvalue().encode("utf-8")
        try:
            write_atomically(o.output, lambda file: file.write(encoded), DataError)
        except OSError as error:
            raise DataError(f"cannot write {o.output}: {error.strerror}") from None
    else:
        sys.stdout.write(buffer.getvalue())
    return 0
