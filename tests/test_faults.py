"""Faults while writing: a kill at any moment of a save, and a full disk, lose nothing."""

from __future__ import annotations

import errno
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import IO

import numpy as np
import pytest

import backprop as bp
from backprop.errors import ModelFileError
from backprop.files import io as fileio


def wide_net(seed: int) -> bp.Network:
    return bp.Network([bp.Dense(256, 512, activation="relu"), bp.Dense(512, 10,
                                                                        activation="softmax")],
                      loss="cross_entropy", seed=seed)


SAVER = """
import sys
import backprop as bp
path = sys.argv[1]
nets = [bp.Network([bp.Dense(256, 512, activation="relu"),
                    bp.Dense(512, 10, activation="softmax")], loss="cross_entropy", seed=s)
        for s in (1, 2)]
print("ready", flush=True)
while True:
    for net in nets:
        net.save(path)
"""


@pytest.mark.parametrize("delay", [0.05, 0.11, 0.17, 0.23, 0.31])
def test_a_kill_during_a_save_leaves_the_old_or_the_new_model_whole(
    tmp_path: Path, delay: float
) -> None:
    path = tmp_path / "model.npz"
    wide_net(1).save(path)
    expected = [wide_net(seed).params for seed in (1, 2)]
    saver = subprocess.Popen([sys.executable, "-c", SAVER, str(path)],
                             stdout=subprocess.PIPE, text=True)
    assert saver.stdout is not None and saver.stdout.readline().strip() == "ready"
    time.sleep(delay)
    saver.send_signal(signal.SIGKILL)
    saver.wait(timeout=60)
    params = bp.load(path).params
    assert any(np.array_equal(params, whole) for whole in expected)
    wide_net(2).save(path)  # the next save removes the killed writer's temporary
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.npz"]


def test_a_full_disk_keeps_the_previous_model_and_leaves_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "model.npz"
    old = wide_net(1)
    old.save(path)
    def full(descriptor: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(fileio.os, "fsync", full)
    with pytest.raises(ModelFileError, match=r"cannot write model file .*No space left"):
        wide_net(2).save(path)
    monkeypatch.undo()
    np.testing.assert_array_equal(bp.load(path).params, old.params)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.npz"]


def test_a_writer_that_fails_half_way_leaves_the_target_alone(tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    target.write_text("old")

    def half(file: IO[bytes]) -> None:
        file.write(b"new, half")
        raise OSError(errno.EIO, "Input/output error")

    with pytest.raises(OSError, match="Input/output error"):
        fileio.write_atomically(target, half)
    assert target.read_text() == "old" and sorted(tmp_path.iterdir()) == [target]
