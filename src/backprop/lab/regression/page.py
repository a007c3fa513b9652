"""/regression: gradient descent on one linear unit a = w·x + b with ½ MSE, live.

The model is this library's engine: a ``Network`` of one linear ``Dense(1, 1)``
with loss "mse" (L = (1/n) Σ ½ (aᵢ − yᵢ)²) in float64, trained by
``Network.backprop`` and ``SGD(lr, momentum)``'s Δθ, on the full batch, mini-batches
or one sample at a time. With scaling on, the network sees x' = (x − μ)/σ; the
surface, path and stability are in those units and w, b are also shown in the
original ones. The exact picture (θ*, H, contours) is in :mod:`backprop.lab.regression.math`.
A run pauses as diverging once its loss rises past :data:`DIVERGENCE_FACTOR` × its
starting value, and the surface's view grows to keep the path in it.
"""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from pydantic import TypeAdapter

from backprop import NetworkSpec, Optimizer, OptimizerSpec, build_network, build_optimizer
from backprop.lab.protocol import (
    MAX_POINTS,
    FieldError,
    Message,
    Pause,
    Ping,
    Play,
    Reply,
    message_union,
)
from backprop.lab.regression import math as rm
from backprop.lab.regression import text
from backprop.lab.regression.protocol import (
    AddPoint,
    DownloadCsv,
    Generate,
    LoadCsv,
    MovePoint,
    RemovePoint,
    Reset,
    SetStart,
    Settings,
    Step,
)
from backprop.lab.regression.text import Divergence, Evaluation
from backprop.lab.session import Page

#: Most (step, w, b, L) entries kept for the path and the loss curve; beyond, every other goes.
MAX_TRACE = 1200
#: A run (play, or a batch of steps) pauses as diverging once a step raises the loss past
#: this many times its value at the run's start (the simulator's own threshold; fit's
#: LossExplosion waits for 1000).
DIVERGENCE_FACTOR = 10.0
#: The surface's view grows when the path comes closer than this fraction of its width to
#: an edge.
VIEW_EDGE = 0.04


class RegressionPage(Page):
    name = "regression"
    static = Path(__file__).resolve().parent / "static"
    title = "Gradient descent on a line"
    summary = ("fit y = w·x + b by gradient descent: the loss surface and the path on it, "
               "the closed-form solution, and when the learning rate makes it diverge")
    messages: ClassVar[TypeAdapter[Any]] = message_union(
        Ping, Generate, AddPoint, MovePoint, RemovePoint, LoadCsv, DownloadCsv, Settings,
        Play, Pause, Step, Reset, SetStart,
    )

    def __init__(self) -> None:
        super().__init__()
        self.lr, self.momentum, self.speed = 0.1, 0.0, 60.0
        self.batch_mode, self.batch_size, self.scale = "full", 8, False
        self.start = (0.0, 0.0)  # (w, b) where a run begins, in the units trained
        self.net = build_network(NetworkSpec(n_inputs=1, n_outputs=1, output_activation="linear",
                                             loss="mse", dtype="float64", seed=0))
        self.rng = np.random.default_rng(0)  # mini-batch order
        self.generator = Generate(type="generate")
        self.points = self._generated(self.generator)
        self.data_view = self._view_of(self.points)
        self.surface_version = 0
        self._refresh_data()
        self.reset()

    # -- data ---------------------------------------------------------------------------
    @staticmethod
    def _generated(g: Generate) -> np.ndarray:
        return rm.generate(g.w_true, g.b_true, g.noise, g.n, g.x_min, g.x_max, g.seed)

    @staticmethod
    def _view_of(points: np.ndarray) -> list[float]:
        """[x0, x1, y0, y1] of the data plot: the points with a 10% margin."""
        if len(points) == 0:
            return [-1.0, 1.0, -1.0, 1.0]
        low, high = points.min(axis=0), points.max(axis=0)
        pad = np.maximum((high - low) * 0.1, 0.5)
        return [low[0] - pad[0], high[0] + pad[0], low[1] - pad[1], high[1] + pad[1]]

    def _refresh_data(self) -> None:
        """Everything that follows from the data and the scaling toggle."""
        x, y = self.points[:, 0], self.points[:, 1]
        self.scaling = rm.Scaling.of(x, self.scale)
        self.x = self.scaling.inputs(x)  # what the network sees
        self.y = y
        if len(y):
            self.X = self.net.check_inputs(self.x[:, None])
            self.Y = self.net.prepare_targets(y, len(y))[0]
        else:  # nothing to train on: step() refuses before it reads these
            self.X, self.Y = np.empty((0, 1)), np.empty((0, 1))
        self.order = np.arange(0)
        self.cursor = 0
        self.surface_version += 1
        self.stability: rm.Stability | None = None
        self.closed: tuple[float, float] | None = None
        self.closed_loss: float | None = None
        if len(y) == 0:
            return
        self.stability = rm.stability(self.x, self.momentum)
        self.closed = rm.least_squares(self.x, self.y)
        self.closed_loss = rm.loss_at(self.x, self.y, *self.closed)

    def _replace_data(self, points: np.ndarray, view: bool) -> None:
        """New data; the current line stays (in original units), the path starts again."""
        w, b = self.scaling.to_original(*self.params)
        self.points = points
        if view:
            self.data_view = self._view_of(points)
        self._refresh_data()
        self._set_params(*self.scaling.to_scaled(w, b))
        self._restart_trace()

    # -- parameters and the run -----------------------------------------------------------
    @property
    def params(self) -> tuple[float, float]:
        """(w, b) of the network, in the units trained."""
        layer = self.net.output_layer
        assert layer.b is not None
        return float(layer.W[0, 0]), float(layer.b[0])

    def _set_params(self, w: float, b: float) -> None:
        layer = self.net.output_layer
        assert layer.b is not None
        layer.W[0, 0], layer.b[0] = w, b

    def _new_optimizer(self) -> Optimizer:
        """Gradient descent at η, with momentum μ (fresh state)."""
        return build_optimizer(OptimizerSpec("sgd", lr=self.lr, momentum=self.momentum))

    def reset(self) -> None:
        """Back to the start point: fresh optimizer, step 0, empty path."""
        self.playing = False
        self.optimizer = self._new_optimizer()
        self.steps = 0
        self.carry = 0.0
        self._set_params(*self.start)
        self._restart_trace()

    def _restart_trace(self) -> None:
        self.diverged: Divergence | None = None
        self.current = self._evaluate() if len(self.points) else None
        self.stride = 1
        self.trace: list[list[float]] = []
        self.sent = 0
        self.rebuilt = True
        self._record()
        self._surface_cache: dict[str, Any] | None = None
        self._start_run()

    def _start_run(self) -> None:
        """A run starts (the path, play, a batch of steps): its loss is the reference of the
        divergence threshold."""
        self.start_loss = None if self.current is None else self.current.loss

    def _evaluate(self) -> Evaluation | None:
        """L and ∇L on all the data at the current θ, by the engine; None if not finite."""
        with np.errstate(all="ignore"):
            loss = self.net.backprop(self.X, self.Y)
            layer = self.net.output_layer
            assert layer.a is not None and layer.db is not None
            delta = layer.a[:, 0] - self.y  # δᵢ = aᵢ − yᵢ
            grad_w, grad_b = float(layer.dW[0, 0]), float(layer.db[0])
        if not all(math.isfinite(v) for v in (loss, grad_w, grad_b)):
            return None
        return Evaluation(loss, grad_w, grad_b, delta.copy())

    def next_batch(self) -> tuple[np.ndarray, np.ndarray]:
        """The next batch: all samples, or the next slice of a reshuffled order."""
        n = len(self.points)
        if self.batch_mode == "full":
            return self.X, self.Y
        size = 1 if self.batch_mode == "online" else min(self.batch_size, n)
        if self.cursor + size > len(self.order):
            self.order, self.cursor = self.rng.permutation(n), 0  # a new epoch
        rows = self.order[self.cursor:self.cursor + size]
        self.cursor += size
        return self.X[rows], self.Y[rows]

    def step(self) -> bool:
        """One optimizer step θ ← θ − Δθ; False, pausing, when it diverged: at a non-finite
        value (θ kept), or when it raised the loss past DIVERGENCE_FACTOR × its start."""
        if not len(self.points):
            raise FieldError("type", "There is no data: click the plot to add points, or "
                             "generate a set.")
        previous = self.net.params.copy()
        before = None if self.current is None else self.current.loss
        X, Y = self.next_batch()
        with np.errstate(all="ignore"):
            loss = self.net.backprop(X, Y)  # fills net.grads with ∂L/∂w, ∂L/∂b of the batch
            update = self.optimizer.update(self.net.params, self.net.grads)  # Δθ = η g (SGD)
            finite = math.isfinite(loss) and bool(np.isfinite(update).all())
            if finite:
                self.net.params -= update  # θ ← θ − Δθ
        evaluation = self._evaluate() if finite else None
        if evaluation is None:
            self.net.params[...] = previous  # the last finite θ stays on show
            self.current = self._evaluate()
            self.playing = False
            self.diverged = Divergence("nonfinite", self.steps + 1, DIVERGENCE_FACTOR)
            return False
        self.current = evaluation
        self.diverged = None
        self.steps += 1
        self._record()
        start = self.start_loss
        if start is not None and evaluation.loss > DIVERGENCE_FACTOR * start \
                and (before is None or evaluation.loss > before):
            self.playing = False
            self.diverged = Divergence("threshold", self.steps, DIVERGENCE_FACTOR, start,
                                       evaluation.loss)
            return False
        return True

    def _record(self) -> None:
        if self.current is None or self.steps % self.stride:
            return
        self.trace.append([self.steps, *self.params, self.current.loss])
        if len(self.trace) > MAX_TRACE:
            self.trace = self.trace[::2]
            self.stride *= 2
            self.rebuilt = True

    # -- messages -----------------------------------------------------------------------
    def handle(self, message: Message) -> list[Reply]:
        if isinstance(message, Generate):
            points = self._generated(message)  # refuses a bad x range before anything changes
            self.generator = message
            self._replace_data(points, view=True)
        elif isinstance(message, AddPoint):
            if len(self.points) >= MAX_POINTS:
                raise FieldError("x", f"The plot holds at most {MAX_POINTS} points.")
            self._replace_data(np.vstack([self.points, [[message.x, message.y]]]), view=False)
        elif isinstance(message, MovePoint):
            points = self.points.copy()
            points[self._index(message.index)] = message.x, message.y
            self._replace_data(points, view=False)
        elif isinstance(message, RemovePoint):
            self._replace_data(np.delete(self.points, self._index(message.index), axis=0),
                               view=False)
            self.playing = self.playing and len(self.points) > 0
        elif isinstance(message, LoadCsv):
            self._replace_data(rm.parse_csv(message.text), view=True)
        elif isinstance(message, DownloadCsv):
            return [{"type": "csv", "filename": "regression.csv",
                     "text": rm.to_csv(self.points)}]
        elif isinstance(message, Settings):
            self._apply(message)
        elif isinstance(message, Play):
            self._start_run()
            self.playing = self.step()  # the first step now; fails with its message without data
        elif isinstance(message, Pause):
            self.playing = False
        elif isinstance(message, Step):
            self.playing = False
            self._start_run()
            for _ in range(message.count):
                if not self.step():
                    break
        elif isinstance(message, Reset):
            self.reset()
        elif isinstance(message, SetStart):
            self.start = (message.w, message.b)
            self.reset()
        return [self.state()]

    def _index(self, index: int) -> int:
        if index >= len(self.points):
            raise FieldError("index", f"There is no point {index}; there are {len(self.points)}.")
        return index

    def _apply(self, settings: Settings) -> None:
        if settings.lr is not None:
            self.lr = self.optimizer.lr = settings.lr
        if settings.momentum is not None and settings.momentum != self.momentum:
            self.momentum = settings.momentum
            self.optimizer = self._new_optimizer()
            if self.stability is not None:
                self.stability = replace(self.stability, momentum=self.momentum)
        if settings.batch_mode is not None:
            self.batch_mode = settings.batch_mode
        if settings.batch_size is not None:
            self.batch_size = settings.batch_size
        if settings.speed is not None:
            self.speed = settings.speed
        if settings.scale is not None and settings.scale != self.scale:
            self.scale = settings.scale
            self._refresh_data()
            self.reset()  # new units: a new surface, so a new run from the start point

    # -- play ---------------------------------------------------------------------------
    def tick(self) -> Reply | None:
        """speed × interval steps (the fraction carried over), then the state that moved."""
        self.playing = self.playing and len(self.points) > 0  # the last point was removed
        self.carry += self.speed * self.tick_interval
        while self.carry >= 1 and self.playing:
            self.carry -= 1
            self.step()
        return self.progress()

    # -- state --------------------------------------------------------------------------
    def progress(self) -> Reply:
        """What changes while playing: parameters, readouts, status, the new path entries."""
        reply: Reply = {
            "type": "state", "playing": self.playing, "step": self.steps,
            **text.readouts(params=self.params, scaling=self.scaling, current=self.current,
                            closed=self.closed, closed_loss=self.closed_loss,
                            stability=self.stability, x=self.x, y=self.y,
                            lr=self.lr, batch_mode=self.batch_mode, diverged=self.diverged),
        }
        fresh = self.trace if self.rebuilt else self.trace[self.sent:]
        if self._surface_cache is not None and not all(
                self._in_view(w, b) for _, w, b, _ in [*fresh, [0, *self.params, 0]]):
            self._surface_cache = None  # the path left the view: zoom out to hold it
            self.surface_version += 1
            reply["surface"] = self.surface()
        if self.rebuilt:
            reply["trace"] = self.trace
            self.rebuilt = False
        else:
            reply["trace_append"] = self.trace[self.sent:]
        self.sent = len(self.trace)
        return reply

    def state(self) -> Reply:
        self.rebuilt = True  # a full state carries the whole trace
        return {
            **self.progress(),
            "points": self.points.tolist(),
            "data_view": self.data_view,
            "generator": self.generator.model_dump(exclude={"type"}),
            "settings": {"lr": self.lr, "momentum": self.momentum, "speed": self.speed,
                         "batch_mode": self.batch_mode, "batch_size": self.batch_size,
                         "scale": self.scale},
            "start": list(self.start),
            "surface": self.surface(),
            "divergence": {"factor": DIVERGENCE_FACTOR,
                           "rule": text.divergence_rule(DIVERGENCE_FACTOR)},
        }

    def surface(self) -> dict[str, Any] | None:
        """The contour plot in the units trained: view, levels, ellipses, θ* (cached).

        The view is a square holding θ*, the start point and the whole path so far.
        """
        if self.closed is None:
            return None
        if self._surface_cache is None:
            path = [(entry[1], entry[2]) for entry in self.trace]
            view = rm.square_view([self.closed, self.start, *path, self.params])
            levels, lines = rm.contours(self.x, self.y, view)
            self._surface_cache = {"version": self.surface_version, "view": view,
                                   "levels": levels, "contours": lines,
                                   "minimum": list(self.closed)}
        return self._surface_cache

    def _in_view(self, w: float, b: float) -> bool:
        """Whether (w, b) lies inside the surface's view, away from its edges."""
        assert self._surface_cache is not None
        lo_w, hi_w, lo_b, hi_b = (float(v) for v in self._surface_cache["view"])
        edge = VIEW_EDGE * (hi_w - lo_w)
        return lo_w + edge <= w <= hi_w - edge and lo_b + edge <= b <= hi_b - edge
