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
from backprop.files.io import NpyHeader, check_regular_file, read_npy_header, write_atomically
from backprop.files.model_schema import build_layer, check_header
from backprop.limits import limit, out_of_memory
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


#: Array kinds a parameter, state or optimizer array may hold: floats and integers.
_REAL_KINDS = "fiu"
_KIND_NAMES = {"c": "complex numbers (their imaginary parts would be lost)", "U": "strings",
               "S": "bytes", "b": "booleans", "V": "raw records", "M": "dates",
               "m": "time spans", "O": "Python objects"}


@dataclass
class ModelFile:
    """What a model file holds, checked for its format but not yet against a network."""

    path: Path
    header: dict[str, Any]
    arrays: dict[str, np.ndarray]  # "layers.<i>.<name>": parameters and state arrays
    training: TrainingCheckpoint | None  # None for a plain model file (or when ignored)


class _Archive:
    """The members of a model file's zip archive: each .npy header read and checked
    (size, kind) before any data is, and the data read from the one open file."""

    def __init__(self, path: Path, archive: zipfile.ZipFile) -> None:
        self.path, self.archive = path, archive
        self.members: dict[str, zipfile.ZipInfo] = {}
        self.claims: dict[str, NpyHeader] = {}
        for member in archive.infolist():
            name = member.filename.removesuffix(".npy")
            if member.filename == name:
                raise ModelFileError(f"{path} is not a backprop model file (its member "
                                     f"{member.filename[:60]!r} is not an .npy array)")
            if name in self.members:
                raise ModelFileError(f"{path} is not a backprop model file (array {name} "
                                     "appears twice)")
            self.members[name] = member
        for name, member in self.members.items():
            with archive.open(member) as stream:
                self.claims[name] = read_npy_header(stream, path, name, member.file_size,
                                                    ModelFileError)
        total = sum(claim.nbytes for claim in self.claims.values())
        most = limit("BACKPROP_MAX_ARRAY_BYTES")
        if total > most:
            raise ModelFileError(
                f"{path}: its arrays declare {total:,} bytes in all, above the limit of "
                f"{most:,} bytes (BACKPROP_MAX_ARRAY_BYTES)"
            )

    def check_real(self, name: str, what: str = "array") -> None:
        """Refuse an array that holds anything but real numbers."""
        dtype = self.claims[name].dtype
        if dtype.kind not in _REAL_KINDS or dtype.fields is not None:
            held = _KIND_NAMES.get(dtype.kind, f"values of dtype {dtype}")
            raise ModelFileError(f"{self.path}: {what} {name} holds {held}, not real numbers")

    def read(self, name: str) -> np.ndarray:
        """The array ``name`` (its header already checked); a MemoryError is named."""
        claim = self.claims[name]
        try:
            with self.archive.open(self.members[name]) as stream:
                return np.lib.format.read_array(stream, allow_pickle=False)
        except MemoryError:
            raise ModelFileError(
                f"{self.path}: not enough memory to read array {name} of shape {claim.shape} "
                f"({claim.nbytes:,} bytes)"
            ) from None

    def read_json(self, name: str, what: str) -> Any:
        """The JSON value stored as UTF-8 bytes in the uint8 array ``name``."""
        claim = self.claims[name]
        if claim.dtype != np.uint8 or len(claim.shape) != 1:
            raise ModelFileError(
                f"{self.path}: {name} must hold the {what} as UTF-8 JSON bytes (a 1-D uint8 "
                f"array), got {claim.dtype} of shape {claim.shape}"
            )
        most = limit("BACKPROP_MAX_FILE_BYTES")
        if claim.nbytes > most:
            raise ModelFileError(f"{self.path}: its {what} has {claim.nbytes:,} bytes, above "
                                 f"the limit of {most:,} (BACKPROP_MAX_FILE_BYTES)")
        try:
            return json.loads(self.read(name).tobytes().decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as error:
            raise ModelFileError(f"{self.path} has an unreadable {what} ({error})") from None
        except RecursionError:
            raise ModelFileError(f"{self.path} has an {what} nested too deeply to read"
                                 ) from None


def _open_failure(path: Path, error: Exception) -> ModelFileError:
    """What a failure of the zip or .npy machinery says about the file."""
    if isinstance(error, zipfile.BadZipFile | EOFError | zlib.error | struct.error
                  | OverflowError):
        return ModelFileError(f"{path} is corrupt or truncated ({error})")
    if isinstance(error, OSError):
        return ModelFileError(f"cannot read model file {path}: {error.strerror or error}")
    # NotImplementedError, RuntimeError: zip features no model file uses (encryption, ...);
    # ValueError: not .npy data inside
    return ModelFileError(f"{path} is not a backprop model file ({error})")


def read_model_file(
    path: str | os.PathLike[str], training: Literal["ignore", "optional", "required"]
) -> ModelFile:
    """Read and check a model file: its format, header, arrays and (unless ignored)
    training state.

    Everything the file declares is checked before any array is read: every
    member's .npy header (kind, size), the header's fields (:mod:`.model_schema`),
    and each array's name and shape against the architecture the header describes.
    Any fault is a one-line ModelFileError naming the file and the field or array.
    """
    path = Path(path)
    check_regular_file(path, "model file", ModelFileError)
    if not zipfile.is_zipfile(path):
        raise ModelFileError(f"{path} is not a backprop model file (not an .npz archive)")
    try:
        with zipfile.ZipFile(path) as archive:
            return _read_checked(path, _Archive(path, archive), training)
    except ModelFileError:
        raise
    except (zipfile.BadZipFile, EOFError, zlib.error, struct.error, OverflowError,
            NotImplementedError, RuntimeError, ValueError, OSError) as error:
        raise _open_failure(path, error) from None


def _read_checked(
    path: Path, archive: _Archive, training: Literal["ignore", "optional", "required"]
) -> ModelFile:
    names = set(archive.claims)
    has_training = _TRAINING_KEY in names
    if not has_training and training == "required":
        raise ModelFileError(
            f"{path} is a model file without training state (no {_TRAINING_KEY} entry): "
            "it cannot resume training; load it with bp.load"
        )
    if _HEADER_KEY not in names:
        raise ModelFileError(
            f"{path} is an .npz file but not a backprop model (no {_HEADER_KEY} entry; "
            f"it holds {', '.join(sorted(names)[:5]) or 'nothing'})"
        )
    header = archive.read_json(_HEADER_KEY, "architecture")
    check_header(header, path, FORMAT_VERSION, FORMAT_NAME)
    layers = [build_layer(config, i, path) for i, config in enumerate(header["network"]["layers"])]
    expected: dict[str, tuple[int, ...]] = {}
    for index, layer in enumerate(layers):
        for name, shape in layer.parameter_shapes().items():
            expected[f"layers.{index}.{name}"] = shape
        for name, array in layer.state_arrays().items():
            expected[f"layers.{index}.{name}"] = array.shape
    optimizer_names = sorted(n for n in names if has_training and n.startswith(_OPTIMIZER_PREFIX))
    for name in expected:
        if name not in names:
            raise ModelFileError(f"{path} is missing the array {name}")
        archive.check_real(name)
        declared = archive.claims[name].shape
        if declared != expected[name]:
            raise ModelFileError(f"{path}: array {name} has shape {declared}, the architecture "
                                 f"needs {expected[name]}")
    unused = sorted(names - set(expected) - set(optimizer_names) - {_HEADER_KEY, _TRAINING_KEY})
    if unused:
        raise ModelFileError(f"{path} holds arrays the architecture does not use: {unused}")
    checkpoint = None
    if has_training and training != "ignore":
        for name in optimizer_names:
            archive.check_real(name, "optimizer array")
        state = archive.read_json(_TRAINING_KEY, "training state")
        optimizer_arrays = {name[len(_OPTIMIZER_PREFIX):]: archive.read(name)
                            for name in optimizer_names}
        try:
            checkpoint = TrainingCheckpoint.from_json(state, optimizer_arrays)
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise ModelFileError(f"{path} has unreadable training state ({error})") from None
    arrays = {name: archive.read(name) for name in expected}
    return ModelFile(path, header, arrays, checkpoint)


def restore_arrays(net: Network, file: ModelFile) -> None:
    """Copy the file's parameters and state arrays into ``net``, all checked before any is written.

    Every array the architecture needs must be there with its shape, finite in
    the network's dtype, and nothing else; on any fault ``net`` is left as it was.
    """
    arrays, path = dict(file.arrays), file.path
    try:
        parameters = [
            (view, _finite_as(_take(arrays, name, view.shape, path), view.dtype, name, path))
            for name, view in net.named_parameters()
        ]
        states = []
        for index, layer in enumerate(net.layers):
            stored_state = {
                name: _finite_as(_take(arrays, f"layers.{index}.{name}", array.shape, path),
                                 net.dtype, f"layers.{index}.{name}", path)
                for name, array in layer.state_arrays().items()
            }
            states.append((index, layer, stored_state))
    except MemoryError as error:
        raise ModelFileError(out_of_memory(f"{path}: its arrays", error)) from None
    if arrays:
        raise ModelFileError(f"{path} holds arrays the architecture does not use: {sorted(arrays)}")
    for view, stored in parameters:
        view[...] = stored
    for index, layer, stored_state in states:
        try:
            layer.load_state_arrays(stored_state)
        except ValueError as error:
            raise ModelFileError(f"{path}: layer {index}: {error}") from None


def _finite_as(stored: np.ndarray, dtype: np.dtype[Any], name: str, path: Path) -> np.ndarray:
    """``stored`` in ``dtype``, refused when it holds NaN, inf, or a value the cast would
    turn into inf (1e300 in float32)."""
    if not np.all(np.isfinite(stored)):
        raise ModelFileError(f"{path}: array {name} contains NaN or inf")
    with np.errstate(over="ignore"):
        cast = stored.astype(dtype)
    if not np.all(np.isfinite(cast)):
        raise ModelFileError(
            f"{path}: array {name} holds values beyond the range of {dtype} "
            f"(largest |value| {float(np.max(np.abs(stored))):.3g})"
        )
    return cast


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
