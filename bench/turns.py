"""Every system's subprocess at once, taking turns through pipes: one works, the others wait."""

from __future__ import annotations

import json
import os
import select as io_select
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.launch import ROOT, child_command, child_env, child_result

#: A process counts as idle once its CPU time has not grown for this long (seconds)...
IDLE_QUIET_S = 0.06
#: ... and the parent waits at most this long for that, or this long where it cannot tell.
IDLE_LIMIT_S = 1.0


def _cpu_ticks(pid: int) -> int | None:
    """User + system CPU time of process ``pid`` in clock ticks (/proc), or None."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return int(fields[11]) + int(fields[12])  # utime, stime: fields 14 and 15 of stat


def wait_idle(pid: int) -> None:
    """Return once process ``pid`` has stopped using the CPU.

    A process that has just said it is ready may still have BLAS or OpenMP
    worker threads spinning in wait for more work (OpenBLAS spins about 0.1 s);
    they would steal the next system's first moments on a 2-core machine.
    """
    deadline = time.perf_counter() + IDLE_LIMIT_S
    last, quiet_since = _cpu_ticks(pid), time.perf_counter()
    if last is None:
        time.sleep(IDLE_LIMIT_S)
        return
    while time.perf_counter() < deadline:
        time.sleep(0.01)
        ticks = _cpu_ticks(pid)
        if ticks is None:
            return
        if ticks != last:
            last, quiet_since = ticks, time.perf_counter()
        elif time.perf_counter() - quiet_since >= IDLE_QUIET_S:
            return


class _Turns:
    """One system's child process and the two pipes it takes turns through."""

    def __init__(self, system: str, cmd: list[str], env: dict[str, str], log: Path) -> None:
        self.system = system
        child_go, self.go = os.pipe()  # parent writes "g": go on
        self.ready, child_ready = os.pipe()  # child writes "r": done, ready for the next go
        self.log = log.open("w")
        try:
            self.proc = subprocess.Popen(
                [*cmd, "--turns", f"{child_go},{child_ready}"],
                cwd=ROOT,
                env=env,
                stdout=self.log,
                stderr=subprocess.STDOUT,
                pass_fds=(child_go, child_ready),
            )
        except OSError:
            for fd in (self.go, self.ready):
                os.close(fd)
            self.log.close()
            raise
        finally:
            os.close(child_go)
            os.close(child_ready)
        self.timed_out = False
        #: What it stopped in when it timed out: its setup or a turn.
        self.stage = "setup"

    def wait_ready(self, timeout: float | None) -> bool:
        """Wait until the child is ready for a go (True) or has ended (False)."""
        readable, _, _ = io_select.select([self.ready], [], [], timeout)
        if not readable:
            self.timed_out = True
            self.proc.kill()
            return False
        return os.read(self.ready, 1) == b"r"

    def go_on(self) -> None:
        self.stage = "one turn"
        os.write(self.go, b"g")

    def close(self, kill: bool = False) -> int:
        """Wait for the child to end (killing it first with ``kill``); release its pipes."""
        if kill and self.proc.poll() is None:
            self.proc.kill()
        returncode = self.proc.wait()
        for fd in (self.go, self.ready):
            os.close(fd)
        self.log.close()
        return returncode


def _take_turns(children: list[_Turns], timeout: float | None) -> None:
    """Wait for every child's setup, then give turns round them until all have ended."""
    waiting = [c for c in children if c.wait_ready(timeout)]
    for child in waiting:
        wait_idle(child.proc.pid)
    while waiting:
        for child in list(waiting):
            try:
                child.go_on()
            except BrokenPipeError:  # it ended (crashed) while waiting
                waiting.remove(child)
                continue
            if not child.wait_ready(timeout):
                waiting.remove(child)
            else:
                wait_idle(child.proc.pid)  # its threads asleep before the next one goes


def run_interleaved(
    systems: list[str], spec: dict[str, Any], threads: int, timeout: float | None
) -> dict[str, dict[str, Any]]:
    """Every system's child at once, taking turns: one works, the others wait.

    Each child loads its data and builds its model, then waits. The parent
    then hands out turns round the systems: an epoch (with the untimed test
    after it) for each in turn, then the next epoch, and finally inference.
    A waiting child blocks on a pipe and uses no CPU, so each timed part has
    the machine to itself, as with one child after another; but the
    machine's drift in speed over minutes now falls on every system alike
    instead of on whichever ran when it was slow. ``timeout``: seconds one
    child may take for its setup or for one turn.
    """
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        folder = Path(tmp)
        spec_path = folder / "spec.json"
        spec_path.write_text(json.dumps(spec))
        env = child_env(threads)
        children: list[_Turns] = []
        finished = False
        try:
            for s in systems:
                out = folder / f"{s}.json"
                cmd = child_command(s, threads, spec_path, out)
                children.append(_Turns(s, cmd, env, folder / f"{s}.log"))
            _take_turns(children, timeout)
            finished = True
        finally:  # on an error or Ctrl-C here, no child is left running
            returncodes = [child.close(kill=not finished) for child in children]
        results: dict[str, dict[str, Any]] = {}
        for child, returncode in zip(children, returncodes, strict=True):
            if child.timed_out:
                reason = f"timed out after {timeout} s in its {child.stage}"
                results[child.system] = {"system": child.system, "status": "error"}
                results[child.system]["reason"] = reason
                continue
            output = (folder / f"{child.system}.log").read_text()
            results[child.system] = child_result(
                child.system, folder / f"{child.system}.json", output, returncode
            )
    return results
