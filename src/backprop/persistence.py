"""Model files: the weights as .npz arrays plus the architecture as JSON, no pickle.

A model file is an ordinary NumPy .npz archive holding

* ``__backprop__``: the architecture, loss, dtype and metadata as UTF-8
  JSON bytes (a uint8 array), with a format name and version;
* ``layers.<i>.<tensor>``: every parameter tensor (W, b, gamma, beta, ...);
* ``layers.<i>.<state>``: every non-trainable state array (BatchNorm's
  running_mean and running_var).

It is read with ``allow_pickle=False``, so loading a file runs no code.
Writing goes to a temporary file in the same folder that is renamed over
the target only once complete, so a crash never leaves half a model.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from . import __version__
from .errors import ModelFileError
from .layers import layer_from_config
from .network import Network

FORMAT_NAME = "backprop-model"
FORMAT_VERSION = 1
_HEADER_KEY = "__backprop__"


def network_from_config(config: dict[str, Any], dtype: Any = None) -> Network:
    """A freshly initialized network with the architecture ``config`` describes."""
    layers = [layer_from_config(layer) for layer in config["layers"]]
    return Network(
        layers,
        loss=config["loss"]["name"],
        init=config.get("init", "auto"),
        seed=config.get("seed"),
        dtype=dtype or config.get("dtype", "float32"),
    )


def write_atomically(path: str | os.PathLike[str], arrays: dict[str, np.ndarray]) -> None:
    """np.savez into a temporary file beside ``path``, then rename it over ``path``."""
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise ModelFileError(f"cannot write {target}: folder {folder} does not exist")
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(handle, "wb") as file:
            np.savez(file, **arrays)  # type: ignore[arg-type]
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def save(net: Network, path: str | os.PathLike[str], extra: dict[str, Any] | None = None) -> None:
    """Write ``net`` to ``path`` (any extension; .npz is customary).

    ``extra`` is JSON-ready data stored beside the architecture (for
    example a scaler fitted to the training data), read back by
    :func:`load` into ``net.metadata``.
    """
    header = {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "library_version": __version__,
        "network": net.config(),
        "metadata": {**net.metadata, **(extra or {})},
    }
    try:
        header_bytes = json.dumps(header).encode("utf-8")
    except TypeError as error:
        raise ValueError(f"model metadata must be JSON-serializable: {error}") from None
    arrays: dict[str, np.ndarray] = {_HEADER_KEY: np.frombuffer(header_bytes, dtype=np.uint8)}
    arrays.update(net.named_parameters())
    arrays.update(net.named_state())
    try:
        write_atomically(path, arrays)
    except OSError as error:
        raise ModelFileError(f"cannot write model file {path}: {error.strerror or error}") from None


def _read_arrays(path: Path) -> dict[str, np.ndarray]:
    """Every array of an .npz file, or a ModelFileError that says what is wrong."""
    if not path.exists():
        raise ModelFileError(f"model file not found: {path}")
    if path.is_dir():
        raise ModelFileError(f"{path} is a folder, not a model file")
    try:
        with np.load(path, allow_pickle=False) as archive:
            return {name: archive[name] for name in archive.files}
    except (zipfile.BadZipFile, EOFError) as error:
        raise ModelFileError(f"{path} is corrupt or truncated ({error})") from None
    except ValueError as error:  # not a zip/npy, or an object array needing pickle
        raise ModelFileError(f"{path} is not a backprop model file ({error})") from None
    except OSError as error:
        raise ModelFileError(f"cannot read model file {path}: {error}") from None


def load(path: str | os.PathLike[str]) -> Network:
    """Read a network written by :func:`save` (or :meth:`Network.save`)."""
    path = Path(path)
    arrays = _read_arrays(path)
    if _HEADER_KEY not in arrays:
        raise ModelFileError(
            f"{path} is an .npz file but not a backprop model (no {_HEADER_KEY} entry; "
            f"it holds {', '.join(sorted(arrays)[:5]) or 'nothing'})"
        )
    try:
        header = json.loads(arrays.pop(_HEADER_KEY).tobytes().decode("utf-8"))
        if header.get("format") != FORMAT_NAME:
            found = header.get("format")
            raise ModelFileError(f"{path} is not a backprop model (format {found!r})")
        if header.get("version", 0) > FORMAT_VERSION:
            raise ModelFileError(
                f"{path} was written in model format {header['version']} by backprop "
                f"{header.get('library_version')}; this is backprop {__version__} "
                f"(format {FORMAT_VERSION}): upgrade backprop"
            )
        net = network_from_config(header["network"])
    except ModelFileError:
        raise
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as error:
        raise ModelFileError(f"{path} has an unreadable architecture ({error})") from None
    for name, view in net.named_parameters():
        if name not in arrays:
            raise ModelFileError(f"{path} is missing the array {name}")
        stored = arrays.pop(name)
        if stored.shape != view.shape:
            raise ModelFileError(
                f"{path}: array {name} has shape {stored.shape}, "
                f"the architecture needs {view.shape}"
            )
        if not np.all(np.isfinite(stored)):
            raise ModelFileError(f"{path}: array {name} contains NaN or inf")
        view[...] = stored
    for index, layer in enumerate(net.layers):
        state: dict[str, np.ndarray] = {}
        for name, array in layer.state_arrays().items():
            key = f"layers.{index}.{name}"
            if key not in arrays:
                raise ModelFileError(f"{path} is missing the array {key}")
            stored = arrays.pop(key)
            if stored.shape != array.shape:
                raise ModelFileError(
                    f"{path}: array {key} has shape {stored.shape}, "
                    f"the architecture needs {array.shape}"
                )
            state[name] = stored
        try:
            layer.load_state_arrays(state)
        except ValueError as error:
            raise ModelFileError(f"{path}: layer {index}: {error}") from None
    if arrays:
        raise ModelFileError(f"{path} holds arrays the architecture does not use: {sorted(arrays)}")
    net.metadata = dict(header.get("metadata") or {})
    return net
