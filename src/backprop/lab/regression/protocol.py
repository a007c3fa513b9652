"""/regression's messages: the data, the training settings, the run.

One pydantic model per verb, checked as :mod:`backprop.lab.protocol` describes.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from backprop.lab.protocol import MAX_MESSAGE_BYTES, MAX_POINTS, Message

#: Largest |x|, |y|, w, b a message may carry on /regression.
MAX_COORDINATE = 1e4
#: Largest learning rate the regression page accepts.
MAX_LR = 100.0
#: Most optimizer steps per second (and per "step" message).
MAX_SPEED = 1000.0


Coordinate = Annotated[float, Field(ge=-MAX_COORDINATE, le=MAX_COORDINATE)]
PointIndex = Annotated[int, Field(ge=0, lt=MAX_POINTS)]


class Generate(Message):
    """Replace the data by n points y = w*·x + b* + noise, x uniform in [x_min, x_max]."""

    type: Literal["generate"]
    w_true: Coordinate = 1.5
    b_true: Coordinate = -1.0
    noise: float = Field(default=0.5, ge=0.0, le=MAX_COORDINATE)
    n: int = Field(default=40, ge=1, le=MAX_POINTS)
    x_min: Coordinate = 0.0
    x_max: Coordinate = 4.0
    seed: int = Field(default=0, ge=0, le=2**32 - 1)


class AddPoint(Message):
    type: Literal["add_point"]
    x: Coordinate
    y: Coordinate


class MovePoint(Message):
    type: Literal["move_point"]
    index: PointIndex
    x: Coordinate
    y: Coordinate


class RemovePoint(Message):
    type: Literal["remove_point"]
    index: PointIndex


class LoadCsv(Message):
    """Replace the data by the rows of a CSV text: x,y per line (a header line is allowed)."""

    type: Literal["load_csv"]
    text: str = Field(max_length=MAX_MESSAGE_BYTES)


class DownloadCsv(Message):
    type: Literal["download_csv"]


class Settings(Message):
    """Change any of the training settings; fields left out stay as they are."""

    type: Literal["set"]
    lr: float | None = Field(default=None, gt=0.0, le=MAX_LR)
    momentum: float | None = Field(default=None, ge=0.0, lt=1.0)
    batch_mode: Literal["full", "mini", "online"] | None = None
    batch_size: int | None = Field(default=None, ge=1, le=MAX_POINTS)
    speed: float | None = Field(default=None, ge=1.0, le=MAX_SPEED)
    scale: bool | None = None


class Step(Message):
    """Take ``count`` optimizer steps now (paused)."""

    type: Literal["step"]
    count: int = Field(default=1, ge=1, le=int(MAX_SPEED))


class Reset(Message):
    """Parameters back to the start point, optimizer state, path and step count cleared."""

    type: Literal["reset"]


class SetStart(Message):
    """Move the start point (w, b in the units being trained) and reset the run there."""

    type: Literal["set_start"]
    w: Coordinate
    b: Coordinate
