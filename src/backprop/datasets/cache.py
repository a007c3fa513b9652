"""Where downloaded data is kept, and how a cache file is written safely."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from backprop.errors import DataError
from backprop.files.io import write_atomically


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

    Goes through the one atomic writer (a temporary file in the same folder,
    flushed to disk, renamed over ``path``), which also removes the temporaries
    that killed writers left anywhere in the cache folder. A failure leaves no
    temporary file behind.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(path, lambda file: np.savez(file, **arrays), DataError)  # type: ignore[arg-type]  # stubs: allow_pickle
    except OSError as error:
        raise DataError(
            f"cannot write the cache file {path} ({error.strerror or error}); "
            "set BACKPROP_CACHE to a writable directory with enough space"
        ) from error
