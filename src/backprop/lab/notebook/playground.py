"""The playground on a notebook's own data and network: the lab's page, trained in place.

:class:`NotebookPlayground` is the lab's :class:`~backprop.lab.playground.page.PlaygroundPage`
(the same messages, readouts and pictures) whose run can be an :class:`OwnRun`: the
notebook's arrays (any number of features, drawn on a
:class:`~backprop.lab.notebook.own_data.Plane`)
and the notebook's own ``Network`` object, which each step trains in place, step for
step as ``net.fit`` would (the same batches from the network's generator, the same
update, frozen tensors kept). Settings the page cannot apply to the notebook's own
data or network are refused naming the field; transport-independent, like every page.
"""

from __future__ import annotations

import copy
import math
from typing import Any, cast

import numpy as np
from pydantic import ValidationError

from backprop.errors import OptionError
from backprop.lab.notebook.own_data import OwnData, Plane, check_network
from backprop.lab.playground.data import Data, features, generate, view_box
from backprop.lab.playground.model import (
    build_network,
    build_optimizer,
    dense_layers,
    output_head,
)
from backprop.lab.playground.page import DATA_FIELDS, NETWORK_FIELDS, PlaygroundPage, blamed
from backprop.lab.playground.protocol import (
    AddPoint,
    BatchModes,
    Compare,
    DownloadCsv,
    Explain,
    ExportPython,
    LoadCsv,
    LoadModel,
    RemovePoint,
    Setup,
)
from backprop.lab.playground.run import Run
from backprop.lab.protocol import MAX_POINTS, FieldError, Message, Reply
from backprop.network import Network
from backprop.nn.batchnorm import BatchNorm
from backprop.nn.dropout import Dropout
from backprop.nn.layers import Dense
from backprop.optim.rules import OPTIMIZERS, SGD, Optimizer
from backprop.training.batching import Batches

#: The seed of the sample of points drawn when there are more than the page holds.
DRAWN_SAMPLE_SEED = 0


def full_probe(net: Network) -> Network:
    """A float64 copy to draw and measure with: every layer but Dropout (the identity when
    not training, with no parameters), so the flat parameters line up with ``net``'s."""
    layers = [copy.deepcopy(layer) for layer in net.layers if not isinstance(layer, Dropout)]
    probe = Network(layers, loss=net.loss, dtype="float64", seed=0)
    sync(probe, net)
    return probe


def sync(probe: Network, net: Network) -> None:
    """The probe at the network's parameters and running statistics."""
    probe.params[...] = net.params
    kept = [layer for layer in net.layers if not isinstance(layer, Dropout)]
    for mine, theirs in zip(probe.layers, kept, strict=True):
        for name, array in theirs.state_arrays().items():
            mine.state_arrays()[name][...] = array


class OwnRun(Run):
    """A run of the notebook's own network on the notebook's own arrays.

    ``data`` is what the page draws (the points on the plane); ``own`` what the network
    trains on. A step is fit's: the next batch of :class:`~backprop.training.batching.Batches`
    (shuffled by ``net.rng`` each pass), ``net.backprop``, the optimizer's Δθ, θ ← θ − Δθ.
    """

    def __init__(self, setup: Setup, data: Data, own: OwnData, net: Network, plane: Plane,
                 optimizer: Optimizer | None = None) -> None:
        # not Run.__init__: the inputs are the notebook's own columns, not features of (x1, x2)
        self.setup, self.data, self.own, self.plane = setup, data, own, plane
        self.net = net
        self.optimizer = optimizer if optimizer is not None else build_optimizer(setup)
        self.probe = full_probe(net)
        self.scaler = None
        self.X = net.check_inputs(own.X)
        self.Y, self.labels = self.targets(own.y)
        self.has_test = len(own.y_test) > 0
        if self.has_test:
            self.X_test = net.check_inputs(own.X_test)
            self.Y_test, self.labels_test = self.targets(own.y_test)
        self.batcher: Batches | None = None
        self.steps = 0
        self.epoch = 0
        self.batches = []
        self.edits = []
        self.divergence = None
        self.norms = [math.nan] * len(dense_layers(net))
        self.failed_norms: list[float] = []
        self.start_loss = self.last_loss = self.train_loss()

    def inputs(self, points: np.ndarray) -> np.ndarray:
        """The network's inputs at points (p1, p2) of the plane drawn."""
        return self.net.check_inputs(self.plane.lift(points))

    def sync_probe(self) -> Network:
        sync(self.probe, self.net)
        return self.probe

    def next_rows(self) -> np.ndarray:
        """The next batch, as fit takes them: a pass of :class:`Batches` at a time."""
        if self.batcher is None or self.batcher.batch_size != self.batch_size:
            pairs = any(isinstance(layer, BatchNorm) for layer in self.net.layers)
            self.batcher = Batches(self.X, self.Y, self.batch_size, shuffle=True,
                                   no_single_batch=pairs)
        if not self.batches:
            # a pass's batches: index arrays, or slices where fit does not shuffle (one
            # batch), which index X and Y alike
            self.batches = cast(list[np.ndarray], self.batcher.epoch(self.net.rng))
        rows: np.ndarray = self.batches.pop(0)
        return rows

    def raw_step(self) -> str | None:
        """Run's step, with the tensors the network keeps frozen kept as fit keeps them."""
        frozen = [(where, self.net.params[where].copy()) for where in self.net.frozen_slices]
        reason = super().raw_step()
        for where, values in frozen:
            self.net.params[where] = values
        return reason

    def snapshot(self) -> dict[str, Any]:
        """Run's snapshot, and the running statistics a step also moves."""
        return {**super().snapshot(),
                "state": [array.copy() for _, array in self.net.named_state()]}

    def restore(self, snapshot: dict[str, Any]) -> None:
        super().restore(snapshot)
        for (_, array), saved in zip(self.net.named_state(), snapshot["state"], strict=True):
            array[...] = saved

    def fork(self, lr: float | None = None) -> Run:
        """Run's fork, with a probe of every layer (not Run's, of the Dense layers only)."""
        clone = copy.copy(self)
        clone.net = self.net.copy()
        clone.optimizer = copy.deepcopy(self.optimizer)
        clone.probe = full_probe(clone.net)
        clone.batcher = None
        clone.batches = list(self.batches)
        clone.edits = list(self.edits)
        if lr is not None:
            clone.setup = self.setup.model_copy(update={"lr": lr})
            clone.optimizer.lr = lr
        return clone


def optimizer_fields(optimizer: Optimizer) -> dict[str, Any]:
    """The setup's optimizer, lr and l2 for an optimizer object (its name in the menu)."""
    if not isinstance(optimizer, Optimizer):
        raise OptionError(f"optimizer: expected a bp optimizer (bp.SGD, bp.Adam, ...), got "
                          f"{type(optimizer).__name__}")
    if isinstance(optimizer, SGD) and optimizer.momentum:
        name = "nesterov" if optimizer.nesterov else "momentum"
    else:
        names = [key for key, kind in OPTIMIZERS.items() if type(optimizer) is kind]
        if not names:
            raise OptionError(f"optimizer: the playground offers {', '.join(OPTIMIZERS)}, "
                              f"not {type(optimizer).__name__}")
        name = names[0]
    return {"optimizer": name, "lr": float(optimizer.lr),
            "l2": float(getattr(optimizer, "weight_decay", 0.0))}


def drawn_data(own: OwnData, plane: Plane) -> Data:
    """The points as the page draws them: on the plane, at most :data:`MAX_POINTS` of them
    (a fixed random sample of train and test alike beyond that)."""
    train, test = plane.coordinates(own.X), plane.coordinates(own.X_test)
    y_train, y_test = own.y, own.y_test
    total = len(train) + len(test)
    if total > MAX_POINTS:
        rng = np.random.default_rng(DRAWN_SAMPLE_SEED)
        keep_train = max(1, round(MAX_POINTS * len(train) / total))
        rows = np.sort(rng.choice(len(train), keep_train, replace=False))
        train, y_train = train[rows], y_train[rows]
        if len(test):
            rows = np.sort(rng.choice(len(test), MAX_POINTS - keep_train, replace=False))
            test, y_test = test[rows], y_test[rows]
    return Data(train, y_train, test, y_test, own.task, own.n_classes, custom=True)


def generated_own(data: Data, setup: Setup) -> OwnData:
    """A generated data set as arrays, the inputs being the setup's features."""
    names = [str(name) for name in setup.features]
    return OwnData(features(data.X_train, names), data.y_train, features(data.X_test, names),
                   data.y_test, "regression" if data.task == "regression" else "classification",
                   data.n_classes, names)


#: Why each kind of message is refused on the notebook's own data or network.
OWN_DATA = ("the data are the notebook's own arrays: change them in Python and make a new "
            "widget")
OWN_NETWORK = ("the network is the notebook's own object: build or load another in Python "
               "and pass it as network=")
FROM_SETUP = ("it rebuilds the network from the page's settings, and this widget trains the "
              "notebook's own data or network")


def fixed_fields(own_data: bool, own_network: bool) -> dict[str, str]:
    """Setup fields the notebook's own data, or network, fix, and why."""
    fixed: dict[str, str] = {}
    if own_data:
        fixed.update({name: OWN_DATA for name in DATA_FIELDS - {"seed"}})
        fixed["features"] = OWN_DATA
    if own_network:
        fixed.update({name: OWN_NETWORK for name in NETWORK_FIELDS})
        if own_data:
            fixed["seed"] = OWN_NETWORK
    return fixed


class NotebookPlayground(PlaygroundPage):
    """The playground page on the notebook's arrays (``own``), network and optimizer.

    ``own=None`` draws the setup's generated data set; ``network=None`` builds the
    network from the setup, as the lab's page does.
    """

    def __init__(self, setup: Setup, *, own: OwnData | None = None, plane: Plane | None = None,
                 network: Network | None = None, optimizer: Optimizer | None = None) -> None:
        if own is not None and plane is None:
            raise ValueError("own data need the plane they are drawn on")
        self.own, self.plane = own, plane
        self.user_network, self.user_optimizer = network, optimizer
        self.rows: list[dict[str, Any]] = []
        if network is not None:
            for number, layer in enumerate(network.layers, start=1):
                if isinstance(layer, Dense) and not layer.bias:
                    raise OptionError(f"network: the playground draws layers with biases, and "
                                      f"layer {number} has none (bp.lab.Sandbox shows it)")
            self.initial: dict[str, Any] = {"params": network.params.copy(),
                            "state": [a.copy() for _, a in network.named_state()],
                            "rng": network.rng.bit_generator.state}
        if optimizer is not None:
            state = optimizer.state_dict()
            self.initial_optimizer = {**state, "arrays": {k: v.copy() for k, v in
                                                          state["arrays"].items()}}
            self.optimizer_setup = (setup.optimizer, setup.l2)
        self.booting = True
        super().__init__()  # the page's defaults, replaced below
        self.booting = False
        # what the notebook fixes, locked as a classroom link locks (the page disables those
        # controls); refused with the notebook's reason first (see change)
        self.locked = set(self.fixed_fields()) | ({"data"} if own is not None else set())
        self.setup = setup
        self.data = generate(setup) if own is None else drawn_data(own, self.plane_now())
        self.box = view_box(self.data)
        if network is not None:
            check_network(network, self.own_now())
        self.new_run()

    # -- what is the notebook's -------------------------------------------------------------
    def own_now(self) -> OwnData:
        return self.own if self.own is not None else generated_own(self.data, self.setup)

    def plane_now(self) -> Plane:
        if self.plane is not None:
            return self.plane
        width = len(self.setup.features)  # a generated set: the network reads (x1, x2) as is
        return Plane(np.zeros(width), np.eye(2, width), "the plane (x1, x2)")

    def fixed_fields(self) -> dict[str, str]:
        """Setup fields this page keeps as they are, and why."""
        return fixed_fields(self.own is not None, self.user_network is not None)

    # -- the run ------------------------------------------------------------------------------
    def new_run(self, run: Run | None = None) -> None:
        self.rows = []
        if run is None and not self.booting:
            run = self.make_run()
        super().new_run(run)

    def make_run(self) -> Run | None:
        """The run from step 0: the notebook's network back at the weights it came with (and
        its optimizer at the state it came with), or a new one from the setup."""
        if self.own is None and self.user_network is None:
            return None  # the lab's own run
        own = self.own_now()
        if self.user_network is not None:
            net = self.user_network
            check_network(net, own)
            net.params[...] = self.initial["params"]
            for (_, array), saved in zip(net.named_state(), self.initial["state"], strict=True):
                array[...] = saved
            net.rng.bit_generator.state = self.initial["rng"]
        else:
            net = build_network(self.setup, own.n_classes, n_inputs=own.n_features)
        optimizer = None
        if self.user_optimizer is not None and (
                self.setup.optimizer, self.setup.l2) == self.optimizer_setup:
            optimizer = self.user_optimizer
            optimizer.load_state_dict(self.initial_optimizer)
            optimizer.lr = self.setup.lr
        return OwnRun(self.setup, self.data, own, net, self.plane_now(), optimizer)

    def record(self) -> None:
        super().record()
        if self.replay.viewing:
            return  # an earlier step shown: the record goes on from the latest
        readouts = self.readouts
        row = {"step": self.run.steps, "epoch": self.run.epoch, **readouts,
               "grad_norms": [v if math.isfinite(v) else None for v in self.run.norms]}
        while self.rows and self.rows[-1]["step"] >= row["step"]:
            self.rows.pop()  # the same step again (an edit), or a step gone back to
        self.rows.append(row)

    # -- messages -----------------------------------------------------------------------------
    def handle(self, message: Message) -> list[Reply]:
        own_data, own_network = self.own is not None, self.user_network is not None
        if own_data and isinstance(message, AddPoint | RemovePoint | LoadCsv | DownloadCsv):
            raise FieldError("type", OWN_DATA)
        if (own_data or own_network) and isinstance(message, LoadModel):
            raise FieldError("type", OWN_DATA if own_data else OWN_NETWORK)
        if (own_data or own_network) and isinstance(message, ExportPython | Compare | BatchModes):
            raise FieldError("type", f"{message.type.replace('_', ' ')} is not offered here: "
                             f"{FROM_SETUP}")
        if isinstance(message, Explain) and not all(
                isinstance(layer, Dense) for layer in self.run.probe.layers):
            kinds = sorted({type(layer).__name__ for layer in self.run.probe.layers
                            if not isinstance(layer, Dense)})
            raise FieldError("type", "explaining a weight follows the worked step, which "
                             f"covers stacks of Dense layers; this network has {kinds[0]}")
        return super().handle(message)

    def change(self, fields: dict[str, Any]) -> None:
        """The page's change of setup fields, but for those the notebook's data or network
        fix (refused by name); on the notebook's data the seed seeds a new network only."""
        changed = {name: value for name, value in fields.items()
                   if value != getattr(self.setup, name)}
        fixed = self.fixed_fields()
        for name in sorted(changed):
            if name in fixed:
                raise FieldError(name, fixed[name])
        if self.own is not None and "seed" in changed:
            try:
                setup = Setup.model_validate({**self.setup.model_dump(), **changed})
            except ValidationError as error:
                raise FieldError(*blamed(error)) from None
            output_head(setup, self.data.n_classes)
            previous, self.setup = self.setup, setup
            try:
                self.new_run()
            except ValueError:
                self.setup = previous
                raise
            return
        if self.own is None and self.user_network is not None and DATA_FIELDS & changed.keys():
            self.check_generated(changed)
        super().change(fields)

    def check_generated(self, changed: dict[str, Any]) -> None:
        """A new generated data set must still fit the notebook's network."""
        assert self.user_network is not None
        setup = Setup.model_validate({**self.setup.model_dump(), **changed})
        data = generate(setup)
        try:
            check_network(self.user_network, generated_own(data, setup))
        except OptionError as error:
            raise FieldError("dataset", str(error).removeprefix("network: ")) from None

    # -- what the page shows ------------------------------------------------------------------
    def progress(self) -> Reply:
        reply = super().progress()
        plane = self.plane_now()
        if not plane.boundary:
            reply["boundary"] = None
            if "neurons" in reply:
                reply["neurons"] = None
        if self.own is not None and isinstance(reply.get("network"), dict):
            reply["network"]["inputs"] = list(self.own.names)
        return reply
