"""Runs that belong together: one run's files are written as one unit, every writer goes
through the one atomic writer, and killed writers' temporaries are cleaned up.

* Two ``train`` runs racing on one --out each leave a whole folder: model.npz and
  metrics.json of the same run (the run id in both), the last one winning whole.
* A run that fails or is killed before its files are complete leaves the folder as
  it was; the next write beside it removes what the killed one left.
* ONNX export and the sweep's summary keep a file's mode and write through a link.
* A corrupt MNIST cache is described in the tool's own words, never NumPy's advice
  to load pickled data.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import pickle
import signal
import stat
import subprocess
import sys
import uuid
import warnings
from pathlib import Path

import numpy as np
import pytest

import backprop as bp
from backprop.cli import entry
from backprop.datasets import mnist
from backprop.errors import DataError
from backprop.files.io import write_atomically
from backprop.files.run_folder import written_together
from backprop.sweep import write_json_atomic

#: Pairs of racing runs on a folder of their own, and on one that holds the user's files.
PAIRS = {False: 16, True: 8}


def _train(out: Path, seed: int, *extra: str) -> None:
    """The child of a racing pair: one quick ``backprop train``; its status is the exit code."""
    sys.exit(entry.main(["train", "xor", "--epochs", "1", "--layers", "4", "--seed", str(seed),
                         "--quiet", "--no-plots", "--out", str(out), *extra]))


def run_ids(out: Path) -> tuple[str, str, int, int]:
    """(model's run id, metrics' run id, model's seed, metrics' seed) of a finished run."""
    net = bp.load(out / "model.npz")
    metrics = json.loads((out / "metrics.json").read_text())
    return net.metadata["run_id"], metrics["run_id"], net.seed, metrics["config"]["seed"]


@pytest.mark.parametrize("shared", [False, True], ids=["own folder", "folder with user data"])
def test_racing_runs_each_leave_a_whole_folder(tmp_path: Path, shared: bool) -> None:
    """Two runs on one --out left a model.npz of one and a metrics.json of the other (2 of
    16 tries). A folder of its own is swapped whole; a folder that also holds the user's
    files gets each file renamed in, under a lock the other run waits on."""
    out = tmp_path / "run"
    out.mkdir()
    if shared:
        (out / "notes.txt").write_text("the user's own file\n")
    fork = multiprocessing.get_context("fork")
    for pair in range(PAIRS[shared]):
        seeds = (2 * pair + 1, 2 * pair + 2)
        runs = [fork.Process(target=_train, args=(out, seed)) for seed in seeds]
        for run in runs:
            run.start()
        for run in runs:
            run.join(120)
            assert run.exitcode == 0
        model_id, metrics_id, model_seed, metrics_seed = run_ids(out)
        assert model_id == metrics_id, f"pair {pair}: model and metrics of different runs"
        assert model_seed == metrics_seed and model_seed in seeds
        expected = ["metrics.json", "model.npz"] + (["notes.txt"] if shared else [])
        assert sorted(os.listdir(out)) == expected  # nothing half-done left inside
        assert os.listdir(tmp_path) == ["run"]  # nor beside it
    assert (out / "notes.txt").exists() == shared


def test_a_run_that_fails_while_writing_leaves_the_last_run_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("matplotlib", reason="the plots need matplotlib")
    from backprop.cli import train

    out = tmp_path / "run"
    assert entry.main(["train", "xor", "--epochs", "1", "--quiet", "--out", str(out)]) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    assert "curves.png" in before

    def broken(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(train, "write_plots", broken)
    assert entry.main(["train", "xor", "--epochs", "2", "--quiet", "--out", str(out)]) == 2
    assert "No space left on device" in capsys.readouterr().err
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert os.listdir(tmp_path) == ["run"]


def test_a_run_replaces_the_last_ones_files_keeping_modes(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib", reason="the plots need matplotlib")
    out = tmp_path / "run"
    assert entry.main(["train", "xor", "--epochs", "1", "--quiet", "--out", str(out)]) == 0
    assert "curves.png" in os.listdir(out)
    out.chmod(0o750)
    (out / "model.npz").chmod(0o640)
    assert entry.main(["train", "xor", "--epochs", "1", "--quiet", "--no-plots",
                       "--out", str(out)]) == 0
    assert sorted(os.listdir(out)) == ["metrics.json", "model.npz"]  # no plot of the last run
    assert stat.S_IMODE(out.stat().st_mode) == 0o750
    assert stat.S_IMODE((out / "model.npz").stat().st_mode) == 0o640
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE((out / "metrics.json").stat().st_mode) == 0o666 & ~umask


def test_the_current_folder_and_a_link_to_a_folder_as_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    here = tmp_path / "here"
    here.mkdir()
    (here / "data.txt").write_text("mine\n")
    monkeypatch.chdir(here)
    for _ in range(2):
        assert entry.main(["train", "xor", "--epochs", "1", "--quiet", "--no-plots",
                           "--out", "."]) == 0
    assert Path.cwd() == here and here.is_dir()  # the folder the shell is in was not swapped
    assert sorted(os.listdir(here)) == ["data.txt", "metrics.json", "model.npz"]
    real = tmp_path / "run-3"
    real.mkdir()
    link = tmp_path / "latest"
    link.symlink_to(real)
    for _ in range(2):
        assert entry.main(["train", "xor", "--epochs", "1", "--quiet", "--no-plots",
                           "--out", str(link)]) == 0
    assert link.is_symlink() and link.resolve() == real
    assert sorted(os.listdir(real)) == ["metrics.json", "model.npz"]
    model_id, metrics_id, _, _ = run_ids(link)
    assert model_id == metrics_id


def test_a_folder_whose_parent_cannot_be_written_gets_its_files_one_by_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where no temporary folder can go beside --out (a read-only parent, a mount point),
    it goes inside, and the files are renamed into place from there."""
    import tempfile

    out = tmp_path / "run"
    out.mkdir()
    (out / "model.npz").write_bytes(b"the last run's")
    (out / "curves.png").write_bytes(b"the last run's plot")
    made = tempfile.mkdtemp

    def not_beside(*args: object, dir: Path, **kwargs: object) -> str:
        if Path(dir) == tmp_path:
            raise PermissionError(13, "Permission denied", str(dir))
        return made(*args, dir=dir, **kwargs)

    monkeypatch.setattr(tempfile, "mkdtemp", not_beside)
    with written_together(out, ("model.npz", "metrics.json", "curves.png")) as folder:
        assert folder.parent == out
        (folder / "model.npz").write_bytes(b"this run's")
        (folder / "metrics.json").write_text("{}")
    assert sorted(os.listdir(out)) == ["metrics.json", "model.npz"]
    assert (out / "model.npz").read_bytes() == b"this run's"


#: A writer of whole run folders, killed at some moment of some write.
WRITER = """
import json, sys, uuid
from pathlib import Path
import backprop as bp
from backprop.files.run_folder import written_together
out = Path(sys.argv[1])
nets = [bp.Network([bp.Dense(256, 512, activation="relu"),
                    bp.Dense(512, 10, activation="softmax")], loss="cross_entropy", seed=s)
        for s in (1, 2)]
k = 0
while True:
    net = nets[k % 2]
    net.metadata["run_id"] = uuid.uuid4().hex
    with written_together(out, ("model.npz", "metrics.json")) as folder:
        net.save(str(folder / "model.npz"))
        (folder / "metrics.json").write_text(json.dumps({"run_id": net.metadata["run_id"]}))
    print(k, flush=True)
    k += 1
"""


@pytest.mark.parametrize("writes", [1, 2, 3, 5, 8])
def test_a_kill_during_a_run_leaves_one_whole_run_and_its_leftovers_go_next_time(
    tmp_path: Path, writes: int
) -> None:
    out = tmp_path / "run"
    out.mkdir()
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(out)],
                              stdout=subprocess.PIPE, text=True)
    assert writer.stdout is not None
    for _ in range(writes):  # wait until it has written this many runs, then kill it
        assert writer.stdout.readline().strip()
    writer.send_signal(signal.SIGKILL)
    writer.wait(timeout=60)
    model_id = bp.load(out / "model.npz").metadata["run_id"]
    assert json.loads((out / "metrics.json").read_text())["run_id"] == model_id
    with written_together(out, ("model.npz", "metrics.json")) as folder:
        (folder / "metrics.json").write_text("{}")
    assert os.listdir(tmp_path) == ["run"]  # the killed writer's folder is gone
    assert os.listdir(out) == ["metrics.json"]


# -- temporaries of killed writers, anywhere in the folder ------------------------------


def dead_pid() -> int:
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    return int(done.stdout)


def test_any_write_removes_every_killed_writers_temporaries_in_its_folder(
    tmp_path: Path
) -> None:
    dead = dead_pid()
    stale_file = tmp_path / f".metrics.json.{dead}.k3x9q2ab.tmp"
    stale_file.write_bytes(b"half")
    stale_folder = tmp_path / f".run.{dead}.zz11yy22.tmp"
    stale_folder.mkdir()
    (stale_folder / "model.npz").write_bytes(b"half a run")
    alive = tmp_path / f".model.npz.{os.getpid()}.aa11bb22.tmp"
    alive.write_bytes(b"a writer still at work")
    mine = tmp_path / f".notes.{dead}.txt"  # not a temporary's name: never touched
    mine.write_text("keep")
    write_atomically(tmp_path / "other.txt", lambda file: file.write(b"x"))
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [alive.name, mine.name, "other.txt"])


def test_a_cache_write_removes_killed_writers_temporaries(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from backprop.datasets.cache import write_npz_atomic

    dead = dead_pid()
    stale = tmp_path / f".digits.npz.{dead}.q1w2e3r4.tmp"
    stale.write_bytes(b"half a cache file")
    write_npz_atomic(tmp_path / "mnist.npz", {"a": np.zeros(2)})
    assert sorted(os.listdir(tmp_path)) == ["mnist.npz"]


# -- every writer through the one atomic writer -----------------------------------------


def _net() -> bp.Network:
    return bp.Network([bp.Dense(3, 4, activation="tanh"), bp.Dense(4, 2, activation="softmax")],
                      loss="cross_entropy", seed=0)


def _check_writer(tmp_path: Path, write: object, read: object) -> None:
    """``write(path)`` keeps the mode of the file it replaces, writes through a symlink
    (the link stays), and removes a killed writer's temporary beside it."""
    assert callable(write) and callable(read)
    target = tmp_path / "real.out"
    write(target)
    target.chmod(0o640)
    first = read(target)
    write(target)
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    link = tmp_path / "latest.out"
    link.symlink_to(target)
    stale = tmp_path / f".real.out.{dead_pid()}.abcdefgh.tmp"
    stale.write_bytes(b"half")
    write(link)
    assert link.is_symlink() and read(link) == first
    assert not stale.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["latest.out", "real.out"]


def test_onnx_export_goes_through_the_atomic_writer(tmp_path: Path) -> None:
    pytest.importorskip("onnx", reason="ONNX export needs onnx: pip install 'backprop-mlp[onnx]'")
    net = _net()
    _check_writer(tmp_path, lambda path: net.to_onnx(path), lambda path: path.read_bytes())


def test_the_sweeps_summary_goes_through_the_atomic_writer(tmp_path: Path) -> None:
    document = {"trials": [1, 2, 3]}
    _check_writer(tmp_path, lambda path: write_json_atomic(path, document),
                  lambda path: json.loads(path.read_text()))


# -- a corrupt MNIST cache --------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "found"),
    [
        (pickle.dumps({"X": [1, 2, 3]}), "not a zip archive, as an .npz file is"),
        (None, "holds Python objects, which are never loaded"),
        (b"PK\x03\x04" + bytes(40), "not a zip archive"),
    ],
    ids=["a pickle", "an object array", "a broken zip"],
)
def test_a_corrupt_mnist_cache_is_described_without_numpys_pickle_advice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: bytes | None, found: str
) -> None:
    path = tmp_path / "mnist.npz"
    if content is None:
        np.savez(path, format=np.array([{"evil": 1}], dtype=object))
    else:
        path.write_bytes(content)
    with pytest.raises(DataError) as info:
        mnist.load_mnist(cache_dir=tmp_path, download=False)
    message = str(info.value)
    assert found in message and "delete it or run fetch_mnist(force=True)" in message
    assert "pickle" not in message.replace("pickled", "")  # no allow_pickle, no pickle.load

    def offline(path: Path, download: object) -> None:
        raise DataError("cannot download MNIST: offline")

    monkeypatch.setattr(mnist, "_fetch", offline)
    with warnings.catch_warnings(record=True) as caught, pytest.raises(DataError, match="offline"):
        warnings.simplefilter("always")
        mnist.load_mnist(cache_dir=tmp_path)
    said = [str(w.message) for w in caught]
    assert len(said) == 1 and found in said[0] and said[0].endswith("; fetching MNIST again")
    assert "allow_pickle" not in said[0] and "pickle.load" not in said[0]


def test_run_ids_differ_between_runs(tmp_path: Path) -> None:
    """The run id the racing test relies on is fresh for each run."""
    ids = set()
    for _ in range(2):
        assert entry.main(["train", "xor", "--epochs", "1", "--quiet", "--no-plots",
                           "--out", str(tmp_path / "r")]) == 0
        ids.add(run_ids(tmp_path / "r")[0])
    assert len(ids) == 2 and all(uuid.UUID(i) for i in ids)
