"""Where downloaded data is kept, and how a cache file is written safely."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np

from backprop.errors import DataError


def cache_dir() -> Path:
    """The user's backprop cache directory (not created here).

    $BACKPROP_CACHE if set, else $XDG_CACHE_HOME/backprop, else ~/.cache/backprop.
    """
    explicit = os.environ.get("BACKPROP_CACHE")
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg:
        return Path(xdg).expanduser() / "backprop"
    return Path.home() / ".cache" / "backprop"


def write_npz_atomic(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Save ``arrays`` with np.savez so that ``path`` is either the old file or the whole new one.

    Writes a temporary file in the same directory, flushes it to disk, then
    renames it over ``path`` (os.replace is atomic on one file system). A
    failure leaves no temporary file behind.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 (closed below, then renamed)
            dir=path.parent, prefix=f".{path.name}.", suffix=".tmp", delete=False
        )
    except OSError as error:
        raise DataError(
            f"cannot write the cache file {path} ({error.strerror or error}); "
            "set BACKPROP_CACHE to a writable directory"
        ) from error
    tmp = Path(handle.name)
    try:
        with handle:
            np.savez(handle, **arrays)  # type: ignore[arg-type]  # stubs: allow_pickle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException as error:
        tmp.unlink(missing_ok=True)
        if isinstance(error, OSError):
            raise DataError(
                f"cannot write the cache file {path} ({error.strerror or error}); "
                "set BACKPROP_CACHE to a writable directory with enough space"
            ) from error
        raise
