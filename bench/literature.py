"""Published MLP results on MNIST, reproduced with backprop: their test error against ours.

    python bench/literature.py                       # every entry but the long ones, full MNIST
    python bench/literature.py --only simard-800     # one entry
    python bench/literature.py --all                 # the long ones too (the dropout network)
    python bench/literature.py --data digits --train-samples 300 --test-samples 200 --epochs 1

Each entry is a network of the paper (its widths and its loss) trained with a
recipe of ours, written out below: ReLU hidden units with He initialization,
SGD with momentum 0.9 and a cosine schedule, and, where the published error
needs it, shifted copies of the training images (each image moved by up to
SHIFT pixels in x and y, drawn afresh every epoch; no elastic distortions) or
dropout. The papers trained differently (sigmoid or tanh units, plain SGD,
other schedules): the table compares the error a network of that size and
loss reaches, not the papers' procedures.

The table (paper, architecture, loss, their test error, ours, command, time)
goes to stdout and, with every number, into --out (default bench/results/):
literature.md and literature.json. Time is the training time (every epoch's
fit call) on this machine with --threads BLAS threads.

--data digits trains on the library's 8×8 digits scaled up to 28×28 (each pixel
3×3, a 2-pixel border), so that the script runs end to end without MNIST;
its errors are not the papers'.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "bench" / "results"
#: Largest shift, in pixels, of the shifted copies.
SHIFT = 2


@dataclass(frozen=True)
class Recipe:
    """How we train an entry: every choice that is not the paper's network."""

    epochs: int
    lr: float
    batch_size: int = 128
    momentum: float = 0.9
    activation: str = "relu"
    shift: int = 0  # the largest pixel shift of the augmented copies; 0: none
    dropout: float = 0.0  # after each hidden layer
    input_dropout: float = 0.0
    seed: int = 0


@dataclass(frozen=True)
class Entry:
    """One published result and the recipe that meets it."""

    key: str
    paper: str
    hidden: tuple[int, ...]
    loss: str  # "mse" or "cross_entropy"
    published_error: float  # percent, on the 10,000 test images
    recipe: Recipe
    long: bool = False  # left out unless --all or --only names it
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def architecture(self) -> str:
        return "-".join(str(n) for n in (784, *self.hidden, 10))


LECUN = ("LeCun, Bottou, Bengio & Haffner 1998, Gradient-based learning applied to "
         "document recognition")
SIMARD = "Simard, Steinkraus & Platt 2003, Best practices for convolutional neural networks"
SRIVASTAVA = "Srivastava, Hinton, Krizhevsky, Sutskever & Salakhutdinov 2014, Dropout"

#: LeCun et al.'s networks: MSE on one-hot targets learns more slowly per step
#: than cross-entropy, hence batches of 64.
MSE_RECIPE = Recipe(epochs=10, lr=0.05, batch_size=64)

ENTRIES: tuple[Entry, ...] = (
    Entry("lecun-300", LECUN, (300,), "mse", 4.7, MSE_RECIPE),
    Entry("lecun-1000", LECUN, (1000,), "mse", 4.5, MSE_RECIPE),
    Entry("lecun-300-100", LECUN, (300, 100), "mse", 3.05, MSE_RECIPE),
    Entry("lecun-500-150", LECUN, (500, 150), "mse", 2.95, MSE_RECIPE),
    Entry("simard-800", SIMARD, (800,), "cross_entropy", 1.6,
          Recipe(epochs=30, lr=0.05, shift=SHIFT),
          note="their 1.6% is without distortions; ours uses shifted copies"),
    Entry("srivastava-dropout", SRIVASTAVA, (1024, 1024, 1024), "cross_entropy", 1.25,
          Recipe(epochs=50, lr=0.05, dropout=0.5, input_dropout=0.2), long=True,
          note="dropout 0.5 on hidden units, 0.2 on the inputs, no max-norm"),
)


# -- data --------------------------------------------------------------------------------
def digits_28() -> tuple[Any, Any, Any, Any]:
    """The library's 8×8 digits as 28×28 images in [0, 1]: each pixel 3×3, 2-pixel border."""
    import numpy as np

    from backprop.datasets import load_dataset

    data = load_dataset("digits")

    def grow(X: Any) -> Any:
        images = np.kron(X.reshape(-1, 8, 8) / 16.0, np.ones((3, 3)))
        images = np.pad(images, ((0, 0), (2, 2), (2, 2)))
        return images.reshape(-1, 784).astype(np.float32)

    return grow(data.X_train), data.y_train, grow(data.X_test), data.y_test


def load(source: str) -> tuple[Any, Any, Any, Any]:
    """(X_train, y_train, X_test, y_test): MNIST (pixels in [0, 1)) or the grown digits."""
    if source == "digits":
        return digits_28()
    from backprop.datasets import load_mnist

    data = load_mnist()
    return data.X_train, data.y_train, data.X_test, data.y_test


def shifted(X: Any, largest: int, rng: Any) -> Any:
    """Each 28×28 image moved by (dx, dy), each drawn from −largest..largest; zeros come in."""
    import numpy as np

    images = X.reshape(-1, 28, 28)
    out = np.zeros_like(images)
    moves = rng.integers(-largest, largest + 1, size=(len(images), 2))
    for dy in range(-largest, largest + 1):
        for dx in range(-largest, largest + 1):
            rows = np.flatnonzero((moves[:, 0] == dy) & (moves[:, 1] == dx))
            if rows.size == 0:
                continue
            out[rows, max(dy, 0):28 + min(dy, 0), max(dx, 0):28 + min(dx, 0)] = \
                images[rows, max(-dy, 0):28 - max(dy, 0), max(-dx, 0):28 - max(dx, 0)]
    return out.reshape(len(images), 784)


# -- one entry ------------------------------------------------------------------------------
def network(entry: Entry) -> Any:
    import backprop as bp

    recipe = entry.recipe
    layers: list[bp.Layer] = []
    if recipe.input_dropout:
        layers.append(bp.Dropout(784, rate=recipe.input_dropout))
    widths = (784, *entry.hidden)
    for n_in, n_out in itertools.pairwise(widths):
        layers.append(bp.Dense(n_in, n_out, activation=recipe.activation))
        if recipe.dropout:
            layers.append(bp.Dropout(n_out, rate=recipe.dropout))
    # MSE on one-hot targets as LeCun et al.; softmax with cross-entropy otherwise
    output = "linear" if entry.loss == "mse" else "softmax"
    layers.append(bp.Dense(widths[-1], 10, activation=output))
    return bp.Network(layers, loss=entry.loss, init="he", seed=recipe.seed)


def train(entry: Entry, data: tuple[Any, Any, Any, Any], epochs: int) -> dict[str, Any]:
    """Train one entry; its test error (percent), training seconds and loss per epoch."""
    import numpy as np

    import backprop as bp

    X, y, X_test, y_test = data
    recipe = entry.recipe
    net = network(entry)
    optimizer = bp.SGD(lr=recipe.lr, momentum=recipe.momentum)
    cosine = bp.CosineAnnealing(epochs)
    rng = np.random.default_rng(recipe.seed)
    losses, seconds = [], 0.0
    for epoch in range(epochs):
        optimizer.lr = cosine(epoch, recipe.lr)
        inputs = shifted(X, recipe.shift, rng) if recipe.shift else X
        start = time.perf_counter()
        history = net.fit(inputs, y, epochs=1, batch_size=recipe.batch_size,
                          optimizer=optimizer)
        seconds += time.perf_counter() - start
        losses.append(float(history["loss"][-1]))
    accuracy = net.evaluate(X_test, y_test)["accuracy"]
    return {"error": 100.0 * (1.0 - accuracy), "seconds": seconds, "losses": losses,
            "epochs": epochs}


def command(entry: Entry) -> str:
    return f"python bench/literature.py --only {entry.key}"


# -- the table --------------------------------------------------------------------------------
def markdown(rows: list[dict[str, Any]], header: str) -> str:
    lines = [header, "",
             "| paper | architecture | loss | their test error | ours | command | time |",
             "|---|---|---|---|---|---|---|"]
    for row in rows:
        ours = "to be measured" if row.get("error") is None else f"{row['error']:.2f}%"
        took = "" if row.get("seconds") is None else f"{row['seconds']:.0f} s"
        lines.append(f"| {row['paper'].split(',')[0]} | {row['architecture']} | {row['loss']} "
                     f"| {row['published_error']:g}% | {ours} | `{row['command']}` | {took} |")
    lines.append("")
    for row in rows:
        recipe = row["recipe"]
        parts = [f"{recipe['activation']} + He init", f"SGD momentum {recipe['momentum']:g}",
                 f"lr {recipe['lr']:g} cosine", f"{recipe['epochs']} epochs",
                 f"batches of {recipe['batch_size']}"]
        if recipe["shift"]:
            parts.append(f"images shifted by up to {recipe['shift']} px, new each epoch")
        if recipe["dropout"]:
            parts.append(f"dropout {recipe['dropout']:g}")
        if recipe["input_dropout"]:
            parts.append(f"input dropout {recipe['input_dropout']:g}")
        note = f" ({row['note']})" if row["note"] else ""
        lines.append(f"- {row['key']}: {', '.join(parts)}{note}.")
    return "\n".join(lines) + "\n"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python bench/literature.py",
                                description="Reproduce published MLP results on MNIST.")
    p.add_argument("--only", default=None, help="comma-separated entry keys: "
                   + ", ".join(e.key for e in ENTRIES))
    p.add_argument("--all", action="store_true", help="include the long entries")
    p.add_argument("--data", choices=("mnist", "digits"), default="mnist")
    p.add_argument("--epochs", type=int, default=None, help="override every recipe's epochs")
    p.add_argument("--train-samples", type=int, default=None, metavar="N")
    p.add_argument("--test-samples", type=int, default=None, metavar="N")
    p.add_argument("--threads", type=int, default=2, help="BLAS threads (default 2)")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output directory")
    args = p.parse_args(argv)
    keys = {e.key for e in ENTRIES}
    if args.only:
        args.keys = [k.strip() for k in args.only.split(",") if k.strip()]
        unknown = [k for k in args.keys if k not in keys]
        if unknown or not args.keys:
            p.error(f"--only: unknown entry {', '.join(unknown) or args.only!r}; valid: "
                    + ", ".join(sorted(keys)))
    else:
        args.keys = [e.key for e in ENTRIES if args.all or not e.long]
    for name in ("epochs", "train_samples", "test_samples", "threads"):
        value = getattr(args, name)
        if value is not None and value < 1:
            p.error(f"--{name.replace('_', '-')} must be at least 1, got {value}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[variable] = str(args.threads)  # before NumPy is imported
    sys.path.insert(0, str(ROOT / "src"))
    X, y, X_test, y_test = load(args.data)
    if args.train_samples:
        X, y = X[:args.train_samples], y[:args.train_samples]
    if args.test_samples:
        X_test, y_test = X_test[:args.test_samples], y_test[:args.test_samples]
    rows = []
    for entry in (e for e in ENTRIES if e.key in args.keys):
        epochs = args.epochs or entry.recipe.epochs
        result = train(entry, (X, y, X_test, y_test), epochs)
        row = {"key": entry.key, "paper": entry.paper, "architecture": entry.architecture,
               "loss": entry.loss, "published_error": entry.published_error,
               "command": command(entry), "note": entry.note,
               "recipe": {**asdict(entry.recipe), "epochs": epochs}, **result,
               "met": result["error"] <= entry.published_error}
        print(f"{entry.key}: {row['error']:.2f}% (published {entry.published_error:g}%), "
              f"{row['seconds']:.1f} s", flush=True)
        rows.append(row)
    header = (f"MNIST test error, {args.data} data: {len(X)} training and {len(X_test)} test "
              f"images, {args.threads} BLAS threads")
    text = markdown(rows, header)
    print("\n" + text)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "literature.md").write_text(text, encoding="utf-8")
    document = {"data": args.data, "n_train": len(X), "n_test": len(X_test),
                "threads": args.threads, "rows": rows}
    (args.out / "literature.json").write_text(
        json.dumps(document, indent=1, allow_nan=False, default=_finite) + "\n",
        encoding="utf-8")
    return 0


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return str(value)


if __name__ == "__main__":
    raise SystemExit(main())
