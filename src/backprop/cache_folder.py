"""The user's backprop cache folder: downloaded data (:mod:`backprop.datasets`) and the
compiled passes built ahead of time (:mod:`backprop.prebuilt`)."""

from __future__ import annotations

import os
from pathlib import Path


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
