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
    FEATURES,
    LOCKABLE,
    MAX_HIDDEN_LAYERS,
    MAX_HIDDEN_UNITS,
    AddLayer,
    AddPoint,
    BatchModes,
    Branch,
    ChangeLayer,
    Compare,
    Configure,
    DownloadCsv,
    DownloadModel,
    Explain,
    ExportPython,
    GradientCheck,
    LoadCsv,
    LoadModel,
    Lock,
    RemoveLayer,
    RemovePoint,
    Reset,
    Rewind,
    Setup,
    SetupFields,
    SetWeight,
    Step,
    StopCompare,
    Surface,
    ToggleFeature,
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
NETWORK_FIELDS = frozenset({"features", "layers", "activation", "activations", "loss", "init",
                            "dropout"})
#: Setup fields a running optimizer takes over as they change.
OPTIMIZER_FIELDS = frozenset({"optimizer", "l2"})
#: Setup fields that change neither the steps nor the replay: how fast play goes, when it
#: stops, how the output is drawn.
QUIET_FIELDS = frozenset({"speed", "target_loss", "max_epochs", "discretize"})


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
        Branch, Surface, Compare, StopCompare, BatchModes, AddLayer, RemoveLayer, ChangeLayer,
        ToggleFeature, Lock,
    )

    def __init__(self) -> None:
        super().__init__()
        self.setup = Setup()
        self.data = generate(self.setup)
        self.box = view_box(self.data)
        self.loaded = False  # the network came from a model file
        self.updates = 0  # progress messages sent
        self.comparison: Comparison | None = None  # run B of an A/B comparison
        self.locked: set[str] = set()  # what a classroom link locked (see Lock)
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
        """The readouts now, and (at the latest step) one history row: step, epoch, train and
        test loss, test accuracy, and the gradient norm of each layer in the last step."""
        self.readouts = self.run.evaluate()
        if self.replay.viewing:
            return  # an earlier step: the history goes on to the latest
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
            self.change({name: getattr(message, name) for name in message.model_fields_set
                         if name != "type"})
        elif isinstance(message, AddLayer | RemoveLayer | ChangeLayer | ToggleFeature):
            self.change(self.relative_change(message))
        elif isinstance(message, Lock):
            self.locked |= set(message.fields if message.fields is not None else LOCKABLE)
        elif isinstance(message, Play):
            self.check_can_train()
            self.stopped = None
            self.playing = True
        elif isinstance(message, Pause):
            self.playing = False
        elif isinstance(message, Step):
            self.playing = False
            self.check_can_train()
            self.steps(message.count)
        elif isinstance(message, Reset):
            if self.loaded:
                raise FieldError("type", "a model opened from a file has no seed to reset to: "
                                 "change a setting to start a new network")
            self.new_run()
        elif isinstance(message, AddPoint):
            self.check_unlocked("data", "x1")
            is_class = self.data.task == "classification"
            if is_class and message.label >= max(self.data.n_classes, 2):
                raise FieldError("label", f"this data set has {self.data.n_classes} classes")
            target = float(message.label) if is_class else message.value
            self.set_data(add_point(self.data, message.x1, message.x2, target))
        elif isinstance(message, RemovePoint):
            self.check_unlocked("data", "x1")
            self.set_data(remove_point(self.data, message.x1, message.x2, message.radius))
        elif isinstance(message, LoadCsv):
            self.check_unlocked("data", "text")
            self.set_data(from_csv(message.text, self.setup))
        elif isinstance(message, DownloadCsv):
            return [{"type": "file", "filename": f"playground-{self.setup.dataset}.csv",
                     "mime": "text/csv", "text": to_csv(self.data)}]
        elif isinstance(message, DownloadModel):
            return [files.model_file(self.run.net, self.setup)]
        elif isinstance(message, LoadModel):
            self.check_unlocked("weights", "data")
            self.load_model(message.data)
        elif isinstance(message, SetWeight):
            self.check_unlocked("weights", "value")
            self.check_at_latest("editing a weight")
            self.set_weight(message)
        elif isinstance(message, ExportPython):
            return [self.export()]
        elif isinstance(message, Rewind):
            self.playing = False
            self.replay.rewind(self.run, message.step)
            self.record()
        elif isinstance(message, Branch):
            self.playing = False
            self.replay.branch(self.run)
            self.history = [row for row in self.history if (row[0] or 0) <= self.run.steps]
            self.path = [(at, theta) for at, theta in self.path if at <= self.run.steps]
            self.stopped = None
            self.rebuilt = True
            self.record()
        elif isinstance(message, Surface):
            path = [theta for at, theta in self.path if at <= self.run.steps]
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

    # -- what may happen now -------------------------------------------------------------
    def check_unlocked(self, what: str, field: str | None = None) -> None:
        """Refuse a change to something a classroom link locked, naming ``field`` (or it)."""
        if what in self.locked:
            raise FieldError(field or what, f"{what} is locked by the classroom link: "
                             "this page lets you train and look, not change it")

    def check_at_latest(self, doing: str) -> None:
        """Refuse a change while the replay shows an earlier step (it would rewrite history)."""
        if self.replay.viewing:
            shown, latest = self.run.steps, self.replay.latest(self.run)
            raise FieldError("type", f"the replay shows step {shown} of {latest}: press "
                             f"“branch from here” before {doing} (the steps after {shown} are "
                             f"then dropped), or go back to step {latest}")

    def check_can_train(self) -> None:
        """Refuse to step where a step cannot go on: an earlier step shown, or a divergence
        the settings have not changed since."""
        self.check_at_latest("training on")
        if self.run.divergence is not None:
            raise FieldError("lr", self.run.divergence.advice())

    # -- settings ------------------------------------------------------------------------
    def relative_change(self, message: AddLayer | RemoveLayer | ChangeLayer | ToggleFeature,
                        ) -> dict[str, Any]:
        """The setup fields a layer or feature verb changes, from the setup as it is now."""
        layers, activations = list(self.setup.layers), list(self.setup.activations)
        if isinstance(message, ToggleFeature):
            chosen = set(self.setup.features) | {message.name} if message.on else \
                set(self.setup.features) - {message.name}
            return {"features": [name for name in FEATURES if name in chosen]}
        if isinstance(message, AddLayer):
            if len(layers) >= MAX_HIDDEN_LAYERS:
                raise FieldError("layers", f"at most {MAX_HIDDEN_LAYERS} hidden layers")
            layers.append(layers[-1] if layers else 4)
            if activations:
                activations.append(activations[-1])
        elif isinstance(message, RemoveLayer):
            if not layers:
                raise FieldError("layers", "there is no hidden layer left to remove")
            layers.pop()
            activations = activations[:-1]
        else:
            if message.layer >= len(layers):
                raise FieldError("layer", f"there are {len(layers)} hidden layers")
            units = layers[message.layer] + message.units_by
            if not 1 <= units <= MAX_HIDDEN_UNITS:
                raise FieldError("units_by", f"hidden layer {message.layer + 1} would have "
                                 f"{units} units; it may have 1 to {MAX_HIDDEN_UNITS}")
            layers[message.layer] = units
            if message.activation is not None:
                activations = self.setup.hidden_activations()
                activations[message.layer] = message.activation
                return {"layers": layers, "activations": activations}
        return {"layers": layers, "activations": activations}

    def change(self, fields: dict[str, Any]) -> None:
        """Change the setup fields given; new data, a new network or the running one adjusted,
        as the fields changed ask."""
        changed = {name: value for name, value in fields.items()
                   if value != getattr(self.setup, name)}
        for name in changed:
            self.check_unlocked(name)
        if "activations" not in fields:
            if "activation" in changed:
                changed["activations"] = []  # one activation for every hidden layer again
            elif "layers" in changed and self.setup.activations:
                changed["activations"] = fit_length(self.setup.activations,
                                                    len(changed["layers"]))
        try:
            setup = Setup.model_validate({**self.setup.model_dump(), **changed})
        except ValidationError as error:
            raise FieldError(*blamed(error)) from None
        data = generate(setup) if DATA_FIELDS & changed.keys() else self.data
        output_head(setup, data.n_classes)  # names the loss when it does not fit the task
        steps_change = changed.keys() - QUIET_FIELDS - DATA_FIELDS - NETWORK_FIELDS
        if steps_change:
            self.check_at_latest(f"changing {', '.join(sorted(steps_change))}")
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
        if changed.keys() - QUIET_FIELDS:
            run.divergence = None  # the new settings may go on where the old ones diverged
            if run.steps:
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
        if self.replay.viewing:
            shown, latest = self.run.steps, self.replay.latest(self.run)
            return (f"replay: showing step {shown} of {latest}. Branch from here to train on "
                    f"from step {shown}, or drag back to step {latest}")
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
            "suggested_lr": None if divergence is None else divergence.suggested_lr,
            "boundary": view.output_map(self.run, self.box, self.target_range(),
                                        self.setup.discretize),
            "network": view.network_picture(self.run),
            "confusion": view.confusion(self.run),
            "replay": {"first": self.replay.first, "every": self.replay.every,
                       "snapshots": len(self.replay.snapshots),
                       "latest": self.replay.latest(self.run), "viewing": self.replay.viewing},
            "compare": None if self.comparison is None else {
                "changes": self.comparison.changes, "rows": self.comparison.rows,
                "step": self.comparison.run.steps, "diverged": self.comparison.diverged,
                "boundary": view.output_map(self.comparison.run, self.box, self.target_range(),
                                            discretize=True)},
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
            "locked": [name for name in LOCKABLE if name in self.locked],
        }


def fit_length(activations: list[str], n: int) -> list[str]:
    """Per-layer activations for ``n`` hidden layers: cut, or carried on with the last."""
    return (activations[:n] + activations[-1:] * n)[:n] if n else []


def blamed(error: ValidationError) -> tuple[str, str]:
    """(field, message) of a setup's first validation error; a rule over several fields
    names its field first ("features: ...")."""
    first = error.errors(include_url=False)[0]
    message = str(first["msg"]).removeprefix("Value error, ")
    field = ".".join(map(str, first["loc"]))
    if not field:
        field, _, rest = message.partition(": ")
        message = rest or message
    return field, message
