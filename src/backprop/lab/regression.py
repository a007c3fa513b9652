"""/regression: gradient descent on one linear unit, y = w·x + b with ½ MSE (placeholder)."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import TypeAdapter

from .protocol import Message, Ping, Reply, message_union
from .session import Page


class RegressionPage(Page):
    name = "regression"
    title = "Gradient descent on a line"
    summary = "fit y = w·x + b by gradient descent; loss surface, path and stability"
    messages: ClassVar[TypeAdapter[Any]] = message_union(Ping)

    def state(self) -> Reply:
        return {"type": "state", "page": self.name}

    def handle(self, message: Message) -> list[Reply]:
        return [self.state()]
