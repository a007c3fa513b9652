"""/sandbox's page class: the messages of :mod:`backprop.lab.sandbox.protocol` acted on by a
:class:`~backprop.lab.sandbox.state.Sandbox`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, ClassVar

from pydantic import TypeAdapter

from backprop.lab.protocol import Message, Reply, error_reply
from backprop.lab.sandbox import protocol as msg
from backprop.lab.sandbox.state import Architecture, Sandbox, SandboxError
from backprop.lab.session import Page


class SandboxPage(Page):
    name = "sandbox"
    static = Path(__file__).resolve().parent / "static"
    title = "Sandbox: the four equations, number by number"
    summary = ("a small network with every z, a, δ, w and ∂L/∂w shown; check your own "
               "answers, step, download the trace, check against central differences, "
               "break the backward pass")
    messages: ClassVar[TypeAdapter[Any]] = msg.SANDBOX_MESSAGES

    def __init__(self) -> None:
        super().__init__()
        self.sandbox = Sandbox()
        #: One line telling the learner what the last action did by itself.
        self.note: str | None = None

    def state(self) -> Reply:
        return {"type": "state", **self.sandbox.state(), "note": self.note}

    def handle(self, message: Message) -> list[Reply]:
        self.note = None
        try:
            reply = self._act(message)
        except SandboxError as error:
            return [error_reply(error.field, str(error))]
        return [reply] if reply is not None else [self.state()]

    def _act(self, message: Message) -> Reply | None:
        sandbox = self.sandbox
        if isinstance(message, msg.ChoosePreset):
            sandbox.load_preset(message.name)
        elif isinstance(message, msg.Configure):
            sandbox.configure(Architecture(list(message.widths), list(message.activations),
                                           message.loss, message.bias, message.init,
                                           message.seed))
        elif isinstance(message, msg.SetParameter):
            sandbox.set_parameter(message.layer, message.name, message.unit, message.source,
                                  message.value)
        elif isinstance(message, msg.SetWeights):
            self.note = sandbox.set_weights([layer.model_dump() for layer in message.layers])
        elif isinstance(message, msg.PasteWeights):
            self.note = sandbox.paste_weights(message.text)
        elif isinstance(message, msg.AnswerMode):
            sandbox.set_answer_mode(message.on, list(message.ask),
                                    None if message.layers is None else list(message.layers))
        elif isinstance(message, msg.SubmitAnswers):
            sandbox.submit_answers(dict(message.answers))
        elif isinstance(message, msg.SetSample):
            sandbox.set_sample(message.index, list(message.x), list(message.y))
        elif isinstance(message, msg.AddSample):
            sandbox.add_sample()
        elif isinstance(message, msg.RemoveSample):
            sandbox.remove_sample(message.index)
        elif isinstance(message, msg.SelectSample):
            sandbox.select_sample(message.index)
        elif isinstance(message, msg.SetLearningRate):
            sandbox.set_lr(message.lr)
        elif isinstance(message, msg.BreakBackward):
            self.note = sandbox.set_rule(message.rule)
        elif isinstance(message, msg.Step):
            sandbox.step()
        elif isinstance(message, msg.Check):
            sandbox.run_check()
        elif isinstance(message, msg.Download):
            return self._download(message.what)
        return None

    def _download(self, what: str) -> Reply:
        """A file for the page to save: content, a file name and its media type."""
        if what == "weights":
            content = json.dumps(self.sandbox.weights_json(), indent=2) + "\n"
            name, media = "weights.json", "application/json"
        elif what == "trace-markdown":
            content = self.sandbox.trace().to_markdown() + "\n"
            name, media = "trace.md", "text/markdown"
        else:
            content = self.sandbox.trace().to_json() + "\n"
            name, media = "trace.json", "application/json"
        return {"type": "download", "what": what, "filename": name, "media_type": media,
                "content": content}
