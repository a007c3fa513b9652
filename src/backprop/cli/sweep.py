"""``backprop sweep CONFIG.toml``: a grid or random search over train's options.

The trials go to a Dask cluster: the one at ``--scheduler ADDRESS``, or a local
cluster of ``--workers N`` processes with one thread each (default: one per
core); ``--serial`` runs them here, one after another. Each finished trial is
printed as a row and OUT/sweep.json is rewritten; the best trial by the
validation metric is reported at the end. The search itself is
``backprop.sweep``'s.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import logging
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

from backprop.cli import train
from backprop.cli.common import prepare_out
from backprop.cli.option_kinds import at_least, flag, text, whole
from backprop.cli.options import Options, add_command, argument, option
from backprop.errors import DataError, DivergenceError, ModelFileError
from backprop.sweep import (
    MAXIMIZED,
    SweepConfig,
    SweepConfigError,
    TrialResult,
    best_trial,
    choose_metric,
    load_config,
    run_sweep,
    train_arguments,
    trial_params,
    worker_address,
)
from backprop.version import install_hint

DASK_MISSING = f"the sweep needs Dask: {install_hint('dask')}"
#: What ends a trial as a user mistake (a failed trial, not retried): train's refusals.
TRIAL_USER_ERRORS: tuple[type[BaseException], ...] = (
    DataError, ModelFileError, DivergenceError, ValueError, TypeError, FileNotFoundError,
    PermissionError)


# -- one trial: the train command, in this process ------------------------------
class TrainOptionError(ValueError):
    """train's argument parser refused a trial's command line."""


class TrainParser(argparse.ArgumentParser):
    """An argument parser whose errors raise TrainOptionError instead of exiting."""

    def error(self, message: str) -> NoReturn:
        raise TrainOptionError(message)


class TrialCrashed(RuntimeError):
    """train stopped without finishing and without a user error: Dask retries it."""


def train_parser() -> argparse.ArgumentParser:
    """The ``backprop train`` subcommand, as the command line builds it."""
    parser = TrainParser(prog="backprop")
    train.add_parser(parser.add_subparsers(dest="command"))
    return parser


def train_command(argv: list[str]) -> int:
    """``backprop train ARGV`` in this process; its exit status (user errors raise)."""
    args = train_parser().parse_args(["train", *argv])
    status: int = args.run(args)
    return status


def run_trial(argv: list[str], blas_threads: int | Mapping[str, int] | None = None
              ) -> dict[str, Any]:
    """Run ``backprop train ARGV`` here with BLAS pinned to ``blas_threads`` threads (a
    number, or one per worker address as ``sweep.thread_budgets`` gives, 1 for a worker
    missing from it; None: no limit); return its metrics.json's results and how it ran.

    A user error is a failed trial, {"error": message}; anything else that stops
    train propagates (TrialCrashed for an early exit), so that Dask retries it.
    """
    from threadpoolctl import threadpool_info, threadpool_limits

    worker = worker_address()
    budget = blas_threads
    if isinstance(blas_threads, Mapping):
        budget = blas_threads.get(worker, 1) if worker is not None else None
    start = time.perf_counter()
    with threadpool_limits(limits=budget), contextlib.redirect_stdout(io.StringIO()):
        threads = max((p["num_threads"] for p in threadpool_info()), default=None)
        try:
            status = train_command(argv)
        except TRIAL_USER_ERRORS as error:
            return {"error": str(error), "seconds": time.perf_counter() - start,
                    "worker": worker}
    if status != 0:
        raise TrialCrashed(f"backprop train stopped with exit status {status}")
    out = Path(next(a for a in argv if a.startswith("--out=")).removeprefix("--out="))
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    return {"final": metrics["final"], "test": metrics["test"],
            "seconds": time.perf_counter() - start, "worker": worker,
            "blas_threads": threads}


def check_train_options(config: SweepConfig, source: str = "config") -> None:
    """SweepConfigError naming every key that ``backprop train`` has no option for."""
    unknown: list[str] = []
    for name in [*config.fixed, *config.space]:
        given = config.fixed.get(name, config.space.get(name))
        value = given[0] if isinstance(given, list) and given else given
        probe = train_arguments("data", {name: value if isinstance(value, bool) else "1"}, "o")
        try:
            _, extra = train_parser().parse_known_args(["train", *probe])
        except TrainOptionError:
            extra = [name]
        if extra:
            unknown.append(name)
    if unknown:
        where = ["fixed." + n if n in config.fixed else "search." + n for n in unknown]
        raise SweepConfigError(f"{source}: {', '.join(where)}: not an option of backprop "
                               "train (see backprop train --help)")


def _sweep_folder(config_file: str) -> str:
    return str(Path("runs") / f"sweep-{Path(config_file).stem}")


@dataclass(frozen=True, kw_only=True)
class SweepOptions(Options):
    """Where the trials run (one of --scheduler, --workers, --serial) and what is written."""

    config_file: str = argument("the sweep's TOML file", metavar="CONFIG.toml")
    scheduler: str | None = option(text, None, "a running Dask scheduler, e.g. tcp://host:8786",
                                   metavar="ADDRESS", exclusive="cluster")
    workers: int | None = option(whole, None, "local cluster of N worker processes, 1 thread "
                                 "each", check=at_least(1), shown="one per core", metavar="N",
                                 exclusive="cluster")
    serial: bool = option(flag, False, "run the trials here one after another, without Dask",
                          exclusive="cluster")
    out: str = option(text, _sweep_folder, "output directory", shown="runs/sweep-CONFIG")
    quiet: bool = option(flag, False, "print only the best trial")


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``sweep`` subcommand to an argparse subparsers object."""
    return add_command(
        subparsers, "sweep", SweepOptions, run,
        help="grid or random search over train's options, on a Dask cluster",
        description="Run a grid or random search over backprop train's options, each trial "
        "a training run, on a Dask cluster (a local one by default). Writes sweep.json "
        "and one folder per trial into --out.",
    )


@contextlib.contextmanager
def dask_client(o: SweepOptions) -> Iterator[Any]:
    """A Client of the cluster the options name (None with --serial), closed afterwards."""
    if o.serial:
        yield None
        return
    try:
        from dask.system import CPU_COUNT
        from distributed import Client, LocalCluster
    except ImportError:
        raise SweepConfigError(DASK_MISSING) from None
    if o.scheduler:
        try:
            client = Client(o.scheduler, timeout="10s")  # type: ignore[no-untyped-call]
        except (OSError, TimeoutError, ValueError) as error:
            raise SweepConfigError(
                f"--scheduler {o.scheduler}: cannot reach a Dask scheduler there ({error})"
            ) from None
        with client:
            yield client
        return
    workers = CPU_COUNT if o.workers is None else o.workers
    cluster = LocalCluster(  # type: ignore[no-untyped-call]
        n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
        silence_logs=logging.ERROR)
    with cluster, Client(cluster) as client:  # type: ignore[no-untyped-call]
        yield client


# -- the sweep ------------------------------------------------------------------
class Display:
    """A progress bar with one printed row per finished trial (rich), or plain lines."""

    def __init__(self, config: SweepConfig, total: int, *, quiet: bool) -> None:
        self.names = list(config.space)
        self.config = config
        self.quiet = quiet
        self.results: list[TrialResult] = []
        self.console: Any = None
        self.bar: Any = None
        self.task: Any = None
        if quiet:
            return
        try:
            import rich.console
            import rich.progress as rp
        except ImportError:
            return
        self.console = rich.console.Console(stderr=False, highlight=False)
        self.bar = rp.Progress(rp.TextColumn("trials"), rp.BarColumn(),
                               rp.MofNCompleteColumn(), rp.TimeElapsedColumn(),
                               console=self.console, transient=True)
        self.task = self.bar.add_task("trials", total=total)

    def __enter__(self) -> Display:
        if self.bar is not None:
            self.bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()

    def row(self, result: TrialResult, metric: str) -> str:
        params = "  ".join(f"{n}={result.params[n]}" for n in self.names)
        if result.status != "ok":
            return f"trial {result.trial:>3}  {params}  FAILED: {result.error}"
        value = result.value(metric)
        shown = "n/a" if value is None else f"{value:.4f}"
        return f"trial {result.trial:>3}  {params}  {metric} {shown}  {result.seconds:.1f}s"

    def __call__(self, result: TrialResult) -> None:
        self.results.append(result)
        if self.quiet:
            return
        line = self.row(result, choose_metric(self.config, self.results))
        if self.console is None:
            print(line, flush=True)
            return
        self.console.print(line, markup=False)
        self.bar.advance(self.task)

    def table(self, metric: str) -> None:
        """Every trial, best first, as a rich table (plain lines without rich)."""
        if self.quiet:
            return
        sign = -1.0 if metric.removeprefix("val_") in MAXIMIZED else 1.0
        order = sorted(self.results, key=lambda r: (
            r.value(metric) is None, sign * (r.value(metric) or 0.0), r.trial))
        if self.console is None:
            for result in order:
                print(self.row(result, metric))
            return
        import rich.table

        table = rich.table.Table(title=f"{len(self.results)} trials, by {metric}")
        for column in ("trial", *self.names, metric, "seconds", "status"):
            table.add_column(column)
        for r in order:
            value = r.value(metric)
            table.add_row(str(r.trial), *(str(r.params[n]) for n in self.names),
                          "" if value is None else f"{value:.4f}", f"{r.seconds:.1f}",
                          "ok" if r.status == "ok" else f"failed: {r.error}")
        self.console.print(table)


def run(o: SweepOptions) -> int:
    try:
        config = load_config(o.config_file)
        check_train_options(config, source=o.config_file)
        out = prepare_out(o.out)
        total = len(trial_params(config))
        with dask_client(o) as client, Display(config, total, quiet=o.quiet) as display:
            results = run_sweep(config, out, run_trial, client=client, on_result=display)
    except SweepConfigError as error:
        print(f"backprop: error: {error}", file=sys.stderr)
        return 2
    metric = choose_metric(config, results)
    display.table(metric)
    best = best_trial(results, metric)
    failed = sum(r.status != "ok" for r in results)
    if best is None:
        print(f"backprop: error: no trial reported {metric} ({failed} of {total} failed); "
              f"see {out / 'sweep.json'}", file=sys.stderr)
        return 2
    options = "  ".join(f"{k}={v}" for k, v in best.params.items())
    value = best.value(metric)
    print(f"best: trial {best.trial}  {options}  {metric} {value:.4f}"
          f"{f' ({failed} of {total} trials failed)' if failed else ''}; "
          f"model in {best.out}; wrote {out / 'sweep.json'}")
    return 0
