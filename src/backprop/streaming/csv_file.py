"""A CSV file larger than memory, read a block of rows at a time.

A first pass reads the whole file once without keeping its rows: it checks that every
row has the file's number of fields, keeps the target column (m numbers or labels: small,
as every source's targets are), and notes where every STRIDE-th row starts (its byte
offset and line number). Rows [start, stop) are then read by seeking to the noted row at
or before ``start`` and parsing on from there, at most a budget's share of rows at a
time (a parsed cell costs about CELL_BYTES as Python objects, twenty times its float32).

The header, the target column and the numbers follow :func:`backprop.datasets.load_csv`
through the same functions (:mod:`backprop.datasets.csv_cells`): the same file gives the
same features (float32), the same targets and the same one-line errors, naming the file,
the row as an editor numbers it, the column and the cell.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import numpy as np

from backprop.datasets.base import TASKS, Task
from backprop.datasets.csv_cells import (
    Table,
    cell_text,
    csv_rows,
    has_header,
    number,
    parse_numbers,
    target_index,
    to_float32,
)
from backprop.errors import DataError, OptionError
from backprop.files.io import check_regular_file
from backprop.streaming.budget import BLOCKS_PER_BUFFER, BUFFER_SHARE, memory_budget
from backprop.streaming.sources import Source

#: Every STRIDE-th row's start is noted by the first pass.
STRIDE = 256
#: Rows whose target cells are parsed together in the first pass (about 1 MB of objects).
TARGET_ROWS = 8192
#: About what one parsed cell costs as Python objects (a str and its slot in a list).
CELL_BYTES = 80


class _Lines:
    """The lines of a binary file from its current position on, decoded from UTF-8, with
    the byte offset and the number of lines read so far."""

    def __init__(self, file: BinaryIO, path: Path, offset: int, line: int) -> None:
        self.file, self.path = file, path
        self.position, self.line = offset, line

    def __iter__(self) -> Iterator[str]:
        for raw in self.file:
            start = self.position
            self.position += len(raw)
            self.line += 1
            try:
                yield raw.decode("utf-8-sig" if start == 0 else "utf-8")
            except UnicodeDecodeError as failure:
                raise DataError(f"{self.path}, row {self.line}: not UTF-8 text "
                                f"({failure.reason} at byte {start + failure.start})") from None


class _TargetColumn:
    """The target column's cells, parsed a block at a time as :func:`load_csv` parses the
    whole column: labels when no cell is a number (unless the task is regression), else
    numbers (each checked); whole numbers are classes, others a regression target."""

    def __init__(self, path: Path, t: int, names: list[str] | None, guessed: bool,
                 task: Task | None) -> None:
        self.path, self.t, self.names, self.guessed, self.task = path, t, names, guessed, task
        self.numbers: list[np.ndarray] = []
        self.labels: list[np.ndarray] = []
        self.first_label: str | None = None  # the first cell that is not a number, named
        self.first_fraction: str | None = None  # the first number that is not whole
        self.first_overflow: str | None = None  # the first number too large for float32
        self.rows = 0

    def add(self, texts: list[str], lines: list[int]) -> None:
        table = Table(self.path, lines, self.names, guessed=self.guessed and self.rows == 0)
        cells = [[text] for text in texts]
        try:
            values = parse_numbers(table, cells, [self.t])[:, 0]
        except DataError:
            if self.task == "regression" or any(number(text) is not None for text in texts):
                raise  # a number among them: the first cell that is not one is named
            self.labels.append(np.array([text.strip() for text in texts], dtype=np.str_))
            if self.first_label is None:
                what = "is empty" if not texts[0].strip() else (
                    f"{cell_text(texts[0])} is not a number")
                self.first_label = f"{table.at(0, self.t)}: cell {what}{table.hint(0)}"
        else:
            self.numbers.append(values)
            fractions = np.flatnonzero(values != np.round(values))
            if fractions.size and self.first_fraction is None:
                i = int(fractions[0])
                self.first_fraction = (f"{table.at(i, self.t)}: target {cell_text(texts[i])} "
                                       "is not an integer class label; use task=\"regression\" "
                                       "for real-valued targets")
            if self.first_overflow is None:
                try:
                    to_float32(table, values[:, None], cells, [self.t])
                except DataError as error:
                    self.first_overflow = str(error)
        if self.numbers and self.labels:
            assert self.first_label is not None
            raise DataError(self.first_label)
        self.rows += len(texts)

    def finish(self) -> tuple[np.ndarray, Task]:
        """Every target (float64 numbers or str labels) and the task they make."""
        if self.labels:
            return np.concatenate(self.labels), "classification"
        values = np.concatenate(self.numbers)
        task = self.task or ("regression" if self.first_fraction else "classification")
        if task == "classification" and self.first_fraction is not None:
            raise DataError(self.first_fraction)
        if task == "regression" and self.first_overflow is not None:
            raise DataError(self.first_overflow)
        return values, task


class CsvFile(Source):
    """A CSV file, one sample per row, streamed: ``target``, ``header``, ``task`` and
    ``delimiter`` as :func:`backprop.datasets.load_csv` takes them."""

    def __init__(self, path: str | Path, target: int | str | None = None,
                 header: bool | str = "auto", task: Task | None = None, delimiter: str = ",",
                 memory_budget: int | None = None) -> None:
        if task is not None and task not in TASKS:
            raise OptionError(f"task must be 'classification' or 'regression', got {task!r}")
        if header not in ("auto", True, False):
            raise OptionError(f"header must be 'auto', True or False, got {header!r}")
        self.path = check_regular_file(path, "data file", DataError)
        self.where = str(path)
        self.delimiter = delimiter
        self.memory_budget = memory_budget
        self.dtype = np.dtype(np.float32)
        offsets: list[int] = []
        first_lines: list[int] = []
        with self.path.open("rb") as file:
            lines = _Lines(file, self.path, 0, 0)
            rows = csv_rows(lines, self.path, delimiter)

            def next_row() -> tuple[list[str], int, int, int] | None:
                start, start_line = lines.position, lines.line
                item = next(rows, None)
                return None if item is None else (item[0], item[1], start, start_line)

            head = [row for row in (next_row(), next_row()) if row is not None]
            if not head:
                raise DataError(f"{self.path}: the file is empty (no rows)")
            with_header = (has_header([row[0] for row in head]) if header == "auto"
                           else bool(header))
            self.names = [name.strip() for name in head[0][0]] if with_header else None
            self.guessed = header == "auto" and self.names is None
            n_cols, first_line = len(head[0][0]), head[0][1]
            if n_cols < 2:
                raise DataError(f"{self.path}: only one column; need at least one feature "
                                "column and a target")
            self.t = target_index(target, n_cols, self.names, self.path)
            self.features = [j for j in range(n_cols) if j != self.t]
            column = _TargetColumn(self.path, self.t, self.names, self.guessed, task)
            texts: list[str] = []
            text_lines: list[int] = []
            count = 0
            pending = head[1:] if with_header else head
            while True:
                item = pending.pop(0) if pending else next_row()
                if item is None:
                    break
                row, line, start, start_line = item
                if len(row) != n_cols:
                    raise DataError(f"{self.path}, row {line}: expected {n_cols} fields (as in "
                                    f"row {first_line}), found {len(row)}")
                if count % STRIDE == 0:
                    offsets.append(start)
                    first_lines.append(start_line)
                texts.append(row[self.t])
                text_lines.append(line)
                count += 1
                if len(texts) == TARGET_ROWS:
                    column.add(texts, text_lines)
                    texts, text_lines = [], []
            if texts:
                column.add(texts, text_lines)
        if count == 0:
            raise DataError(f"{self.path}: a header row but no data rows")
        self.n_samples, self.n_features = count, n_cols - 1
        self.offsets = np.array(offsets, dtype=np.int64)
        self.first_lines = np.array(first_lines, dtype=np.int64)
        self.target_values, self.task = column.finish()

    def parts(self) -> list[int]:
        return [self.n_samples]

    def read_targets(self, part: int) -> np.ndarray:
        return self.target_values

    def parse_rows(self) -> int:
        """Rows parsed at a time: a read block's share of the budget as Python objects."""
        share = memory_budget(self.memory_budget) // (BUFFER_SHARE * BLOCKS_PER_BUFFER)
        return max(1, share // ((self.n_features + 1) * CELL_BYTES))

    def read(self, part: int, start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
        """Rows [start, stop): features as float32 (parsed as load_csv parses them) and
        targets as the first pass read them."""
        X = np.empty((stop - start, self.n_features), dtype=np.float32)
        entry = start // STRIDE
        step = self.parse_rows()
        with self.path.open("rb") as file:
            offset, line = int(self.offsets[entry]), int(self.first_lines[entry])
            file.seek(offset)
            rows = csv_rows(_Lines(file, self.path, offset, line), self.path, self.delimiter,
                            first_line=line)
            for _ in range(start - entry * STRIDE):
                self._next(rows, start)
            done = 0
            while done < stop - start:
                take = min(step, stop - start - done)
                cells, lines = [], []
                for _ in range(take):
                    row, row_line = self._next(rows, start + done)
                    cells.append(row[:self.t] + row[self.t + 1:])
                    lines.append(row_line)
                table = Table(self.path, lines, self.names,
                              guessed=self.guessed and start + done == 0)
                X[done:done + take] = to_float32(
                    table, parse_numbers(table, cells, self.features), cells, self.features)
                del cells
                done += take
        return X, self.target_values[start:stop]

    def _next(self, rows: Iterator[tuple[list[str], int]], index: int
              ) -> tuple[list[str], int]:
        """The next row, checked against the first pass (the file may have changed)."""
        item = next(rows, None)
        if item is None or len(item[0]) != self.n_features + 1:
            raise DataError(f"{self.path}: changed since it was first read (at data row "
                            f"{index + 1}); read it again")
        return item
