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
import json
import os
import re
import shutil
import stat
import tempfile
import tokenize
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np

from backprop.limits import limit

#: The deepest nesting of lists/objects accepted in a JSON or TOML file.
MAX_NESTING = 64


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
        raise error(f"cannot read {what} {path}: no such file") from None
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


def read_text(
    path: str | os.PathLike[str], what: str, error: type[Exception] = ValueError
) -> str:
    """A regular file's whole text as UTF-8 (a BOM dropped), within the file-size limit."""
    raw = read_bytes(path, what, error)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as failure:
        raise error(
            f"{what} {path} is not UTF-8 text ({failure.reason} at byte {failure.start})"
        ) from None


def nesting_depth(text: str) -> int:
    """The deepest nesting of [ and { in ``text`` (strings included: an upper bound)."""
    depth = deepest = 0
    for char in text:
        if char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth = max(depth - 1, 0)
    return deepest


def check_nesting(text: str, what: str, path: object, error: type[Exception]) -> None:
    """Refuse text nested deeper than MAX_NESTING before a recursive parser sees it."""
    if "[" not in text and "{" not in text:
        return
    if nesting_depth(text) > MAX_NESTING:
        raise error(f"{what} {path} is nested more than {MAX_NESTING} levels deep")


def read_json(
    path: str | os.PathLike[str], what: str, error: type[Exception] = ValueError
) -> Any:
    """A JSON file's value: a regular file, within the size and nesting limits."""
    text = read_text(path, what, error)
    check_nesting(text, what, path, error)
    try:
        return json.loads(text)
    except json.JSONDecodeError as failure:
        raise error(
            f"{what} {path} is not valid JSON ({failure.msg}, line {failure.lineno})"
        ) from None
    except RecursionError:
        raise error(f"{what} {path} is nested too deeply to read") from None


def gunzip(raw: bytes, what: str, path: object, error: type[Exception] = ValueError) -> bytes:
    """gzip data inflated, stopped at ``BACKPROP_MAX_ARRAY_BYTES`` (no gzip bomb)."""
    most = limit("BACKPROP_MAX_ARRAY_BYTES")
    inflate = zlib.decompressobj(wbits=31)  # 31: a gzip header and trailer
    try:
        data = inflate.decompress(raw, most + 1)
    except zlib.error as failure:
        raise error(f"{what} {path}: corrupt or truncated gzip data ({failure})") from None
    if len(data) > most:
        raise error(
            f"{what} {path} inflates to more than {most:,} bytes (BACKPROP_MAX_ARRAY_BYTES)"
        )
    if not inflate.eof:
        raise error(f"{what} {path}: corrupt or truncated gzip data (it ends early)")
    return data


@dataclass(frozen=True)
class NpyHeader:
    """What an .npy header declares: shape, order, dtype, data size, where the data starts."""

    shape: tuple[int, ...]
    fortran_order: bool
    dtype: np.dtype[Any]
    nbytes: int
    offset: int


def read_npy_header(
    stream: IO[bytes], path: object, name: str, available: int, error: type[Exception],
    *, allocated: bool = True,
) -> NpyHeader:
    """The header of the .npy data in ``stream`` (array ``name`` of ``path``), refused
    (``error``) when malformed, holding Python objects, declaring more than the
    ``available`` bytes after its header, or, when the array is to be ``allocated`` (loaded
    into memory, not read by window from disk), above ``BACKPROP_MAX_ARRAY_BYTES``."""
    subject = f"{path}: array {name}" if name else str(path)
    start = stream.tell()
    try:
        version = np.lib.format.read_magic(stream)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(stream)
        elif version == (2, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(stream)
    except (ValueError, TypeError, SyntaxError, OverflowError, tokenize.TokenError) as failure:
        raise error(f"{subject} has no valid .npy header ({failure})") from None
    if version not in ((1, 0), (2, 0)):
        raise error(f"{subject} is in .npy format {version}, not 1.0 or 2.0")
    if dtype.hasobject:
        raise error(f"{subject} holds Python objects, which are never loaded")
    if any(size < 0 for size in shape):
        raise error(f"{subject} declares a negative size in its shape {shape}")
    nbytes = int(np.prod(shape, dtype=object)) * dtype.itemsize
    if allocated:
        check_allocation(subject, shape, nbytes, error)
    offset = stream.tell()
    held = available - (offset - start)
    if nbytes > held:
        raise error(
            f"{subject} declares shape {shape} ({nbytes:,} bytes) but the file "
            f"holds {max(held, 0):,}: it is corrupt or truncated"
        )
    return NpyHeader(tuple(int(size) for size in shape), bool(fortran), dtype, nbytes, offset)


def check_allocation(subject: str, shape: tuple[int, ...], nbytes: int,
                     error: type[Exception]) -> None:
    """Refuse an array of ``nbytes`` to be loaded into memory above
    ``BACKPROP_MAX_ARRAY_BYTES``, naming ``subject`` and the shape it declares."""
    most = limit("BACKPROP_MAX_ARRAY_BYTES")
    if nbytes > most:
        raise error(
            f"{subject} declares shape {shape} ({nbytes:,} bytes), above the "
            f"limit of {most:,} bytes (BACKPROP_MAX_ARRAY_BYTES)"
        )


def check_npy_header(
    path: object, member: zipfile.ZipInfo, stream: IO[bytes], error: type[Exception]
) -> int:
    """The byte size an .npy member of an .npz declares, checked as :func:`read_npy_header`
    does (the member's inflated size is what it holds)."""
    name = member.filename.removesuffix(".npy")
    header = read_npy_header(stream, path, name, member.file_size, error)
    return header.nbytes


def open_npy(
    path: str | os.PathLike[str], what: str, error: type[Exception] = ValueError
) -> NpyHeader:
    """The checked header of a regular .npy file (see :func:`read_npy_header`); its data
    is then read from ``header.offset`` on, by window, so a file of any size is accepted
    (one that loads it whole checks :func:`check_allocation` first)."""
    path = check_regular_file(path, what, error)
    try:
        with path.open("rb") as stream:
            size = os.fstat(stream.fileno()).st_size
            return read_npy_header(stream, path, "", size, error, allocated=False)
    except OSError as failure:
        raise error(f"cannot read {what} {path}: {failure.strerror or failure}") from None


def read_toml(
    path: str | os.PathLike[str], what: str, error: type[Exception] = ValueError
) -> dict[str, Any]:
    """A TOML file's table: a regular file, within the size and nesting limits."""
    import tomllib

    text = read_text(path, what, error)
    check_nesting(text, what, path, error)
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as failure:
        raise error(f"{path}: not valid TOML ({failure})") from None
    except RecursionError:
        raise error(f"{what} {path} is nested too deeply to read") from None


def check_npz_sizes(path: Path, error: type[Exception]) -> None:
    """Check every array an .npz archive declares, and their total, before any is read."""
    total = 0
    with zipfile.ZipFile(path) as archive:
        for member in archive.infolist():
            with archive.open(member) as stream:
                total += check_npy_header(path, member, stream, error)
    most = limit("BACKPROP_MAX_ARRAY_BYTES")
    if total > most:
        raise error(
            f"{path}: its arrays declare {total:,} bytes in all, above the limit of "
            f"{most:,} bytes (BACKPROP_MAX_ARRAY_BYTES)"
        )


def temporary_prefix(target: Path) -> str:
    """The start of the name of a temporary beside ``target``: ``.<name>.<pid>.``; with
    mkstemp's or mkdtemp's random part and ``.tmp`` after it, it names its writer."""
    return f".{target.name}.{os.getpid()}."


_STALE = re.compile(r"^\.(?P<name>.+)\.(?P<pid>\d+)\.[^.]+\.tmp$")


def _gone(pid: int) -> bool:
    """True when no process ``pid`` runs (its writer was killed)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, someone else's
        return False
    return False


def remove_stale_temporaries(folder: Path) -> None:
    """Delete the temporaries in ``folder`` (files, or the folders of a run's outputs)
    whose writer is gone: killed before it could rename or remove them. A writer's
    temporaries are named by :func:`temporary_prefix`, so a live writer's are kept."""
    try:
        entries = list(folder.iterdir())
    except OSError:
        return
    for entry in entries:
        found = _STALE.match(entry.name)
        if found is None or not _gone(int(found["pid"])):
            continue
        with contextlib.suppress(OSError):
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink(missing_ok=True)


def write_atomically(
    path: str | os.PathLike[str],
    write: Callable[[IO[bytes]], object],
    error: type[Exception] = ValueError,
) -> None:
    """Write a file by ``write(file)`` into a temporary beside it, then rename it over ``path``.

    A crash at any point leaves either the old file or the new one, whole.
    A symlink is followed: the file it points at is replaced, the link stays.
    Only a regular file (or nothing) may be replaced: a folder, device or FIFO
    at ``path`` is refused. The new file keeps the old one's permissions, or
    gets the umask's for a new file. Temporaries that killed writers left in
    the folder (of any name) are removed.
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
    remove_stale_temporaries(folder)
    handle, temporary = tempfile.mkstemp(prefix=temporary_prefix(target), suffix=".tmp", dir=folder)
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
