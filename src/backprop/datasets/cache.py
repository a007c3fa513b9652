"""Where downloaded data is kept (the cache folder, :func:`cache_dir`), and how a cache file is
written safely."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from backprop.cache_folder import cache_dir
from backprop.errors import DataError
from backprop.files.io import write_atomically

__all__ = ["cache_dir", "write_npz_atomic"]


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
