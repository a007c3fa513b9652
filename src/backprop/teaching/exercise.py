"""One step worked by hand in a notebook, and the check of the learner's numbers.

    step = Exercise(net, x, y, lr=0.5)   # the network before the step, one sample or a batch
    answers = step.blank()               # {"z-1-1": "", ..., "w-2-1-3": ""}: every number
    answers["d-2-1"] = "0.0467"          # what the learner worked out, as typed
    step.check(answers)                  # in Jupyter a table: right, wrong or refused, and why

The numbers of the backward pass and of the update (d-L-J, gb-L-J, g-L-J-K,
w-L-J-K, b-L-J) are checked by :func:`backprop.teaching.answers.check_answers`,
the checker of the lab's "check my answer": the same rounding rule, the same
hints, the same named mistakes. The forward pass's numbers (z-L-J and a-L-J,
of the ``sample``-th sample) are checked by the same rule: right when equal to
the float64 value rounded to the digits typed, at least three. A blank answer
is left out, so a learner can check one part of the step at a time.
"""

from __future__ import annotations

import html
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from backprop.errors import OptionError, OptionTypeError
from backprop.network import Network
from backprop.nn.layers import Dense
from backprop.teaching import reference
from backprop.teaching.answers import (
    KINDS,
    MIN_DIGITS,
    MISTAKES,
    Verdict,
    agrees,
    answer_keys,
    check_answers,
    quantity_name,
    read_answer,
    step_values,
)
from backprop.teaching.worked_step.compute import as_batch

#: The forward pass's numbers a learner can give: z_j^[l] and a_j^[l].
FORWARD_KINDS = ("z", "a")

#: Where to look again, by the equation a number comes from (a Verdict's ``equation``).
PLACES = {"forward": "the forward pass", "1": "equation (1)", "2": "equation (2)",
          "3": "equation (3)", "4": "equation (4)", "update": "the update"}


@dataclass(frozen=True)
class Checked:
    """The check of a learner's answers: one :class:`Verdict` per answer given, the forward
    pass's first (from layer 1 up), then the backward pass's (from the output layer down),
    and the keys left blank. Shown as a table in Jupyter, as text by ``print``."""

    verdicts: tuple[Verdict, ...]
    blank: tuple[str, ...]

    def by_verdict(self, verdict: str) -> list[Verdict]:
        """The verdicts that are "right", "wrong" or "refused"."""
        return [v for v in self.verdicts if v.verdict == verdict]

    @property
    def all_right(self) -> bool:
        """Every answer given is right (and at least one was given)."""
        return bool(self.verdicts) and all(v.verdict == "right" for v in self.verdicts)

    @property
    def mistakes(self) -> dict[str, str]:
        """The wrong answers that equal what a known mistake gives: key -> the mistake's name."""
        return {v.key: MISTAKES[v.mistake].name for v in self.verdicts
                if v.mistake is not None and MISTAKES[v.mistake].known}

    @property
    def hint(self) -> str | None:
        """The hint of the first wrong answer (the forward pass first, then from the output
        layer down: where the working first went off), or None."""
        return next((v.message for v in self.verdicts if v.verdict == "wrong"), None)

    def summary(self) -> str:
        if not self.verdicts:
            return ("Nothing checked yet: write your numbers between the quotes "
                    f"(at least {MIN_DIGITS} significant digits), then run the check again.")
        counts = [f"{len(self.by_verdict(kind))} {kind}" for kind in ("right", "wrong")]
        if self.by_verdict("refused"):
            counts.append(f"{len(self.by_verdict('refused'))} refused")
        blank = f"; {len(self.blank)} left blank" if self.blank else ""
        done = " All right." if self.all_right else ""
        return f"{', '.join(counts)} of {len(self.verdicts)} checked{blank}.{done}"

    def rows(self) -> list[list[str]]:
        """The table: number, your answer, verdict, where to look again, the known mistake."""
        rows = []
        for v in self.verdicts:
            place = PLACES.get(v.equation, v.equation) if v.verdict == "wrong" else ""
            mistake = ""
            if v.mistake is not None:
                named = MISTAKES[v.mistake]
                mistake = named.name if named.known else f"a slip: {named.name}"
            rows.append([v.name, v.answer, v.verdict, place, mistake])
        return rows

    def notes(self) -> list[str]:
        """What to read under the table: the hint of the first wrong answer (where to start
        again), then the reason of each refusal."""
        start = [f"Start here: {self.hint}"] if self.hint else []
        return start + [v.message for v in self.verdicts if v.verdict == "refused"]

    def __str__(self) -> str:
        header = ["number", "your answer", "verdict", "look again at", "known mistake"]
        table = [header, *self.rows()]
        widths = [max(len(row[i]) for row in table) for i in range(len(header))]
        lines = [self.summary()]
        if self.verdicts:
            lines += ["", *("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True))
                            .rstrip() for row in table)]
        if self.notes():
            lines += ["", *self.notes()]
        return "\n".join(lines)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(str(self))

    def _repr_html_(self) -> str:
        marks = {"right": "✓ right", "wrong": "✗ wrong", "refused": "? refused"}
        cell = '<td style="padding:2px 10px; white-space:nowrap">{}</td>'
        parts = [f"<p><strong>{html.escape(self.summary())}</strong></p>"]
        if self.verdicts:
            head = "".join(f'<th style="padding:2px 10px; text-align:left">{h}</th>' for h in
                           ("number", "your answer", "verdict", "look again at"))
            body = []
            for number, answer, verdict, place, mistake in self.rows():
                where = html.escape(place) + (f"<br><em>known mistake: {html.escape(mistake)}"
                                              "</em>" if mistake else "")
                body.append("<tr>" + "".join(cell.format(html.escape(text)) for text in
                                             (number, answer, marks[verdict]))
                            + f'<td style="padding:2px 10px">{where}</td></tr>')
            parts.append(f'<table style="width:auto"><thead><tr>{head}</tr></thead>'
                         f"<tbody>{''.join(body)}</tbody></table>")
        parts += [f"<p>{html.escape(note)}</p>" for note in self.notes()]
        return "\n".join(parts)


class Exercise:
    """One step of plain gradient descent on (x, y) at rate ``lr``, for a learner to work by
    hand and check: :meth:`blank` lists the numbers, :meth:`check` judges them.

    Arguments:
        net: the network before the step (read, never changed); Dense layers only.
        x: one sample (n_inputs,) or a batch (m, n_inputs).
        y: its targets, as ``bp.explain`` takes them.
        lr: the learning rate η of the update.
        sample: the sample (from 1) whose z, a and δ the answers give.
    """

    def __init__(self, net: Network, x: Any, y: Any, lr: float, *, sample: int = 1) -> None:
        if not isinstance(net, Network):
            raise OptionTypeError(f"Exercise needs a Network, got {type(net).__name__}")
        self.net, self.lr, self.sample = net, lr, sample
        self.X, self.Y = as_batch(net, x, y)
        check_answers(net, self.X, self.Y, lr, {}, sample=sample)  # the arguments, checked once

    @property
    def dense(self) -> list[Dense]:
        return [layer for layer in self.net.layers if isinstance(layer, Dense)]

    def forward_values(self) -> dict[str, float]:
        """z_j^[l] and a_j^[l] of the ``sample``-th sample, keyed z-L-J and a-L-J, in float64."""
        step = reference.reference_step(self.net, self.X, self.Y)
        values: dict[str, float] = {}
        for index, (z, a) in enumerate(zip(step.zs, step.activations[1:], strict=True)):
            for j in range(z.shape[1]):
                values[f"z-{index + 1}-{j + 1}"] = float(z[self.sample - 1, j])
                values[f"a-{index + 1}-{j + 1}"] = float(a[self.sample - 1, j])
        return values

    def keys(self, kinds: Collection[str] = (*FORWARD_KINDS, *KINDS),
             layers: Collection[int] | None = None) -> list[str]:
        """The keys of the numbers of these kinds (and layers, from 1): the forward pass's
        from layer 1 up (per layer each z, then each a), then the others from the output
        layer down, as :func:`backprop.teaching.answers.answer_keys` orders them."""
        unknown = [kind for kind in kinds if kind not in (*FORWARD_KINDS, *KINDS)]
        if unknown:
            raise OptionError(f"kind {unknown[0]!r} is not one of "
                              f"{', '.join((*FORWARD_KINDS, *KINDS))}")
        forward = [f"{kind}-{number}-{j}"
                   for number, layer in enumerate(self.dense, start=1)
                   if layers is None or number in layers
                   for kind in FORWARD_KINDS if kind in kinds
                   for j in range(1, layer.n_out + 1)]
        return forward + answer_keys(self.net, [k for k in kinds if k in KINDS], layers)

    def blank(self, kinds: Collection[str] = (*FORWARD_KINDS, *KINDS),
              layers: Collection[int] | None = None) -> dict[str, str]:
        """An empty answer for each number of these kinds and layers, to fill in."""
        return dict.fromkeys(self.keys(kinds, layers), "")

    def values(self) -> dict[str, float]:
        """Every number of the step in float64 (the answers' values), by key."""
        return self.forward_values() | step_values(self.net, self.X, self.Y, self.lr,
                                                   sample=self.sample)

    def check(self, answers: Mapping[str, str | float | None]) -> Checked:
        """Judge the answers given; blank ones ("" or None) are left out and listed."""
        if not isinstance(answers, Mapping):
            raise OptionTypeError(f"answers must be a dict of key -> number as typed, "
                                  f"got {type(answers).__name__}")
        order = self.keys()
        for key in answers:
            if key not in order:
                raise OptionError(f"answer {key!r}: this step has no such number; its keys "
                                  f"are {order[0]} to {order[-1]} (see blank())")
        given = {key: value for key, value in answers.items()
                 if not (value is None or (isinstance(value, str) and not value.strip()))}
        blank = tuple(key for key in order if key in answers and key not in given)
        forward_values = self.forward_values()
        forward = [_forward_verdict(key, given[key], forward_values, self.dense)
                   for key in order if key in forward_values and key in given]
        backward = check_answers(self.net, self.X, self.Y, self.lr,
                                 {k: v for k, v in given.items() if k not in forward_values},
                                 sample=self.sample)
        return Checked(tuple(forward + backward), blank)


def _forward_verdict(key: str, given: str | float | None, values: dict[str, float],
                     dense: list[Dense]) -> Verdict:
    """A z or an a of the forward pass, judged by the checker's rule; the hint gives the
    equation, written for that number, and says when the value is the other of z and a."""
    if isinstance(given, bool) or not isinstance(given, str | int | float):
        raise OptionTypeError(f"answer {key!r} must be text or a number, got {given!r}")
    text = given.strip() if isinstance(given, str) else repr(given)
    kind, layer, unit = key.split("-")
    name, expected = quantity_name(key), values[key]
    reading = read_answer(text)

    def made(verdict: str, digits: int, message: str) -> Verdict:
        return Verdict(key, name, text, verdict, expected, digits, "forward", message)

    if reading is None:
        return made("refused", 0, f"{name}: “{text}” is not a number; write it like 0.0123 "
                                  "or 1.23e-2.")
    if 0 < reading.digits < MIN_DIGITS:
        return made("refused", reading.digits, f"{name}: “{text}” has {reading.digits} "
                    f"significant digit{'s' if reading.digits > 1 else ''}; give at least "
                    "three.")
    if agrees(reading, expected):
        return made("right", reading.digits, "")
    j, number = int(unit), int(layer)
    bias = f" + b_{j}^[{number}]" if dense[number - 1].b is not None else ""
    activation = dense[number - 1].activation.name
    if kind == "z":
        equation = (f"z_{j}^[{number}] = Σ_k w_{j}k^[{number}] a_k^[{number - 1}]{bias}, "
                    f"with a^[0] = x")
        other, said = f"a-{layer}-{unit}", f"a_{j}^[{number}] = σ(z_{j}^[{number}])"
        why = "recompute each product w·a and their sum"
    else:
        equation = f"a_{j}^[{number}] = σ(z_{j}^[{number}]), σ = {activation}"
        other, said = f"z-{layer}-{unit}", f"z_{j}^[{number}], the value before σ"
        why = f"recompute z_{j}^[{number}], then {activation} of it"
    if agrees(reading, values[other]):
        why = f"your value is {said}"
    return made("wrong", reading.digits,
                f"{name} = {text} is not right. It comes from the forward pass: {equation}. "
                f"{why[0].upper()}{why[1:]}.")

