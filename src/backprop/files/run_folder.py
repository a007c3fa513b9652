"""A run's output folder, written as one unit: all of one run's files or all of another's.

A run writes its files (model, metrics, plots) into a temporary folder beside
the output folder; only once every file is complete does that folder take the
output folder's place, in one step: a rename when the output folder is new or
empty, else an exchange of the two (Linux's ``renameat2(RENAME_EXCHANGE)``),
after which the old contents are deleted. Runs racing on one folder each
leave it whole, and the last one to finish wins whole; a run that fails or is
killed before that step leaves the folder as it was.

The output folder is swapped whole only when it holds nothing but a run's own
files (``owned``) and temporaries. A folder that holds anything else (the
user's data, or the current directory) is never replaced: each file is then
renamed into it, the previous run's files this run does not write removed, all
under a lock that other runs take too. Runs still never mix there, though a
kill in the midst of those renames can leave files of both. The same holds
where the system cannot exchange two folders.

Temporaries are named as :func:`~backprop.files.io.temporary_prefix` says, so
the folders of killed runs are removed by the next write beside them.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import functools
import os
import shutil
import signal
import stat
import tempfile
from collections.abc import Callable, Collection, Iterator
from pathlib import Path
from typing import Any

from backprop.files.io import remove_stale_temporaries, temporary_prefix

#: renameat2's flag that swaps two paths, and "relative to the current folder".
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100
#: renameat2's failures that mean "not here": the call, the flag or the file system.
_CANNOT_EXCHANGE = (errno.ENOSYS, errno.EINVAL, errno.EXDEV, errno.EBUSY, errno.EPERM,
                    errno.EOPNOTSUPP)
#: Names in an output folder that belong to writers, not to the user: temporaries and
#: the probe of a write test.
_TRANSIENT = (".backprop-write-test.",)


@functools.cache
def _renameat2() -> Callable[..., int] | None:
    """libc's renameat2, where the C library has it (Linux, glibc 2.28 on)."""
    try:
        function: Any = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                         ctypes.c_uint]
    function.restype = ctypes.c_int
    return function  # type: ignore[no-any-return]


def exchange(first: Path, second: Path) -> bool:
    """Swap ``first`` and ``second`` in one step; False where the system cannot."""
    rename = _renameat2()
    if rename is None:
        return False
    if rename(_AT_FDCWD, os.fsencode(first), _AT_FDCWD, os.fsencode(second),
              _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in _CANNOT_EXCHANGE:
        return False
    raise OSError(code, os.strerror(code), str(second))


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``folder`` (best effort: none where it cannot be taken)."""
    try:
        handle = os.open(folder, os.O_RDONLY)
    except OSError:
        yield
        return
    try:
        with contextlib.suppress(OSError):
            fcntl.flock(handle, fcntl.LOCK_EX)
        yield
    finally:
        os.close(handle)  # and with it the lock


def _default_mode(kind: int) -> int:
    umask = os.umask(0)
    os.umask(umask)
    return kind & ~umask


def _is_transient(name: str) -> bool:
    return (name.startswith(".") and name.endswith(".tmp")) or name.startswith(_TRANSIENT)


def _holds_only(out: Path, owned: Collection[str]) -> bool:
    """True when ``out`` may be replaced whole: a folder (not a link, not the current one
    or one above it) holding nothing but ``owned`` names and temporaries."""
    if out.is_symlink() or not out.is_dir():
        return False
    here = Path.cwd().resolve()
    if out.resolve() == here or out.resolve() in here.parents:
        return False
    return all(name in owned or _is_transient(name) for name in os.listdir(out))


@contextlib.contextmanager
def written_together(out: Path, owned: Collection[str]) -> Iterator[Path]:
    """A temporary folder to write one run's files into; at the end of the ``with`` block
    they replace the output folder ``out``'s (its files named in ``owned``) in one step.

    ``out`` must exist. An exception in the block (Ctrl-C included) removes the
    temporary folder and leaves ``out`` as it was.
    """
    out = Path(os.path.realpath(out))  # a link to the folder: the folder it names
    owned = frozenset(owned)
    stage = None
    if out.stat().st_dev == out.parent.stat().st_dev:  # not a mount point: rename works
        with contextlib.suppress(OSError):  # a parent we cannot write to: stage inside
            stage = Path(tempfile.mkdtemp(prefix=temporary_prefix(out), suffix=".tmp",
                                          dir=out.parent))
            os.chmod(stage, stat.S_IMODE(out.stat().st_mode))
    if stage is None:  # inside the folder, then moved in file by file
        stage = Path(tempfile.mkdtemp(prefix=temporary_prefix(out), suffix=".tmp", dir=out))
    try:
        yield stage
        with _signals_held():
            _commit(stage, out, owned)
    finally:
        shutil.rmtree(stage, ignore_errors=True)


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """Hold Ctrl-C (SIGINT) and SIGTERM back until the block is done: a commit is short,
    and stopping half-way could leave files of two runs."""
    held = {signal.SIGINT, signal.SIGTERM}
    before = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, before)


def _commit(stage: Path, out: Path, owned: frozenset[str]) -> None:
    """Put the files in ``stage`` in ``out``'s place: see the module's description."""
    with _locked(out.parent):
        remove_stale_temporaries(out.parent)
        _keep_modes(stage, out)
        if stage.parent == out.parent and _holds_only(out, owned):
            try:
                os.rename(stage, out)  # out is gone or empty: replaced in one step
                return
            except OSError as error:
                if error.errno not in (errno.ENOTEMPTY, errno.EEXIST):
                    raise
            if exchange(stage, out):
                return  # stage now holds the old contents, removed by the caller
        _move_each(stage, out, owned)


def _keep_modes(stage: Path, out: Path) -> None:
    """Give each new file the permissions of the file it replaces, or the umask's."""
    for entry in stage.iterdir():
        try:
            mode = stat.S_IMODE((out / entry.name).stat().st_mode)
        except OSError:
            mode = _default_mode(0o666)
        os.chmod(entry, mode)


def _move_each(stage: Path, out: Path, owned: frozenset[str]) -> None:
    """Rename each file of ``stage`` into ``out``, and remove the files of ``owned`` that
    this run did not write (they are a previous run's)."""
    remove_stale_temporaries(out)
    written = {entry.name for entry in stage.iterdir()}
    for name in sorted(owned - written):
        path = out / name
        if path.is_file() or path.is_symlink():
            path.unlink(missing_ok=True)
    for name in sorted(written):
        os.replace(stage / name, out / name)
