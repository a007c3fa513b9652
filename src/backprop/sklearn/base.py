"""What MLPClassifier and MLPRegressor share: parameters, the network, fitting, pickling.

The network (``network_``, a :class:`backprop.Network`) is the one
:func:`backprop.build_network` makes of the parameters (a
:class:`~backprop.NetworkSpec`): input side first, for each width h of
``hidden_layer_sizes``, ``Dense(·, h, activation)`` (with ``batch_norm``:
``Dense(·, h)`` without bias, ``BatchNorm(h)``, then the activation), then
``Dropout(h, dropout)`` when ``dropout > 0``; and an output Dense layer whose
activation and loss the estimator chooses (softmax + cross-entropy, sigmoid +
binary cross-entropy, linear + squared error, or exp + the Poisson deviance). Its
dtype is ``dtype``, or X's when ``dtype`` is None (float32 stays float32, anything
else becomes float64), as scikit-learn's MLP keeps X's float type.

Fitting follows scikit-learn's MLP: the objective adds (α / 2m) Σ ‖W‖² to the
mean loss (:mod:`backprop.sklearn.objective`); a stochastic solver runs epochs
of mini-batches and stops once the training loss (or, with
``early_stopping``, the validation score, or with
``early_stopping_metric="loss"`` the validation loss) has not improved by
``tol`` for more than ``n_iter_no_change`` epochs in a row, or a callback
stops it (:mod:`backprop.sklearn.monitoring`: the validation loss curve, the
best epoch's parameters, the callbacks, the warning for an exploding loss);
``learning_rate`` schedules
sgd's step size ("invscaling": η_t = η₀ / (t + 1)^power_t after each epoch,
t the samples seen; "adaptive": η ÷ 5 each time progress stalls, until
η ≤ 1e-6); lbfgs is :mod:`backprop.sklearn.lbfgs`. ``sample_weight`` (and
MLPClassifier's ``class_weight``) weigh the samples in that objective
(:mod:`backprop.sklearn.weights`).
"""

from __future__ import annotations

import copy
import time
import warnings
import weakref
from collections.abc import Sequence
from itertools import pairwise
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from backprop._typing import Array
from backprop.errors import DivergenceError
from backprop.network import Network
from backprop.nn.activations import Activation
from backprop.nn.batchnorm import BatchNorm
from backprop.nn.initializers import SKLEARN_FACTORS, sklearn_draw
from backprop.nn.layers import Dense
from backprop.optim.rules import Optimizer
from backprop.sklearn.lbfgs import minimize_lbfgs
from backprop.sklearn.monitoring import CallbackRun, HeldOut, restore, snapshot
from backprop.sklearn.objective import StreamedData, run_epoch
from backprop.sklearn.onnx_graph import write_estimator_onnx
from backprop.sklearn.params import (
    OUT_ACTIVATION_NAMES,
    check_parameters,
    hidden_sizes,
    library_activation,
    make_optimizer,
    network_init,
)
from backprop.sklearn.pickling import pickled_state, unpickled_state
from backprop.sklearn.progress import IterationLines, ProgressBar, verbose_progress
from backprop.sklearn.weights import checked_sample_weight, refuse_on_stream
from backprop.spec import NetworkSpec, build_network
from backprop.streaming import is_streamed, open_source, scan
from backprop.training.callbacks import Callback
from backprop.validation import cast_finite, is_sparse

#: X's accepted float types: float32 stays float32, anything else becomes float64.
FLOAT_TYPES = (np.float64, np.float32)
#: The scipy.sparse formats X is taken in as they are (any other is converted to CSR, the
#: first); the network turns CSC into CSR once, then gathers a batch's rows from it.
SPARSE_FORMATS = ["csr", "csc"]


class BaseMLP(BaseEstimator):  # type: ignore[misc]
    """The shared part of :class:`MLPClassifier` and :class:`MLPRegressor` (see their docs)."""

    #: Whether fit asks validate_data for numeric y (regression).
    numeric_targets = False
    #: The callbacks' epoch-log key of the validation score (the library's metric name).
    score_key = "val_score"
    network_: Network
    optimizer_: Optimizer | None
    loss_: float
    loss_curve_: list[float]
    best_loss_: float | None
    validation_scores_: list[float] | None
    best_validation_score_: float | None
    validation_loss_curve_: list[float] | None
    best_validation_loss_: float | None
    callbacks_: list[Callback]

    def __init__(
        self,
        hidden_layer_sizes: Any = (100,),
        activation: str | Activation = "relu",
        *,
        solver: str = "adam",
        alpha: float = 0.0001,
        batch_size: int | str = "auto",
        learning_rate: str = "constant",
        learning_rate_init: float = 0.001,
        power_t: float = 0.5,
        max_iter: int = 200,
        shuffle: bool = True,
        random_state: Any = None,
        tol: float = 1e-4,
        verbose: bool = False,
        warm_start: bool = False,
        momentum: float = 0.9,
        nesterovs_momentum: bool = True,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
        n_iter_no_change: int = 10,
        max_fun: int = 15000,
        init: str = "sklearn_uniform",
        dropout: float = 0.0,
        batch_norm: bool = False,
        dtype: str | None = None,
        clip_norm: float | None = None,
        compiled_step: bool = False,
        compiled: bool = False,
        early_stopping_metric: str = "score",
        restore_best_weights: bool = False,
        callbacks: Sequence[Callback] | None = None,
    ) -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun
        self.init = init
        self.dropout = dropout
        self.batch_norm = batch_norm
        self.dtype = dtype
        self.clip_norm = clip_norm
        self.compiled_step = compiled_step
        self.compiled = compiled
        self.early_stopping_metric = early_stopping_metric
        self.restore_best_weights = restore_best_weights
        self.callbacks = callbacks

    # -- what the subclasses decide ---------------------------------------
    def _encode_targets(self, y: Any, first_pass: bool, classes: Any,
                        incremental: bool = True) -> np.ndarray:
        """The targets as rows (m, n_outputs) the network trains on."""
        raise NotImplementedError

    def _output_layer(self, n_outputs: int) -> tuple[str, str]:
        """(output activation, loss) of the network."""
        raise NotImplementedError

    def _stratify(self, Y: Array, y: Any) -> Any:
        """What train_test_split stratifies the early-stopping split by (or None)."""
        return None

    def _sample_weight(self, sample_weight: Any, X: Array, y: Any,
                       incremental: bool) -> Array | None:
        """Each training sample's weight (:mod:`backprop.sklearn.weights`), or None."""
        return checked_sample_weight(sample_weight, X)

    # -- the network ------------------------------------------------------
    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "network_")

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True  # scipy.sparse X, never densified
        return tags

    def _network_spec(self, n_inputs: int, n_outputs: int, x_dtype: Any,
                      seed: int) -> NetworkSpec:
        """The estimator's parameters in the library's words: the network of ``fit``."""
        out_activation, loss = self._output_layer(n_outputs)
        return NetworkSpec(
            n_inputs=n_inputs, n_outputs=n_outputs,
            hidden=tuple(hidden_sizes(self.hidden_layer_sizes)),
            activation=library_activation(self.activation), output_activation=out_activation,
            loss=loss, batch_norm=bool(self.batch_norm), dropout=float(self.dropout),
            init=network_init(self.init, self.activation), seed=seed,
            dtype=x_dtype if self.dtype is None else self.dtype)

    def _sklearn_draws(self, rng: np.random.RandomState, n_inputs: int,
                       n_outputs: int) -> list[tuple[Array, Array]]:
        """Under scikit-learn's init, each Dense layer's (W, b) as scikit-learn draws them
        from the same ``random_state`` (so the initial numbers are its own); else none."""
        scheme = network_init(self.init, self.activation)
        if scheme not in SKLEARN_FACTORS:
            return []
        widths = [n_inputs, *hidden_sizes(self.hidden_layer_sizes), n_outputs]
        return [sklearn_draw(rng, scheme, (n_out, n_in))
                for n_in, n_out in pairwise(widths)]

    def _new_network(self, n_inputs: int, n_outputs: int, x_dtype: Any, seed: int) -> Network:
        return build_network(self._network_spec(n_inputs, n_outputs, x_dtype, seed))

    def output_activations(self, X: Any) -> Array:
        """The network's output activations a^[L] for X, (m, n_outputs), in inference mode,
        in X's float type (float32 stays float32, anything else gives float64)."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=FLOAT_TYPES,  # finite, n_features_in_ wide
                          accept_sparse=SPARSE_FORMATS)
        fitted, net = self.network_, self._predicting_network()
        # not checked twice (sparse X: the network's CSR rows of its stored values); X is
        # rounded to the fitted network's dtype first
        rounded = fitted.check_inputs(X) if is_sparse(X) else cast_finite(X, fitted.dtype, "X")
        checked = rounded if net is fitted else rounded.astype(net.dtype)
        outputs = net.forward_checked(checked).astype(fitted.dtype, copy=False)
        return outputs.astype(X.dtype, copy=False)

    def _predicting_network(self) -> Network:
        """The network that predicts: ``network_``, or for a float32 one its float64 copy.

        float32 BLAS sums a row's products in an order that depends on the rows beside it
        (its kernels differ by the number of rows), so the same row predicted alone or in a
        batch differs in its last bits. Summed in float64 and rounded to float32 at the end,
        a row's outputs are the same however it is batched (scikit-learn's subset
        invariance), and closer to the exact values. The copy is kept beside the network
        (predict leaves the estimator's attributes as they were) and made again when
        ``network_``'s parameters or state (BatchNorm's running statistics) change.
        """
        net = self.network_
        if net.dtype != np.float32:
            return net
        copy64 = _FLOAT64_COPIES.get(net)
        if copy64 is None or not _same_values(copy64, net):
            copy64 = _FLOAT64_COPIES[net] = net.copy(np.float64)
        return copy64

    def to_onnx(self, path: str) -> None:
        """Write the estimator as an ONNX graph: ``label`` and ``probabilities`` (a classifier)
        or ``variable``, laid out as skl2onnx lays out scikit-learn's MLP (see
        :mod:`backprop.sklearn.onnx_graph`); onnx is needed, skl2onnx is not."""
        check_is_fitted(self)
        write_estimator_onnx(self, path)

    def to_torch(self) -> Any:
        """``network_`` as a ``torch.nn.Sequential``, weights copied, in training mode
        (see :meth:`backprop.Network.to_torch`; ``.eval()`` it for inference). Its output
        is the output activations a^[L]: for a binary classifier the positive class's
        probability, the second column of :meth:`predict_proba`."""
        check_is_fitted(self)
        return self.network_.to_torch()

    @property
    def _dense_layers(self) -> list[Dense]:
        check_is_fitted(self)
        return [layer for layer in self.network_.layers if isinstance(layer, Dense)]

    @property
    def coefs_(self) -> list[Array]:
        """Each Dense layer's weights in scikit-learn's (n_in, n_out) layout: W^[l] transposed.

        Copies: the library's W^[l] is (n_out, n_in), ``network_.layers[i].W``.
        """
        return [layer.W.T.copy() for layer in self._dense_layers]

    @property
    def intercepts_(self) -> list[Array]:
        """Each Dense layer's bias b^[l], (n_out,) (copies)."""
        return [
            np.zeros(layer.n_out, layer.W.dtype) if layer.b is None else layer.b.copy()
            for layer in self._dense_layers
        ]

    # -- fitting ----------------------------------------------------------
    def train(self, X: Any, y: Any, *, incremental: bool, classes: Any = None,
              sample_weight: Any = None) -> BaseMLP:
        """What fit (``incremental=False``) and partial_fit (True, one epoch) do."""
        name = type(self).__name__
        check_parameters(name, self.get_params())
        if self.dropout and self.solver == "lbfgs":
            raise ValueError(
                f"{name}: dropout needs a stochastic solver (sgd, adam, rmsprop, adamw); "
                "lbfgs needs the same objective at every evaluation"
            )
        if incremental and self.early_stopping:
            raise ValueError(f"{name}: partial_fit does not support early_stopping=True")
        self._check_monitoring(name)
        first_pass = not hasattr(self, "network_") or not (self.warm_start or incremental)
        if self.solver != "lbfgs" and is_streamed(X):  # larger than memory: read in batches
            refuse_on_stream(name, sample_weight, getattr(self, "class_weight", None))
            stream = open_source(X, y)
            y, n_features, x_dtype = scan(stream)
            X = StreamedData(stream, len(y), n_features, x_dtype, name, first_pass,
                             self.early_stopping and not incremental, self)
            y_rows = np.unique(y, axis=0)  # every class, or every target width, once
        else:
            X, y = validate_data(
                self, X, y, reset=first_pass, multi_output=True, dtype=FLOAT_TYPES,
                y_numeric=self.numeric_targets, accept_sparse=SPARSE_FORMATS,
            )
            y_rows = y
        Y = self._encode_targets(y_rows, first_pass, classes, incremental)
        weights = None if isinstance(X, StreamedData) else self._sample_weight(
            sample_weight, X, y, incremental)
        rng = check_random_state(self.random_state)
        if first_pass:
            draws = self._sklearn_draws(rng, X.shape[1], Y.shape[1])
            seed = int(rng.randint(np.iinfo(np.int32).max))
            self.network_ = self._new_network(X.shape[1], Y.shape[1], X.dtype, seed)
            for layer, (W, b) in zip(self._dense_layers, draws, strict=False):
                layer.W = W  # scikit-learn's initial numbers (no draws: the library's)
                if layer.b is not None:
                    layer.b = b
            self.n_outputs_ = Y.shape[1]
            self.n_layers_ = len(hidden_sizes(self.hidden_layer_sizes)) + 2
            self.out_activation_ = OUT_ACTIVATION_NAMES[self.network_.output_layer.activation.name]
            self.t_ = 0
            self.loss_curve_ = []
            self.optimizer_ = None
        else:
            widths = [layer.n_out for layer in self._dense_layers[:-1]]
            if widths != hidden_sizes(self.hidden_layer_sizes):
                raise ValueError(
                    f"{name}: hidden_layer_sizes is {self.hidden_layer_sizes!r} but the fitted "
                    f"network that warm_start or partial_fit continues has {tuple(widths)}; "
                    "fit with warm_start=False to start afresh"
                )
            asked = self._output_layer(Y.shape[1])
            output = self.network_.output_layer
            built = (output.activation.name, self.network_.loss.name)
            if asked != built:  # e.g. loss="poisson" set on a model fitted for squared_error
                raise ValueError(
                    f"{name}: the parameters ask for output activation {asked[0]} with loss "
                    f"{asked[1]} but the fitted network that warm_start or partial_fit "
                    f"continues has {built[0]} with {built[1]}; fit with warm_start=False to "
                    "start afresh"
                )
        net = self.network_
        net.compiled = bool(self.compiled)  # how it runs may change between fits
        self.n_iter_ = 0  # as scikit-learn counts: the epochs of this call
        if isinstance(X, StreamedData):  # batches encoded as they are read
            X.use_targets(lambda rows: self._encode_targets(rows, False, None))
            self._fit_stochastic(X, Y, y, rng, incremental)
        elif self.solver == "lbfgs":
            self._fit_lbfgs(net.check_inputs(X), np.ascontiguousarray(Y, dtype=net.dtype),
                            weights)
        else:
            self._fit_stochastic(net.check_inputs(X), np.ascontiguousarray(Y, dtype=net.dtype),
                                 y, rng, incremental, weights)
        if not np.isfinite(net.params).all():
            raise ValueError(
                "Solver produced non-finite parameter weights. The input data may contain "
                f"large values and need to be preprocessed. ({name}: the loss diverged; "
                "scale X, or lower learning_rate_init)"
            )
        return self

    def _check_monitoring(self, name: str) -> None:
        """What needs a validation split, or a stochastic solver, has one."""
        if self.restore_best_weights and not self.early_stopping:
            raise ValueError(
                f"{name}: restore_best_weights=True needs early_stopping=True: the lowest "
                "validation loss is measured on early stopping's validation split"
            )
        if self.callbacks and self.solver == "lbfgs":
            raise ValueError(
                f"{name}: callbacks need a stochastic solver (sgd, adam, rmsprop, adamw), "
                "whose epochs they follow; lbfgs has none"
            )

    def _fit_lbfgs(self, X: Array, Y: Array, sample_weight: Array | None = None) -> None:
        self.best_loss_, self.validation_scores_, self.best_validation_score_ = None, None, None
        self.validation_loss_curve_, self.best_validation_loss_ = None, None
        self.callbacks_ = []
        # BLAS on one thread for small products (every step takes all rows), within a limit
        with self.network_.training_threads(X.shape[0]):
            result, curve = minimize_lbfgs(
                self.network_, X, Y, alpha=float(self.alpha), max_iter=int(self.max_iter),
                max_fun=int(self.max_fun), tol=float(self.tol), verbose=bool(self.verbose),
                sample_weight=sample_weight,
            )
        self.n_iter_ = int(result.nit)
        self.t_ = self.n_iter_ * X.shape[0]
        self.loss_ = float(result.fun)
        self.loss_curve_ = curve
        self.best_loss_ = min(curve, default=self.loss_)
        if result.status != 0:
            message = result.message
            message = message.decode() if isinstance(message, bytes) else str(message)
            warnings.warn(
                f"lbfgs failed to converge after {self.n_iter_} iteration(s) "
                f"(status={result.status}): {message}. Increase max_iter (now "
                f"{self.max_iter}) or max_fun (now {self.max_fun}), or scale the data.",
                ConvergenceWarning,
                stacklevel=3,
            )

    def _fit_stochastic(
        self, X: Array | StreamedData, Y: Array, y: Any, rng: np.random.RandomState,
        incremental: bool, sample_weight: Array | None = None,
    ) -> None:
        net = self.network_
        if self.optimizer_ is None or not incremental:
            self.optimizer_ = make_optimizer(self.get_params())
        optimizer = self.optimizer_
        early_stopping = self.early_stopping and not incremental
        held_out = None
        if early_stopping:
            assert not isinstance(X, StreamedData)  # refused when it was made
            train, val = self._validation_split(X.shape[0], Y, y, rng)
            X_train = X[train] if is_sparse(X) else np.ascontiguousarray(X[train])  # CSR rows stay
            # the validation rows keep their weights
            w_val = None if sample_weight is None else sample_weight[val]
            held_out = HeldOut(X[val], Y[val], y[val], w_val)
            X, Y = X_train, np.ascontiguousarray(Y[train])
            if sample_weight is not None:
                sample_weight = sample_weight[train]
        if not incremental or not hasattr(self, "best_loss_"):
            self._no_improvement_count = 0
            self.best_loss_ = None if early_stopping else np.inf
            self.validation_scores_ = [] if early_stopping else None
            self.best_validation_score_ = -np.inf if early_stopping else None
            self.validation_loss_curve_ = [] if early_stopping else None
            self.best_validation_loss_ = np.inf if early_stopping else None
        m = X.shape[0]
        batch_size = min(200, m) if self.batch_size == "auto" else int(self.batch_size)
        if batch_size > m:
            warnings.warn(
                f"batch_size={batch_size} is larger than the {m} training samples; "
                f"it is clipped to {m}",
                UserWarning,
                stacklevel=3,
            )
            batch_size = m
        no_single_batch = any(isinstance(layer, BatchNorm) for layer in net.layers)
        if no_single_batch and m < 2:
            raise ValueError("batch_norm needs at least 2 training samples, got 1 sample")
        epochs = 1 if incremental else int(self.max_iter)
        progress = verbose_progress(self.score_key) if self.verbose else None
        # the parameter stays as given (scikit-learn's rule); the fit calls copies
        self.callbacks_ = copy.deepcopy(list(self.callbacks or []))
        run = CallbackRun(self, optimizer, epochs=epochs, batch_size=batch_size, n_samples=m,
                          callbacks=self.callbacks_, progress=progress)
        try:  # BLAS on one thread for small products, and within a memory limit
            with net.training_threads(batch_size):
                run.begin()
                self._run_epochs(run, X, Y, held_out, batch_size, no_single_batch, progress,
                                 incremental, sample_weight)
                if early_stopping:
                    self._restore_best()
                run.end()
        finally:
            if progress is not None:
                progress.close()

    def _run_epochs(self, run: CallbackRun, X: Array | StreamedData, Y: Array,
                    held_out: HeldOut | None, batch_size: int, no_single_batch: bool,
                    progress: IterationLines | ProgressBar | None, incremental: bool,
                    sample_weight: Array | None = None) -> None:
        """The epochs of one fit (one for partial_fit), until a stopping rule ends them."""
        net, optimizer = self.network_, run.state.optimizer
        for _ in range(run.state.epochs):
            run.begin_epoch(self.n_iter_ + 1)
            started = time.perf_counter()
            try:
                self.loss_ = run_epoch(
                    net, optimizer, X, Y, batch_size=batch_size, shuffle=bool(self.shuffle),
                    alpha=float(self.alpha), no_single_batch=no_single_batch,
                    clip_norm=None if self.clip_norm is None else float(self.clip_norm),
                    after_batch=run.after_batch, sample_weight=sample_weight,
                )
            except DivergenceError as diverged:
                self._diverged(diverged, held_out)
                break
            self.n_iter_ += 1
            self.t_ += run.samples_seen  # m, unless a callback stopped the epoch early
            self.loss_curve_.append(self.loss_)
            self._count_no_improvement(held_out)
            exploded = run.end_epoch(self._epoch_logs(optimizer.lr,
                                                      time.perf_counter() - started, held_out))
            if exploded is not None:  # finite, but without bound: said once, not silent
                warnings.warn(exploded, stacklevel=5)
            if run.stop_requested:
                if progress is not None:
                    progress.note(f"A callback stopped training at epoch {self.n_iter_}.")
                break
            if self.solver == "sgd" and self.learning_rate == "invscaling":
                # η_t = η₀ / (t + 1)^power_t, t = samples seen so far
                optimizer.lr = float(self.learning_rate_init) / (self.t_ + 1) ** self.power_t
            if self._no_improvement_count > self.n_iter_no_change:
                if self.solver == "sgd" and self.learning_rate == "adaptive" and (
                    optimizer.lr > 1e-6
                ):
                    optimizer.lr /= 5.0  # progress stalled: η ← η / 5
                    self._no_improvement_count = 0
                    continue
                if progress is not None:
                    progress.note(f"No improvement by tol={self.tol} in "
                                  f"{self.n_iter_no_change} epochs in a row. Stopping.")
                break
        else:
            if not incremental:
                warnings.warn(
                    f"Stochastic Optimizer: Maximum iterations ({self.max_iter}) reached and "
                    "the optimization hasn't converged yet.",
                    ConvergenceWarning,
                    stacklevel=4,
                )

    def _epoch_logs(self, lr: float, seconds: float,
                    held_out: HeldOut | None) -> dict[str, float]:
        """The epoch's logs for the callbacks, in the library's keys: "loss" (J, as
        ``loss_curve_``), "lr", "time", and with early stopping "val_loss" (J on the
        validation split) and the validation score as "val_accuracy" or "val_r2"."""
        logs = {"loss": self.loss_, "lr": lr, "time": seconds}
        if held_out is not None:
            assert self.validation_loss_curve_ is not None and self.validation_scores_ is not None
            logs["val_loss"] = self.validation_loss_curve_[-1]
            logs[self.score_key] = self.validation_scores_[-1]
        return logs

    def _validation_split(self, m: int, Y: Array, y: Any,
                          rng: np.random.RandomState) -> tuple[np.ndarray, np.ndarray]:
        """Indices of early stopping's training and validation samples."""
        stratify = self._stratify(Y, y)
        try:
            train, val = train_test_split(
                np.arange(m), test_size=self.validation_fraction,
                random_state=rng.randint(np.iinfo(np.int32).max), stratify=stratify,
            )
        except ValueError as error:
            if stratify is None:
                raise
            raise ValueError(
                f"{error} (early_stopping holds out a stratified validation_fraction="
                f"{self.validation_fraction} of the samples: {self._strata_named()})"
            ) from None
        if val.shape[0] < 2:
            raise ValueError(
                "The validation set is too small. Increase 'validation_fraction' or the "
                f"size of your dataset. (It holds {val.shape[0]} sample(s): "
                f"validation_fraction={self.validation_fraction} of {m}.)"
            )
        return train, val

    def _strata_named(self) -> str:
        """What the stratification's class names mean (for its error message)."""
        return "the classes of y"

    def _diverged(self, diverged: DivergenceError, held_out: HeldOut | None) -> None:
        """After a non-finite loss: the epoch counts, its loss, validation loss and score are
        NaN, and training stops (with early stopping, the best parameters so far are
        restored; without, fit raises scikit-learn's non-finite-weights ValueError)."""
        self.n_iter_ += 1
        self.loss_ = float("nan")
        self.loss_curve_.append(self.loss_)
        if held_out is not None:
            assert self.validation_scores_ is not None and self.validation_loss_curve_ is not None
            self.validation_scores_.append(float("nan"))
            self.validation_loss_curve_.append(float("nan"))
        if held_out is None or getattr(self, "_best", None) is None:
            self.network_.params[...] = np.nan  # fit raises on the weights below
        warnings.warn(f"{diverged}; training stopped at epoch {self.n_iter_}",
                      ConvergenceWarning, stacklevel=5)

    def _validation_score(self, X: Array, y: Any, sample_weight: Array | None = None) -> float:
        """The score of the network on early stopping's validation rows (checked already),
        weighted by their ``sample_weight`` when given: NaN when its outputs are not finite."""
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            outputs = self.network_.forward_checked(X)
        if not np.isfinite(outputs).all():
            return float("nan")
        return self._score_outputs(outputs, y, sample_weight)

    def _score_outputs(self, outputs: Array, y: Any, sample_weight: Array | None = None) -> float:
        """The estimator's score of the network's outputs against y (weighted by
        ``sample_weight`` when given)."""
        raise NotImplementedError

    def _count_no_improvement(self, held_out: HeldOut | None) -> None:
        """After an epoch: count epochs without progress by tol, keep the best so far.

        Without a validation split progress is the training loss falling by tol. With one,
        the epoch's validation score and loss are recorded; progress is the score rising
        by tol (``early_stopping_metric="score"``) or the loss falling by tol ("loss"), and
        the parameters kept for the end are those of the best score (scikit-learn's rule)
        or, with ``restore_best_weights``, of the lowest validation loss.
        """
        if held_out is None:
            assert self.best_loss_ is not None
            loss = self.loss_curve_[-1]
            improved = loss <= self.best_loss_ - self.tol
            self.best_loss_ = min(self.best_loss_, loss)
        else:
            assert self.validation_scores_ is not None and self.validation_loss_curve_ is not None
            best_score_so_far = self.best_validation_score_
            best_loss_so_far = self.best_validation_loss_
            assert best_score_so_far is not None and best_loss_so_far is not None
            score = self._validation_score(held_out.X, held_out.y, held_out.w)
            loss = held_out.objective(self.network_, float(self.alpha))
            self.validation_scores_.append(score)
            self.validation_loss_curve_.append(loss)
            if self.early_stopping_metric == "loss":
                improved = loss <= best_loss_so_far - self.tol
            else:
                improved = score >= best_score_so_far + self.tol
            best_score, best_loss = score > best_score_so_far, loss < best_loss_so_far
            if best_score:
                self.best_validation_score_ = score
            if best_loss:
                self.best_validation_loss_ = loss
            if best_loss if self.restore_best_weights else best_score:
                self._best = snapshot(self.network_)
        self._no_improvement_count = 0 if improved else self._no_improvement_count + 1

    def _restore_best(self) -> None:
        best = self.__dict__.pop("_best", None)
        if best is not None:
            restore(self.network_, best)

    # -- pickling: the network travels as model-file bytes ---------------
    def __getstate__(self) -> dict[str, Any]:
        return pickled_state(super().__getstate__())

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(unpickled_state(state))
        # the model file keeps the network and the rule, not how they run
        optimizer = getattr(self, "optimizer_", None)
        compiled = bool(getattr(self, "compiled", False))
        if optimizer is not None and (compiled or getattr(self, "compiled_step", False)):
            optimizer.compiled_step = True
        if compiled and hasattr(self, "network_"):
            self.network_.compiled = True


#: Each float32 network's float64 copy that predicts, for as long as the network lives.
_FLOAT64_COPIES: weakref.WeakKeyDictionary[Network, Network] = weakref.WeakKeyDictionary()


def _same_values(copy64: Network, net: Network) -> bool:
    """Whether a float64 copy still holds ``net``'s parameters and state, value for value."""
    return (np.array_equal(copy64.params, net.params)
            and all(np.array_equal(mine, theirs) for (_, mine), (_, theirs)
                    in zip(copy64.named_state(), net.named_state(), strict=True)))
