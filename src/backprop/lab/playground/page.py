"""/playground: a network learning 2-D data, drawn live, forward and backward.

The page holds a :class:`~backprop.lab.playground.protocol.Setup` (everything a link
carries), the data it generates, and a :class:`~backprop.lab.playground.run.Run`.
Play takes ``speed`` steps per update; every update carries the readouts, the heat
maps and the network picture (:mod:`backprop.lab.playground.view`). Everything is computed by the
library: the data generators, the initializers, ``Network.backprop``, the optimizers.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from pydantic import TypeAdapter, ValidationError

from backprop.lab.playground import compare, files, insight, surface, view
from backprop.lab.playground.compare import Comparison
from backprop.lab.playground.data import (
    Data,
    add_point,
    from_csv,
    generate,
    remove_point,
    to_csv,
    view_box,
)
from backprop.lab.playground.export import python_script
from backprop.lab.playground.model import build_optimizer, dense_layers, output_head
from backprop.lab.playground.protocol import (
    AddPoint,
    BatchModes,
    Compare,
    Configure,
    DownloadCsv,
    DownloadModel,
    Explain,
    ExportPython,
    GradientCheck,
    LoadCsv,
    LoadModel,
    RemovePoint,
    Reset,
    Rewind,
    Setup,
    SetupFields,
    SetWeight,
    Step,
    StopCompare,
    Surface,
    options,
)
from backprop.lab.playground.replay import Replay
from backprop.lab.playground.run import Run
from backprop.lab.protocol import FieldError, Message, Pause, Ping, Play, Reply, message_union
from backprop.lab.session import Page

#: Most rows of the loss history kept, and weight vectors of the path; beyond, every other goes.
MAX_HISTORY = 400
MAX_PATH = 200
#: While playing, each unit's map is sent with every this many updates (the client keeps
#: the last ones): they change slowly, and cost the most to compute and send.
NEURON_MAPS_EVERY = 2
#: Setup fields that make new data, and those that make a new network.
DATA_FIELDS = frozenset({"dataset", "noise", "test_ratio", "size", "seed"})
NETWORK_FIELDS = frozenset({"features", "layers", "activation", "loss", "init", "dropout"})
#: Setup fields a running optimizer takes over as they change.
OPTIMIZER_FIELDS = frozenset({"optimizer", "l2"})


class PlaygroundPage(Page):
    name = "playground"
    static = Path(__file__).resolve().parent / "static"
    title = "Network playground"
    summary = ("train a small network on 2-D data and watch it learn: the decision boundary, "
               "every neuron, the weights, and the backward pass with δ and ∂L/∂w")
    tick_interval: ClassVar[float] = 1 / 15
    messages: ClassVar[TypeAdapter[Any]] = message_union(
        Ping, Configure, Play, Pause, Step, Reset, AddPoint, RemovePoint, LoadCsv, DownloadCsv,
        DownloadModel, LoadModel, SetWeight, ExportPython, Explain, GradientCheck, Rewind,
        Surface, Compare, StopCompare, BatchModes,
    )

    def __init__(self) -> None:
        super().__init__()
        self.setup = Setup()
        self.data = generate(self.setup)
        self.box = view_box(self.data)
        self.loaded = False  # the network came from a model file
        self.updates = 0  # progress messages sent
        self.comparison: Comparison | None = None  # run B of an A/B comparison
        self.new_run()

    # -- the run -------------------------------------------------------------------------
    def new_run(self, run: Run | None = None) -> None:
        """A fresh run (from the setup's seed, or the one given): step 0, empty history."""
        self.playing = False
        self.run = run if run is not None else Run(self.setup, self.data)
        self.replay = Replay(self.run)
        if self.comparison is not None:  # B starts again beside the new A, if it still can
            try:
                self.comparison = Comparison(self.setup, self.data, self.comparison.changes)
            except FieldError:
                self.comparison = None
        self.changed_mid_run = False
        self.stopped: str | None = None
        self.history: list[list[float | None]] = []
        self.path: list[tuple[int, np.ndarray]] = []  # (step, θ) at each history row
        self.sent = 0
        self.rebuilt = True
        self.record()

    def set_data(self, data: Data) -> None:
        output_head(self.setup, data.n_classes)  # refuses a loss the new task cannot use
        self.data = data
        self.box = view_box(data)
        self.loaded = False
        self.new_run()

    def record(self) -> None:
        """The readouts now, and one history row: step, epoch, train and test loss, test
        accuracy, and the gradient norm of each layer in the last step."""
        self.readouts = self.run.evaluate()
        row: list[float | None] = [self.run.steps, self.run.epoch, self.readouts["loss_train"],
                                   self.readouts["loss_test"], self.readouts["accuracy_test"]]
        row += [v if math.isfinite(v) else None for v in self.run.norms]
        if self.history and self.history[-1][0] == self.run.steps:
            self.history[-1] = row  # the same step again (an edit): its row is replaced
            self.rebuilt = True
        else:
            self.history.append(row)
        if self.path and self.path[-1][0] == self.run.steps:
            self.path[-1] = (self.run.steps, self.run.net.params.copy())
        else:
            self.path.append((self.run.steps, self.run.net.params.copy()))
        if len(self.history) > MAX_HISTORY:
            self.history = self.history[::2]
            self.rebuilt = True
        if len(self.path) > MAX_PATH:
            self.path = self.path[::2]
        if self.comparison is not None:
            if self.comparison.run.steps > self.run.steps:  # A went back: so does B
                self.comparison = Comparison(self.setup, self.data, self.comparison.changes)
            self.comparison.catch_up(self.run.steps)
            self.comparison.record()

    def steps(self, count: int) -> None:
        """Up to ``count`` steps, then the readouts; stops at a divergence or a stop condition."""
        for _ in range(count):
            if not self.run.step():
                self.playing = False
                break
            self.replay.note(self.run)
            if self.stop_condition():
                self.playing = False
                break
        self.record()

    def stop_condition(self) -> bool:
        setup = self.setup
        loss = self.run.last_loss  # on the whole training set, after the last step
        if setup.target_loss and loss <= setup.target_loss:
            self.stopped = f"reached the target loss {setup.target_loss:g} at step {self.run.steps}"
        elif setup.max_epochs and self.run.epoch >= setup.max_epochs:
            self.stopped = f"stopped after {setup.max_epochs} epochs"
        else:
            return False
        return True

    # -- messages -------------------------------------------------------------------------
    def handle(self, message: Message) -> list[Reply]:
        if isinstance(message, Configure):
            self.configure(message)
        elif isinstance(message, Play):
            self.stopped = None
            self.playing = True
        elif isinstance(message, Pause):
            self.playing = False
        elif isinstance(message, Step):
            self.playing = False
            self.steps(message.count)
        elif isinstance(message, Reset):
            if self.loaded:
                raise FieldError("type", "a model opened from a file has no seed to reset to: "
                                 "change a setting to start a new network")
            self.new_run()
        elif isinstance(message, AddPoint):
            is_class = self.data.task == "classification"
            if is_class and message.label >= max(self.data.n_classes, 2):
                raise FieldError("label", f"this data set has {self.data.n_classes} classes")
            target = float(message.label) if is_class else message.value
            self.set_data(add_point(self.data, message.x1, message.x2, target))
        elif isinstance(message, RemovePoint):
            self.set_data(remove_point(self.data, message.x1, message.x2, message.radius))
        elif isinstance(message, LoadCsv):
            self.set_data(from_csv(message.text, self.setup))
        elif isinstance(message, DownloadCsv):
            return [{"type": "file", "filename": f"playground-{self.setup.dataset}.csv",
                     "mime": "text/csv", "text": to_csv(self.data)}]
        elif isinstance(message, DownloadModel):
            return [files.model_file(self.run.net, self.setup)]
        elif isinstance(message, LoadModel):
            self.load_model(message.data)
        elif isinstance(message, SetWeight):
            self.set_weight(message)
        elif isinstance(message, ExportPython):
            return [self.export()]
        elif isinstance(message, Rewind):
            self.playing = False
            self.replay.rewind(self.run, message.step)
            self.history = [row for row in self.history if (row[0] or 0) < message.step]
            self.path = [(at, theta) for at, theta in self.path if at < message.step]
            self.rebuilt = True
            self.record()
        elif isinstance(message, Surface):
            path = [theta for _, theta in self.path]
            return [{"type": "state", "surface": surface.surface_reply(self.run, path, message)}]
        elif isinstance(message, Compare):
            changes = {name: getattr(message, name) for name in message.model_fields_set
                       if name != "type"}
            self.comparison = Comparison(self.setup, self.data, changes)
            self.record()
        elif isinstance(message, StopCompare):
            self.comparison = None
        elif isinstance(message, BatchModes):
            start = None if not self.loaded else self.run.net.copy()
            if start is not None:
                start.params[...] = self.replay.snapshots[0]["params"]
            modes = compare.batch_modes(self.setup, self.data, start, message.epochs)
            return [{"type": "state", "batch_modes": modes}]
        elif isinstance(message, Explain):
            explanation = insight.explain_weight(self.run, message.layer, message.row,
                                                 message.col, message.point)
            return [{"type": "state", "explanation": {**explanation, "step": self.run.steps}}]
        elif isinstance(message, GradientCheck):
            return [{"type": "state",
                     "gradient_check": {**insight.gradient_check(self.run),
                                        "step": self.run.steps}}]
        return [self.state()]

    def configure(self, message: Configure) -> None:
        changed = {name: getattr(message, name) for name in message.model_fields_set
                   if name != "type" and getattr(message, name) != getattr(self.setup, name)}
        try:
            setup = Setup.model_validate({**self.setup.model_dump(), **changed})
        except ValidationError as error:
            first = error.errors(include_url=False)[0]
            raise FieldError(".".join(map(str, first["loc"])) or "features", first["msg"]) from None
        data = generate(setup) if DATA_FIELDS & changed.keys() else self.data
        output_head(setup, data.n_classes)  # names the loss when it does not fit the task
        previous, self.setup = self.setup, setup
        if DATA_FIELDS & changed.keys():
            self.data, self.box, self.loaded = data, view_box(data), False
            self.new_run()
        elif NETWORK_FIELDS & changed.keys():
            self.loaded = False
            self.new_run()
        else:
            self.adjust_run(previous, changed)

    def adjust_run(self, previous: SetupFields, changed: dict[str, Any]) -> None:
        """Settings the running network takes over without starting again."""
        run = self.run
        run.setup = self.setup
        if run.steps and changed.keys() - {"speed", "target_loss", "max_epochs"}:
            self.changed_mid_run = True
            self.replay = Replay(run)  # a replay recomputes under one set of settings
        if OPTIMIZER_FIELDS & changed.keys():
            run.optimizer = build_optimizer(self.setup)
        elif "lr" in changed:
            run.optimizer.lr = self.setup.lr
        if "batch_size" in changed:
            run.batches = []  # the next step starts a pass in the new batch size
        if self.run.steps == 0:
            self.new_run(Run(self.setup, self.data, run.net) if self.loaded else None)

    def set_weight(self, message: SetWeight) -> None:
        insight.weight_position(self.run, message.layer, message.row, message.col)
        self.run.set_weight(message.layer, message.row, message.col, message.value)
        self.record()

    # -- files ---------------------------------------------------------------------------
    def load_model(self, encoded: str) -> None:
        net, self.setup = files.read_model(encoded, self.setup, self.data)
        self.new_run(Run(self.setup, self.data, net))
        self.loaded = True

    def export(self) -> Reply:
        if self.loaded:
            raise FieldError("type", "a model opened from a file cannot be rebuilt from a setup")
        note = ("" if not self.changed_mid_run else
                "# note: settings changed during the run; this script uses the final ones "
                "from step 0\n")
        return {"type": "file", "filename": "playground_run.py", "mime": "text/x-python",
                "text": note + python_script(self.run)}

    # -- play and state ------------------------------------------------------------------
    def tick(self) -> Reply | None:
        self.steps(self.setup.speed)
        return self.progress()

    def status(self) -> str:
        if self.run.divergence is not None:
            return self.run.divergence.describe(len(dense_layers(self.run.net)))
        if self.stopped:
            return self.stopped
        return "training" if self.playing else ("ready" if self.run.steps == 0 else "paused")

    def progress(self) -> Reply:
        """What changes while playing: readouts, maps, the network, the new history rows."""
        divergence = self.run.divergence
        reply: Reply = {
            "type": "state", "playing": self.playing, "step": self.run.steps,
            "epoch": self.run.epoch, **self.readouts, "status": self.status(),
            "diverged": divergence is not None,
            "diverged_at": None if divergence is None else divergence.step,
            "stable_lr": None if divergence is None else divergence.stable_lr,
            "boundary": view.output_map(self.run, self.box, self.target_range()),
            "network": view.network_picture(self.run),
            "confusion": view.confusion(self.run),
            "replay": {"first": self.replay.first, "every": self.replay.every,
                       "snapshots": len(self.replay.snapshots)},
            "compare": None if self.comparison is None else {
                "changes": self.comparison.changes, "rows": self.comparison.rows,
                "step": self.comparison.run.steps, "diverged": self.comparison.diverged,
                "boundary": view.output_map(self.comparison.run, self.box, self.target_range())},
        }
        self.updates += 1
        if not self.playing or self.updates % NEURON_MAPS_EVERY == 0:
            reply["neurons"] = view.neuron_maps(self.run, self.box)
        if self.rebuilt:
            reply["history"] = self.history
            self.rebuilt = False
        else:
            reply["history_append"] = self.history[self.sent:]
        self.sent = len(self.history)
        return reply

    def target_range(self) -> tuple[float, float]:
        _, targets = self.data.all_points()
        return view.value_range(targets.astype(float))

    def state(self) -> Reply:
        self.rebuilt = True
        data = self.data
        return {
            **self.progress(),
            "setup": self.setup.model_dump(),
            "task": data.task, "n_classes": data.n_classes, "loaded": self.loaded,
            "box": self.box, "histograms": {"step": self.run.steps,
                                            "layers": insight.histograms(self.run)},
            "points": {"train": [[*p, float(t)] for p, t in zip(data.X_train.tolist(),
                                                                data.y_train, strict=True)],
                       "test": [[*p, float(t)] for p, t in zip(data.X_test.tolist(),
                                                               data.y_test, strict=True)]},
            "options": options(),
        }
