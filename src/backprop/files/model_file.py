"""Model files: the weights as .npz arrays plus the architecture as JSON, no pickle.

A model file is an ordinary NumPy .npz archive holding

* ``__backprop__``: the architecture, loss, dtype and metadata as UTF-8
  JSON bytes (a uint8 array), with a format name and version;
* ``layers.<i>.<tensor>``: every parameter tensor (W, b, gamma, beta, ...);
* ``layers.<i>.<state>``: every non-trainable state array (BatchNorm's
  running_mean and running_var).

A checkpoint (:func:`save_checkpoint`, written by
:class:`~backprop.training.callbacks.ModelCheckpoint`) is a model file with two more
kinds of entry, so :func:`load` reads it as a plain model:

* ``__training__``: the training state as UTF-8 JSON bytes (epoch, history,
  optimizer config and step count, schedule base lr, the RNG state);
* ``optimizer.<name>``: the optimizer's state arrays (moments).

It is read with ``allow_pickle=False``, so loading a file runs no code.
This module writes and reads the format, and restores a checkpoint into an
existing network (:func:`resume`); :mod:`backprop.files.loading` builds a new
Network from a file.
Writing goes to a temporary file in the same folder that is renamed over
the target only once complete, so a crash never leaves half a model.
"""

from __future__ import annotations

import json
import os
import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from backprop.errors import ModelFileError, OptionError
from backprop.files.io import check_npz_sizes, check_regular_file, write_atomically
from backprop.optim.rules import Optimizer, get_optimizer
from backprop.training.state import TrainingCheckpoint
from backprop.version import __version__

if TYPE_CHECKING:
    from backprop.network import Network
    from backprop.training.callbacks import History

FORMAT_NAME = "backprop-model"
FORMAT_VERSION = 1
_HEADER_KEY = "__backprop__"
_TRAINING_KEY = "__training__"
_OPTIMIZER_PREFIX = "optimizer."


def _json_bytes(data: Any, what: str) -> np.ndarray:
    try:
        encoded = json.dumps(data, allow_nan=True).encode("utf-8")
    except TypeError as error:
        raise OptionError(f"{what} must be JSON-serializable: {error}") from None
    return np.frombuffer(encoded, dtype=np.uint8)


def save(
    net: Network,
    path: str | os.PathLike[str],
    extra: dict[str, Any] | None = None,
    *,
    training: TrainingCheckpoint | None = None,
) -> None:
    """Write ``net`` to ``path`` (any extension; .npz is customary).

    ``extra`` is JSON-ready data stored beside the architecture (for
    example a scaler fitted to the training data), read back by
    :func:`load` into ``net.metadata``. ``training`` makes the file a
    checkpoint (see :func:`save_checkpoint`).
    """
    header = {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "library_version": __version__,
        "network": net.config(),
        "metadata": {**net.metadata, **(extra or {})},
    }
    arrays: dict[str, np.ndarray] = {_HEADER_KEY: _json_bytes(header, "model metadata")}
    arrays.update(net.named_parameters())
    arrays.update(net.named_state())
    if training is not None:
        arrays[_TRAINING_KEY] = _json_bytes(training.to_json(), "training state")
        for name, array in training.optimizer_arrays.items():
            arrays[_OPTIMIZER_PREFIX + name] = array
    try:
        write_atomically(path, lambda file: np.savez(file, **arrays), ModelFileError)  # type: ignore[arg-type]
    except OSError as error:
        raise ModelFileError(f"cannot write model file {path}: {error.strerror or error}") from None


def _read_arrays(path: Path) -> dict[str, np.ndarray]:
    """Every array of an .npz file, each size checked before it is read, or a ModelFileError."""
    check_regular_file(path, "model file", ModelFileError)
    if not zipfile.is_zipfile(path):
        raise ModelFileError(f"{path} is not a backprop model file (not an .npz archive)")
    try:
        check_npz_sizes(path, ModelFileError)
        with np.load(path, allow_pickle=False) as archive:
            return {name: archive[name] for name in archive.files}
    except ModelFileError:
        raise
    except (zipfile.BadZipFile, EOFError, zlib.error, struct.error, OverflowError) as error:
        raise ModelFileError(f"{path} is corrupt or truncated ({error})") from None
    except (NotImplementedError, RuntimeError) as error:  # zip features no model file uses
        raise ModelFileError(f"{path} is not a backprop model file ({error})") from None
    except ValueError as error:  # not an .npy inside, or an object array needing pickle
        raise ModelFileError(f"{path} is not a backprop model file ({error})") from None
    except OSError as error:
        raise ModelFileError(f"cannot read model file {path}: {error}") from None


@dataclass
class ModelFile:
    """What a model file holds, checked for its format but not yet against a network."""

    path: Path
    header: dict[str, Any]
    arrays: dict[str, np.ndarray]  # "layers.<i>.<name>": parameters and state arrays
    training: TrainingCheckpoint | None  # None for a plain model file (or when ignored)


def read_model_file(
    path: str | os.PathLike[str], training: Literal["ignore", "optional", "required"]
) -> ModelFile:
    """Read and check a model file: its format, header and (unless ignored) training state."""
    path = Path(path)
    arrays = _read_arrays(path)
    training_bytes = arrays.pop(_TRAINING_KEY, None)
    optimizer_arrays = {
        name[len(_OPTIMIZER_PREFIX) :]: arrays.pop(name)
        for name in list(arrays)
        if training_bytes is not None and name.startswith(_OPTIMIZER_PREFIX)
    }
    if training_bytes is None and training == "required":
        raise ModelFileError(
            f"{path} is a model file without training state (no {_TRAINING_KEY} entry): "
            "it cannot resume training; load it with bp.load"
        )
    if _HEADER_KEY not in arrays:
        raise ModelFileError(
            f"{path} is an .npz file but not a backprop model (no {_HEADER_KEY} entry; "
            f"it holds {', '.join(sorted(arrays)[:5]) or 'nothing'})"
        )
    try:
        header = json.loads(arrays.pop(_HEADER_KEY).tobytes().decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as error:
        raise ModelFileError(f"{path} has an unreadable architecture ({error})") from None
    except RecursionError:
        raise ModelFileError(f"{path} has an architecture nested too deeply to read") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT_NAME:
        found = header.get("format") if isinstance(header, dict) else type(header).__name__
        raise ModelFileError(f"{path} is not a backprop model (format {found!r})")
    if header.get("version", 0) > FORMAT_VERSION:
        raise ModelFileError(
            f"{path} was written in model format {header['version']} by backprop "
            f"{header.get('library_version')}; this is backprop {__version__} "
            f"(format {FORMAT_VERSION}): upgrade backprop"
        )
    checkpoint = None
    if training_bytes is not None and training != "ignore":
        try:
            checkpoint = TrainingCheckpoint.from_json(
                json.loads(training_bytes.tobytes().decode("utf-8")), optimizer_arrays
            )
        except (ValueError, KeyError, TypeError, AttributeError, UnicodeDecodeError) as error:
            raise ModelFileError(f"{path} has unreadable training state ({error})") from None
        except RecursionError:
            raise ModelFileError(f"{path} has training state nested too deeply to read") from None
    return ModelFile(path, header, arrays, checkpoint)


def restore_arrays(net: Network, file: ModelFile) -> None:
    """Copy the file's parameters and state arrays into ``net``, all checked before any is written.

    Every array the architecture needs must be there with its shape (parameters
    finite), and nothing else; on any fault ``net`` is left as it was.
    """
    arrays, path = dict(file.arrays), file.path
    parameters = []
    for name, view in net.named_parameters():
        stored = _take(arrays, name, view.shape, path)
        if not np.all(np.isfinite(stored)):
            raise ModelFileError(f"{path}: array {name} contains NaN or inf")
        with np.errstate(over="ignore"):
            cast = stored.astype(view.dtype)
        if not np.all(np.isfinite(cast)):
            raise ModelFileError(
                f"{path}: array {name} holds values beyond the range of {view.dtype} "
                f"(largest |value| {float(np.max(np.abs(stored))):.3g})"
            )
        parameters.append((view, cast))
    states = []
    for index, layer in enumerate(net.layers):
        own = layer.state_arrays()
        stored_state = {
            name: _take(arrays, f"layers.{index}.{name}", array.shape, path)
            for name, array in own.items()
        }
        states.append((index, layer, stored_state))
    if arrays:
        raise ModelFileError(f"{path} holds arrays the architecture does not use: {sorted(arrays)}")
    for view, stored in parameters:
        view[...] = stored
    for index, layer, stored_state in states:
        try:
            layer.load_state_arrays(stored_state)
        except ValueError as error:
            raise ModelFileError(f"{path}: layer {index}: {error}") from None


def _take(
    arrays: dict[str, np.ndarray], name: str, shape: tuple[int, ...], path: Path
) -> np.ndarray:
    """Remove and return ``arrays[name]``, checking that it exists and has ``shape``."""
    if name not in arrays:
        raise ModelFileError(f"{path} is missing the array {name}")
    stored = arrays.pop(name)
    if stored.shape != shape:
        raise ModelFileError(
            f"{path}: array {name} has shape {stored.shape}, the architecture needs {shape}"
        )
    return stored


def read_checkpoint(path: str | os.PathLike[str]) -> ModelFile:
    """A checkpoint's contents, checked for its format; :func:`resume` restores them."""
    return read_model_file(path, training="required")


def resume(net: Network, optimizer: Optimizer | None, checkpoint: ModelFile) -> Optimizer:
    """Restore a checkpoint into ``net`` and the optimizer, and return the optimizer.

    ``net`` gets the weights, BatchNorm's running statistics and the RNG state
    (shuffling, dropout masks); the optimizer its step count, moments and the
    schedule's base lr. With ``optimizer=None`` one is built from the
    checkpoint's config. Everything is checked before anything is written.
    """
    state, path = checkpoint.training, checkpoint.path
    assert state is not None, "read with read_checkpoint"
    if checkpoint.header.get("network", {}).get("layers") != net.config()["layers"]:
        raise ModelFileError(f"checkpoint {path} holds another architecture than this network")
    if optimizer is None:
        if state.optimizer is None:
            raise OptionError(f"checkpoint {path} has no optimizer state: pass an optimizer or lr")
        optimizer = get_optimizer(state.optimizer)
    if state.optimizer is not None and state.optimizer.get("name") != optimizer.name:
        raise ModelFileError(
            f"checkpoint {path} was trained with optimizer {state.optimizer.get('name')!r}, "
            f"not {optimizer.name!r}: its state cannot be continued"
        )
    moments = {}
    for name, array in state.optimizer_arrays.items():
        if array.shape != net.params.shape:
            raise ModelFileError(
                f"checkpoint {path}: optimizer array {name} has shape {array.shape}, "
                f"the network's parameters {net.params.shape}"
            )
        moments[name] = array.astype(net.params.dtype, copy=False)
    rng_before = net.rng.bit_generator.state
    try:
        if state.rng_state is not None:
            net.rng.bit_generator.state = state.rng_state  # the layers share this generator
        restore_arrays(net, checkpoint)
    except (ValueError, TypeError, KeyError) as error:
        net.rng.bit_generator.state = rng_before
        if isinstance(error, ModelFileError):
            raise
        raise ModelFileError(f"checkpoint {path} has an unusable RNG state ({error})") from None
    optimizer.load_state_dict({"t": state.optimizer_t, "arrays": moments})
    if state.initial_lr is not None:
        optimizer.initial_lr = state.initial_lr
    return optimizer


def save_checkpoint(
    net: Network,
    path: str | os.PathLike[str],
    *,
    epoch: int,
    optimizer: Optimizer | None = None,
    history: History | None = None,
) -> None:
    """Write a checkpoint: the model file of ``net`` plus the state to resume training.

    The file loads with :func:`load` as a plain model, and with
    :func:`load_checkpoint` (or ``fit(resume_from=path)``) with its training state.
    Written atomically, like every model file.
    """
    training = TrainingCheckpoint(
        epoch=int(epoch),
        history={} if history is None else {k: list(v) for k, v in history.history.items()},
        history_epochs=[] if history is None else list(history.epochs),
        rng_state=dict(net.rng.bit_generator.state),
    )
    if optimizer is not None:
        state = optimizer.state_dict()
        training.optimizer = state["config"]
        training.optimizer_t = int(state["t"])
        training.optimizer_arrays = dict(state["arrays"])
        training.initial_lr = optimizer.initial_lr
    save(net, path, training=training)
