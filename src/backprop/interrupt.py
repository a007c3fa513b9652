"""Ctrl-C in the first moments of the ``backprop`` command: one line, exit status 130.

Importing the package (NumPy and every module) takes a noticeable time
before :func:`backprop.cli.entry.main` can catch KeyboardInterrupt. When the
process is the command (``backprop ...`` or ``python -m backprop ...``),
:func:`install_early` — run by the package's first lines — answers SIGINT by
printing ``backprop: interrupted`` and exiting with 130 at once (nothing
has been written yet); ``main`` then hands SIGINT back to Python, so Ctrl-C
raises KeyboardInterrupt where the command can clean up.
"""

from __future__ import annotations

import os
import signal
import sys
from types import FrameType

#: The line a Ctrl-C leaves on stderr, and the exit status (128 + SIGINT).
INTERRUPTED = "backprop: interrupted"
INTERRUPTED_STATUS = 130


def is_the_command() -> bool:
    """True when this process runs the ``backprop`` command, not a user's program."""
    words = iter(getattr(sys, "orig_argv", sys.argv)[1:])
    for word in words:  # the interpreter's own options, up to the module or script
        if word == "-m":
            return next(words, None) == "backprop"
        if word == "-c" or not word.startswith("-"):
            break
        if word in ("-X", "-W"):  # an option with a value of its own: -X importtime
            next(words, None)
    return os.path.basename(sys.argv[0]) == "backprop"


def exit_interrupted(signum: int, frame: FrameType | None) -> None:
    """The early SIGINT handler: the one line, then exit 130 without unwinding."""
    os.write(2, (INTERRUPTED + "\n").encode())
    os._exit(INTERRUPTED_STATUS)


def install_early() -> None:
    """Answer SIGINT with :func:`exit_interrupted` while the command is still loading."""
    if is_the_command():
        signal.signal(signal.SIGINT, exit_interrupted)


def raise_keyboard_interrupt() -> None:
    """Give SIGINT back to Python's own handler (KeyboardInterrupt) once main is ready."""
    if signal.getsignal(signal.SIGINT) is exit_interrupted:
        signal.signal(signal.SIGINT, signal.default_int_handler)
