"""Files the user names: read only regular files, write atomically, never trust a size.

Every reader of the library checks a path with :func:`check_regular_file`
first, so a FIFO, a device, a folder or a symlink loop gets a one-line error
naming what it is instead of blocking or being misreported. Every writer
goes through :func:`write_atomically`: a temporary file beside the target,
renamed over it only once complete, with the target's permissions (or the
umask's for a new file). Sizes are checked against :mod:`backprop.limits`.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO

from .limits import limit


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def check_regular_file(
    path: str | os.PathLike[str], what: str, error: type[Exception] = ValueError
) -> Path:
    """``path`` as a Path if it names a readable regular file (through symlinks), else ``error``.

    ``what`` names the file's role in the message ("model file", "weights file", ...).
    """
    path = Path(path)
    try:
        info = path.stat()
    except FileNotFoundError:
        if path.is_symlink():
            raise error(f"{what} {path} is a symlink to a missing file") from None
        raise error(f"{what} not found: {path}") from None
    except OSError as failure:
        if failure.errno == errno.ELOOP:
            raise error(f"{what} {path} is a symlink loop") from None
        raise error(f"cannot read {what} {path}: {failure.strerror or failure}") from None
    if not stat.S_ISREG(info.st_mode):
        raise error(f"{what} {path} is {_kind(info.st_mode)}, not a file")
    return path


def read_bytes(
    path: str | os.PathLike[str], what: str, error: type[Exception] = ValueError
) -> bytes:
    """The whole of a regular file, refused above ``BACKPROP_MAX_FILE_BYTES``."""
    path = check_regular_file(path, what, error)
    most = limit("BACKPROP_MAX_FILE_BYTES")
    size = path.stat().st_size
    if size > most:
        raise error(
            f"{what} {path} has {size:,} bytes, above the limit of {most:,} "
            "(BACKPROP_MAX_FILE_BYTES)"
        )
    try:
        return path.read_bytes()
    except OSError as failure:
        raise error(f"cannot read {what} {path}: {failure.strerror or failure}") from None


def _temporary_name(target: Path) -> str:
    return f".{target.name}.{os.getpid()}."


_STALE = re.compile(r"^\.(?P<name>.+)\.(?P<pid>\d+)\.[^.]+\.tmp$")


def _remove_stale_temporaries(folder: Path, name: str) -> None:
    """Delete the temporary files of ``name`` whose writer is gone (killed)."""
    try:
        entries = list(folder.iterdir())
    except OSError:
        return
    for entry in entries:
        found = _STALE.match(entry.name)
        if found is None or found["name"] != name:
            continue
        pid = int(found["pid"])
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            entry.unlink(missing_ok=True)
        except PermissionError:  # alive, someone else's
            continue


def write_atomically(
    path: str | os.PathLike[str],
    write: Callable[[IO[bytes]], None],
    error: type[Exception] = ValueError,
) -> None:
    """Write a file by ``write(file)`` into a temporary beside it, then rename it over ``path``.

    A crash at any point leaves either the old file or the new one, whole.
    A symlink is followed: the file it points at is replaced, the link stays.
    Only a regular file (or nothing) may be replaced: a folder, device or FIFO
    at ``path`` is refused. The new file keeps the old one's permissions, or
    gets the umask's for a new file. Temporary files of this path left by
    killed writers are removed.
    """
    target = Path(path)
    if str(path) == "":
        raise error("the output path is empty")
    if target.is_symlink():
        target = Path(os.path.realpath(target))
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise error(f"cannot write {target}: folder {folder} does not exist")
    try:
        mode = stat.S_IMODE(target.stat().st_mode)
        if not stat.S_ISREG(target.stat().st_mode):
            raise error(f"cannot write {target}: it is {_kind(target.stat().st_mode)}, not a file")
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    _remove_stale_temporaries(folder, target.name)
    handle, temporary = tempfile.mkstemp(prefix=_temporary_name(target), suffix=".tmp", dir=folder)
    try:
        with os.fdopen(handle, "wb") as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            Path(temporary).unlink(missing_ok=True)
        raise
