"""bench/literature.py end to end on small data (the library's digits grown to 28×28)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import literature  # noqa: E402


def test_the_script_writes_the_table_on_a_subset(tmp_path: Path) -> None:
    keys = "lecun-300,simard-800"
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "literature.py"), "--data", "digits",
         "--train-samples", "300", "--test-samples", "200", "--epochs", "1", "--only", keys,
         "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    document = json.loads((tmp_path / "literature.json").read_text())
    assert document["n_train"] == 300 and document["n_test"] == 200
    rows = {row["key"]: row for row in document["rows"]}
    assert sorted(rows) == ["lecun-300", "simard-800"]
    assert rows["lecun-300"]["architecture"] == "784-300-10"
    assert rows["lecun-300"]["loss"] == "mse" and rows["lecun-300"]["published_error"] == 4.7
    assert rows["simard-800"]["published_error"] == 1.6
    for row in rows.values():
        assert 0.0 <= row["error"] <= 100.0 and row["recipe"]["epochs"] == 1
        assert len(row["losses"]) == 1 and np.isfinite(row["losses"][0])
        assert row["command"] == f"python bench/literature.py --only {row['key']}"
    table = (tmp_path / "literature.md").read_text()
    assert "| LeCun | 784-300-10 | mse | 4.7% |" in table
    assert "| Simard | 784-800-10 | cross_entropy | 1.6% |" in table
    assert table in result.stdout


def test_a_recipe_learns_on_the_grown_digits() -> None:
    X, y, X_test, y_test = literature.digits_28()
    entry = next(e for e in literature.ENTRIES if e.key == "lecun-300")
    result = literature.train(entry, (X[:400], y[:400], X_test[:200], y_test[:200]), epochs=4)
    assert result["losses"][-1] < 0.9 * result["losses"][0]
    assert result["error"] < 50.0  # chance is 90 %


def test_shifted_images_move_by_whole_pixels_with_zeros_coming_in() -> None:
    rng = np.random.default_rng(0)
    images = rng.random((200, 784)).astype(np.float32)
    moved = literature.shifted(images, 2, rng)
    grid, out = images.reshape(-1, 28, 28), moved.reshape(-1, 28, 28)
    found = set()
    for original, shifted in zip(grid, out, strict=True):
        matches = [(dy, dx) for dy in range(-2, 3) for dx in range(-2, 3)
                   if np.array_equal(shifted, _shift(original, dy, dx))]
        assert len(matches) == 1
        found.add(matches[0])
    assert len(found) == 25  # every shift is drawn


def _shift(image: np.ndarray, dy: int, dx: int) -> np.ndarray:
    out = np.zeros_like(image)
    for row in range(28):
        for column in range(28):
            if 0 <= row - dy < 28 and 0 <= column - dx < 28:
                out[row, column] = image[row - dy, column - dx]
    return out


def test_every_entry_names_its_paper_network_and_published_error() -> None:
    published = {e.key: (e.architecture, e.loss, e.published_error)
                 for e in literature.ENTRIES}
    assert published["lecun-300"] == ("784-300-10", "mse", 4.7)
    assert published["lecun-1000"] == ("784-1000-10", "mse", 4.5)
    assert published["lecun-300-100"] == ("784-300-100-10", "mse", 3.05)
    assert published["lecun-500-150"] == ("784-500-150-10", "mse", 2.95)
    assert published["simard-800"] == ("784-800-10", "cross_entropy", 1.6)
