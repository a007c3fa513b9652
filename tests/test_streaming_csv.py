"""A CSV file streamed a block of rows at a time reads as load_csv reads it whole."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import backprop as bp
from backprop.datasets import load_csv
from backprop.errors import DataError
from backprop.streaming import CsvFile, open_source, shuffled_batches
from backprop.streaming.csv_file import STRIDE


def write_table(path: Path, m: int, seed: int = 0) -> tuple[np.ndarray, list[str]]:
    """A header, m rows of 3 features and a label, with blank lines, spaces and a quoted
    label that spans two lines."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(m, 3)).astype(np.float32)
    names = ["cat", "dog", 'eel "the long"\nfish']
    labels = [names[i] for i in rng.integers(0, 3, size=m)]
    lines = ["a, b,c,animal"]
    for i, (row, label) in enumerate(zip(X.tolist(), labels, strict=True)):
        quoted = '"' + label.replace('"', '""') + '"'
        lines.append(f"{row[0]!r}, {row[1]!r},{row[2]!r},{quoted}")
        if i % 97 == 5:
            lines.append("")
    path.write_text("\n".join(lines) + "\n")
    return X, labels


def test_the_rows_read_by_block_are_load_csvs_rows(tmp_path: Path) -> None:
    path = tmp_path / "animals.csv"
    X, labels = write_table(path, 3 * STRIDE + 41)
    whole = load_csv(path)
    source = CsvFile(path)
    assert (source.n_samples, source.n_features) == whole.X_train.shape == X.shape
    assert source.task == "classification" and source.names == ["a", "b", "c", "animal"]
    assert np.array_equal(whole.X_train, X)
    for start, stop in [(0, 10), (STRIDE - 3, STRIDE + 4), (2 * STRIDE, 3 * STRIDE + 41),
                        (0, source.n_samples)]:
        rows, targets = source.read(0, start, stop)
        assert rows.dtype == np.float32 and np.array_equal(rows, X[start:stop])
        assert targets.tolist() == [label.strip() for label in labels[start:stop]]
    assert whole.class_names is not None
    assert tuple(np.unique(source.targets()).tolist()) == whole.class_names
    batches = list(shuffled_batches(source, 50, buffer_size=100, rng=np.random.default_rng(0)))
    assert sum(len(b) for _, b in batches) == source.n_samples


def test_a_target_by_name_and_a_regression_target(tmp_path: Path) -> None:
    path = tmp_path / "prices.csv"
    rng = np.random.default_rng(3)
    values = rng.normal(size=(600, 3))
    text = "price,x1,x2\n" + "".join(f"{p!r},{a!r},{b!r}\n" for p, a, b in values.tolist())
    path.write_text(text)
    whole = load_csv(path, target="price")
    source = CsvFile(path, target="price")
    assert source.task == whole.task == "regression"
    assert np.array_equal(source.read(0, 0, 600)[0], whole.X_train)
    assert np.array_equal(source.targets().astype(np.float32), whole.y_train)


@pytest.mark.parametrize(
    ("text", "task"),
    [
        ("x,y\n1,0\n2,1\n3,abc\n", None),  # a label among numbers
        ("x,y\n1,0\n2,1\n3,1.5\n", "classification"),  # not a whole number
        ("x,y\n1,0\n2,1\n3\n", None),  # a row with a field missing
        ("x,y\n1,0\n2,1\nnan,1\n", None),  # NaN in a feature
        ("x,y\n1,0\n2,1\n,1\n", None),  # an empty feature
        ("x,y\n", None),  # no data rows
        ("", None),  # nothing at all
        ("x,y\n1,a\n2,b\n", "regression"),  # labels where numbers are asked for
    ],
)
def test_an_error_is_load_csvs_error(tmp_path: Path, text: str, task: str | None) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(DataError) as whole:
        load_csv(path, task=task)  # type: ignore[arg-type]
    with pytest.raises(DataError) as streamed:
        source = CsvFile(path, task=task)  # type: ignore[arg-type]
        source.read(0, 0, source.n_samples)
    assert str(streamed.value) == str(whole.value)
    assert "\n" not in str(streamed.value)


def test_fit_streams_a_csv_file_given_by_its_path(tmp_path: Path) -> None:
    path = tmp_path / "animals.csv"
    write_table(path, 500)
    source = open_source(path)
    assert isinstance(source, CsvFile)
    classes = np.unique(source.targets())
    source.target_transform = lambda y: np.searchsorted(classes, y)
    seen: list[float] = []

    class Count(bp.Callback):
        def on_batch_end(self, state: object, logs: dict[str, float]) -> None:
            seen.append(logs["batch_size"])

    net = bp.Network([bp.Dense(3, 8, activation="relu"), bp.Dense(8, 3, activation="softmax")],
                     loss="cross_entropy", seed=0)
    history = net.fit(source, None, epochs=2, batch_size=32, optimizer=bp.Adam(0.01),
                      callbacks=[Count()])
    assert len(history["loss"]) == 2 and sum(seen) == 2 * 500
