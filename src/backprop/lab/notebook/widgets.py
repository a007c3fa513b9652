"""The lab's three pages as notebook widgets: ``bp.lab.Playground``, ``Sandbox``, ``Regression``.

Each is the lab's page (its document, scripts and Python class) in a cell, trained in
this kernel on this library's engine::

    net = bp.Network([bp.Dense(2, 8, activation="tanh"), bp.Dense(8, 3, activation="softmax")],
                     loss="cross_entropy", seed=0, dtype="float64")
    widget = bp.lab.Playground(data=(X, y), network=net, optimizer=bp.SGD(lr=0.1))
    widget            # the page, live; press play there, or:
    widget.step(200)  # net itself is trained: net.evaluate(X, y), net.save(...)
"""

from __future__ import annotations

from typing import Any, ClassVar

import traitlets
from pydantic import ValidationError

from backprop.errors import OptionError
from backprop.lab.notebook import frames
from backprop.lab.notebook.own_data import Projection, Task, check_data, plane_of
from backprop.lab.notebook.pages import NotebookRegression, NotebookSandbox
from backprop.lab.notebook.playground import (
    NotebookPlayground,
    fixed_fields,
    optimizer_fields,
)
from backprop.lab.notebook.widget import LabWidget
from backprop.lab.playground.page import PlaygroundPage, blamed
from backprop.lab.playground.protocol import DATASETS, MAX_STEP_COUNT, Setup
from backprop.lab.regression.page import RegressionPage
from backprop.lab.regression.protocol import MAX_SPEED
from backprop.lab.sandbox.page import SandboxPage
from backprop.network import Network
from backprop.nn.dropout import Dropout
from backprop.nn.layers import Dense
from backprop.optim.base import Optimizer

#: The controls of the playground that do not apply to the notebook's own data, or network.
OWN_DATA_CONTROLS = ('[data-control="data"]', "#csv-download", "label:has(#csv-upload)")
OWN_NETWORK_CONTROLS = ('[data-control="layers"]', '[data-control="activation"]',
                        '[data-control="init"]', '[data-control="loss"]',
                        '[data-control="dropout"]', "label:has(#model-upload)",
                        "label:has(#features)", "#features")
FROM_SETUP_CONTROLS = (".panel:has(#compare)", ".panel:has(#batch-modes)", "#export-python")


def hiding(selectors: list[str]) -> str:
    """CSS that hides these elements of the page."""
    return "".join(f"{selector} {{ display: none !important; }}\n" for selector in selectors)


def _setup(fields: dict[str, Any]) -> Setup:
    """A playground setup from keyword arguments, refused naming the first bad one."""
    try:
        return Setup.model_validate({**Setup().model_dump(), **fields})
    except ValidationError as error:
        field, message = blamed(error)
        given = f" (got {fields[field]!r})" if field in fields else ""
        raise OptionError(f"{field}: {message}{given}") from None


def network_fields(network: Network) -> dict[str, Any]:
    """The setup's words for a network, as far as they can describe it (the setup has at most
    8 hidden layers of 16 units and one dropout rate); the rest left at the setup's defaults."""
    dense = [layer for layer in network.layers if isinstance(layer, Dense)]
    rates = [layer.rate for layer in network.layers if isinstance(layer, Dropout)]
    hidden = [layer.activation.name for layer in dense[:-1]]
    candidates: dict[str, Any] = {"layers": [layer.n_out for layer in dense[:-1]],
                                  "activation": hidden[0] if hidden else "tanh",
                                  "activations": hidden, "init": network.init,
                                  "loss": network.loss.name,
                                  "dropout": float(rates[0]) if rates else 0.0}
    fields: dict[str, Any] = {}
    for name, value in candidates.items():
        try:
            Setup.model_validate({**Setup().model_dump(), **fields, name: value})
        except ValidationError:
            continue  # beyond what the setup can say
        fields[name] = value
    return fields


class Playground(LabWidget):
    """The playground: a network learning 2-D (or projected) data, forward and backward.

    Arguments:
        data: ``(X, y)``: X (m, d) of any d ≥ 2, y class labels 0..k-1 (or one-hot) or a
            regression target; or the name of one of the lab's data sets ("circles",
            "moons", ...), generated with the setup's noise, size and seed.
        network: a ``bp.Network`` to train in place (any depth, registered activations,
            BatchNorm, Dropout; its inputs are X's columns); None builds one from the
            setup (``layers``, ``activation``, ...) as the lab's page does.
        optimizer: the optimizer object to train with (its lr and state are used and kept
            up to date), or the name of one of the page's ("sgd", "momentum", "adam", ...);
            None builds the setup's ``optimizer`` at ``lr``.
        test: ``(X_test, y_test)`` shown as test points and test readouts.
        task: "classification" or "regression"; by default the network's loss says, else
            y (integers, at most 20 distinct: classes).
        names: one name per column of X, shown on the network's inputs.
        projection: for d > 2: "pca" (the plane of the first two principal directions
            through the mean), ``(i, j)`` (features i and j, the others at their means),
            or None (no boundary drawn).
        link: where a static rendering's note links to run the notebook.
        **settings: any field of the page's setup: lr, batch_size (0: full batch),
            speed (steps per update), l2, target_loss, max_epochs, layers, activation, ...

    Traits (synced both ways with the page): ``lr``, ``optimizer``, ``batch_size``, ``l2``,
    ``speed``, ``target_loss``, ``max_epochs``, ``playing``, and ``setup`` (every field).
    """

    _esm = LabWidget.module(PlaygroundPage)
    lr = traitlets.Float(0.1).tag(sync=True)
    optimizer = traitlets.Unicode("momentum").tag(sync=True)
    batch_size = traitlets.Int(10).tag(sync=True)
    l2 = traitlets.Float(0.0).tag(sync=True)
    speed = traitlets.Int(4).tag(sync=True)
    target_loss = traitlets.Float(0.0).tag(sync=True)
    max_epochs = traitlets.Int(0).tag(sync=True)
    setup = traitlets.Dict().tag(sync=True)

    SETTINGS: ClassVar[dict[str, tuple[str, ...]]] = {
        **{name: ("setup", name) for name in ("lr", "optimizer", "batch_size", "l2", "speed",
                                              "target_loss", "max_epochs")},
        "setup": ("setup",),
    }
    STEP_CHUNK: ClassVar[int] = MAX_STEP_COUNT

    def __init__(self, data: tuple[Any, Any] | str = "circles", network: Network | None = None,
                 optimizer: Optimizer | str | None = None, *,
                 test: tuple[Any, Any] | None = None,
                 task: Task | None = None, names: list[str] | None = None,
                 projection: Projection = "pca", link: str | None = None,
                 **settings: Any) -> None:
        fixed = fixed_fields(not isinstance(data, str), network is not None)
        for name in sorted(settings):
            if name in fixed:
                raise OptionError(f"{name}: {fixed[name]}")
        fields: dict[str, Any] = dict(settings)
        if isinstance(optimizer, str):  # the page's menu name: built by the page
            fields = {"optimizer": optimizer, **fields}
            optimizer = None
        elif optimizer is not None:
            fields = {**optimizer_fields(optimizer), **fields}
        if network is not None:
            if not isinstance(network, Network):
                raise OptionError(f"network: expected a bp.Network, got "
                                  f"{type(network).__name__}")
            fields = {**network_fields(network), **fields}
        hidden: list[str] = []
        caption = ""
        if isinstance(data, str):
            if data not in DATASETS:
                raise OptionError(f"data: unknown data set {data!r}; choose one of "
                                  f"{', '.join(DATASETS)}, or pass (X, y)")
            if test is not None:
                raise OptionError("test: a generated data set has its own test split "
                                  "(test_ratio=)")
            own = plane = None
            setup = _setup({"dataset": data, **fields})
        else:
            own = check_data(data, test=test, network=network, task=task, names=names)
            plane = plane_of(own, projection)
            if own.task == "regression":
                fields["dataset"] = "regression"
            elif fields.get("dataset", "regression") == "regression":
                fields["dataset"] = "three-class" if own.n_classes > 2 else "circles"
            setup = _setup(fields)
            hidden += OWN_DATA_CONTROLS
            if own.n_features > 2 or projection != "pca":
                caption = f"Drawn on {plane.description}."
        if network is not None:
            hidden += OWN_NETWORK_CONTROLS
        if own is not None or network is not None:
            hidden += FROM_SETUP_CONTROLS
        page = NotebookPlayground(setup, own=own, plane=plane, network=network,
                                  optimizer=optimizer)
        super().__init__(page, css=hiding(hidden), caption=caption, link=link)

    @property
    def network(self) -> Network:
        """The network being trained: the one passed in (trained in place), or the page's."""
        page = self._page
        assert isinstance(page, NotebookPlayground)
        return page.run.net

    @property
    def history(self) -> list[dict[str, Any]]:
        """One row per update of this run: step, epoch, loss_train, loss_test,
        accuracy_train, accuracy_test (None where not measured), grad_norms per Dense layer."""
        page = self._page
        assert isinstance(page, NotebookPlayground)
        with self._lock:
            return [dict(row) for row in page.rows]

    def _setting_message(self, name: str, value: Any) -> dict[str, Any]:
        if name == "setup":
            current = self._state.get("setup") or {}
            return {"type": "configure",
                    **{k: v for k, v in dict(value).items() if current.get(k) != v}}
        return {"type": "configure", name: value}

    def _frame(self) -> bytes | None:
        return frames.playground_frame(self._state)


class Sandbox(LabWidget):
    """The sandbox: one step of a small network, every z, a, δ and ∂L/∂w, and check-my-answer.

    Arguments:
        network: a preset ("classic-231", "mazur-222", "custom") or a ``bp.Network`` of
            Dense layers (up to 4 layers of 8 units); a float64 network is stepped in place,
            another on a float64 copy (``widget.network``).
        x: one sample (n_inputs numbers) or a batch of rows (at most 8).
        y: its targets, one row of n_outputs numbers per sample.
        lr: the learning rate η of a step.
        link: where a static rendering's note links to run the notebook.

    Traits: ``lr`` and ``preset`` (synced both ways with the page).
    """

    _esm = LabWidget.module(SandboxPage)
    lr = traitlets.Float(0.5).tag(sync=True)
    preset = traitlets.Unicode("classic-231").tag(sync=True)

    SETTINGS: ClassVar[dict[str, tuple[str, ...]]] = {"lr": ("lr",), "preset": ("preset",)}

    def __init__(self, network: str | Network | None = None, x: Any = None, y: Any = None,
                 lr: float | None = None, *, link: str | None = None) -> None:
        super().__init__(NotebookSandbox(network, x, y, lr), link=link)

    def check(self) -> dict[str, Any]:
        """Check the step against central differences and the reference (the page's check);
        the report the page shows."""
        self.send_message({"type": "check"})
        report: dict[str, Any] = self.state["check"]
        return report

    def answer(self, answers: dict[str, str], *, ask: tuple[str, ...] = ("d", "gb", "g"),
               layers: list[int] | None = None) -> dict[str, Any]:
        """Check one's own numbers, as "check my answer" does: ``answers`` by key
        ("d-2-1": δ₁ of layer 2, "g-1-2-1": ∂L/∂w of layer 1 from input 1 to unit 2, ...);
        the verdict of each, right or wrong, with what went wrong."""
        self.send_message({"type": "answer_mode", "on": True, "ask": list(ask),
                           "layers": layers})
        self.send_message({"type": "answers", "answers": dict(answers)})
        verdicts: dict[str, Any] = self.state["answer"]
        return verdicts

    @property
    def network(self) -> Network:
        page = self._page
        assert isinstance(page, SandboxPage)
        return page.sandbox.net

    @property
    def history(self) -> list[dict[str, Any]]:
        """The loss L on the batch at step 0 and after each step since this network came."""
        page = self._page
        assert isinstance(page, NotebookSandbox)
        with self._lock:
            return [dict(row) for row in page.rows]

    def _step_message(self, count: int) -> dict[str, Any]:
        return {"type": "step"}

    def _setting_message(self, name: str, value: Any) -> dict[str, Any]:
        if name == "preset":
            return {"type": "preset", "name": value}
        return {"type": "set_lr", "lr": value}

    def _frame(self) -> bytes | None:
        return frames.sandbox_frame(self._state)


class Regression(LabWidget):
    """The regression simulator: gradient descent on y = w·x + b, its loss surface and path.

    Arguments:
        x, y: the points (one number each per point, at most 2000); None keeps the page's
            generated line.
        link: where a static rendering's note links to run the notebook.
        **settings: lr, momentum, batch_mode ("full", "mini", "online"), batch_size,
            speed (steps per second), scale (train on standardized x).

    Traits (synced both ways with the page): the settings above and ``playing``.
    """

    _esm = LabWidget.module(RegressionPage)
    lr = traitlets.Float(0.1).tag(sync=True)
    momentum = traitlets.Float(0.0).tag(sync=True)
    batch_mode = traitlets.Unicode("full").tag(sync=True)
    batch_size = traitlets.Int(8).tag(sync=True)
    speed = traitlets.Float(60.0).tag(sync=True)
    scale = traitlets.Bool(False).tag(sync=True)

    SETTINGS: ClassVar[dict[str, tuple[str, ...]]] = {
        name: ("settings", name)
        for name in ("lr", "momentum", "batch_mode", "batch_size", "speed", "scale")}
    STEP_CHUNK: ClassVar[int] = int(MAX_SPEED)

    def __init__(self, x: Any = None, y: Any = None, *, link: str | None = None,
                 **settings: Any) -> None:
        unknown = sorted(set(settings) - set(self.SETTINGS))
        if unknown:
            raise OptionError(f"{unknown[0]}: not a setting of the regression page; its "
                              f"settings are {', '.join(self.SETTINGS)}")
        page = NotebookRegression(x, y)
        super().__init__(page, link=link)
        if settings:
            self.send_message({"type": "set", **settings})

    @property
    def network(self) -> Network:
        """The one linear unit a = w·x + b (in the units trained, see ``scale``)."""
        page = self._page
        assert isinstance(page, RegressionPage)
        return page.net

    @property
    def history(self) -> list[dict[str, Any]]:
        """(step, w, b, loss) of the path so far (thinned as the page thins it)."""
        with self._lock:
            trace = self._state.get("trace") or []
            return [{"step": s, "w": w, "b": b, "loss": loss} for s, w, b, loss in trace]

    def _setting_message(self, name: str, value: Any) -> dict[str, Any]:
        return {"type": "set", name: value}

    def _frame(self) -> bytes | None:
        return frames.regression_frame(self._state)
