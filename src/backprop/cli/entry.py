"""The ``backprop`` command.

A user's mistake (a bad name, file, shape, value or option) ends in a one-line
message on stderr, ``backprop: error: ...``, and exit status 2, without a
traceback: these are the library's :class:`~backprop.errors.BackpropError`,
argparse's own errors, and OSError for the files the user named. Anything
else is a bug: its traceback is shown, followed by a line asking to report
it, and the exit status is 1. Running out of memory comes from a size the user asked
for: one line with the command and the size that could not be allocated, exit status 2.
Ctrl-C ends with ``backprop: interrupted`` and exit status 130, from the first moments on
(:mod:`backprop.interrupt`).
``--debug`` shows the traceback of a user's mistake too. NumPy's
RuntimeWarnings are not shown (every value is checked by the library); other
warnings are one line each, ``backprop: warning: ...``.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import traceback
import warnings
from collections.abc import Callable, Sequence
from typing import NoReturn

from backprop import __version__
from backprop.cli import (
    bench,
    datasets,
    demo,
    diagnose,
    evaluate,
    explain,
    export,
    gradcheck,
    lab,
    predict,
    sweep,
    train,
)
from backprop.errors import BackpropError
from backprop.interrupt import INTERRUPTED, INTERRUPTED_STATUS, raise_keyboard_interrupt
from backprop.limits import out_of_memory

#: The subcommands, in the order --help lists them: each module has add_parser(subparsers).
SUBCOMMANDS = (
    demo, explain, train, diagnose, evaluate, predict, datasets, bench, gradcheck, sweep, export,
    lab,
)
#: The line after a bug's traceback.
REPORT_LINE = "backprop: internal error: please report this with the command you ran"

Command = Callable[[argparse.Namespace], int]


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors: ``backprop: error: ...`` and exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"backprop: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="backprop",
        description="Train multi-layer perceptrons by backpropagation.",
    )
    parser.add_argument("--version", action="version", version=f"backprop {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of errors")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in SUBCOMMANDS:
        command.add_parser(commands)
    for command_parser in commands.choices.values():  # so an error can name its --help
        command_parser.set_defaults(command_parser=command_parser)
    return parser


def user_message(error: BaseException) -> str:
    """The one line that tells the user what went wrong."""
    if isinstance(error, OSError) and error.filename is not None:
        return f"{error.filename}: {error.strerror or type(error).__name__}"
    return str(error) or type(error).__name__


def _one_line_warning(message: Warning | str, category: type[Warning], filename: str,
                      lineno: int, file: object = None, line: str | None = None) -> None:
    print(f"backprop: warning: {message}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    debug = False
    words = list(sys.argv[1:] if argv is None else argv)
    try:
        raise_keyboard_interrupt()  # from here on Ctrl-C unwinds, cleaning up as it goes
        with warnings.catch_warnings():
            # NumPy's RuntimeWarnings (overflow, ComplexWarning) are noise around the one
            # error line: the library checks every value itself; its own warnings are one line
            warnings.simplefilter("ignore", RuntimeWarning)
            warnings.showwarning = _one_line_warning
            parser = build_parser()
            if words[:1] == ["bench"] and words[1:2] != ["-h"]:
                # bench/run.py parses its own options; hand them over untouched
                args = parser.parse_args(["bench"])
                args.bench_args = words[1:]
            else:
                args, unknown = parser.parse_known_args(words)
                if unknown:  # named by the subcommand's parser: its --help lists the options
                    command_parser = getattr(args, "command_parser", parser)
                    command_parser.error(f"unrecognized arguments: {' '.join(unknown)}")
            debug = bool(getattr(args, "debug", False))
            run: Command | None = getattr(args, "run", None)
            if run is None:
                parser.print_help()
                return 0
            return run(args)
    except KeyboardInterrupt:
        print(INTERRUPTED, file=sys.stderr)
        return INTERRUPTED_STATUS
    except (BackpropError, OSError) as error:  # the user's mistake
        if debug:
            traceback.print_exc()  # then the same line and status as without --debug
        print(f"backprop: error: {user_message(error)}", file=sys.stderr)
        return 2
    except MemoryError as error:  # more than this machine holds: the command names the sizes
        if debug:
            traceback.print_exc()
        print(f"backprop: error: {out_of_memory(shlex.join(['backprop', *words]), error)}; "
              "ask for less (a smaller file, batch or network; data streamed from disk holds "
              "less with a smaller --memory-budget or BACKPROP_MEMORY_BUDGET)", file=sys.stderr)
        return 2
    except Exception:  # a bug: show where it happened
        traceback.print_exc()
        print(REPORT_LINE, file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
