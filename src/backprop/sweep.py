"""Hyperparameter sweeps: a grid or random search over ``backprop train``'s options.

A sweep is a list of trials; a trial is one ``backprop train`` command line
(the dataset, the fixed options, and one value per searched option), run by a
trial function (the command's runs train in-process). :func:`run_sweep` runs
the trials one after another, or hands them to a Dask cluster (``dask.distributed.Client``): the
scheduling, retries and worker failures are Dask's, none is this module's.

The configuration is a TOML file::

    dataset = "moons"            # a name or a path (relative to the TOML file)
    metric = "val_accuracy"      # optional: val_accuracy (classification) or val_loss
    n_trials = 20                # present: random search; absent: grid search
    seed = 0                     # random search: the sampler's seed

    [fixed]                      # options every trial gets
    epochs = 30
    validation_split = 0.2       # default 0.2: the trials are ranked on validation data

    [search]                     # grid: a list per option; random: a list or a distribution
    lr = [0.001, 0.01, 0.1]
    layers = [[16], [32, 32]]
    dropout = { uniform = [0.0, 0.5] }       # random search only
    # also { log_uniform = [lo, hi] }, { int_uniform = [lo, hi] }, { choice = [...] }

Keys in [fixed] and [search] are ``backprop train``'s long option names
(dashes or underscores); out, quiet, json_lines, plots and config belong to
the sweep.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from backprop.errors import OptionError
from backprop.files.io import read_toml, write_atomically

#: train options that the sweep sets itself, for every trial.
RESERVED = ("out", "quiet", "json_lines", "plots", "config")
TOP_LEVEL = ("dataset", "metric", "n_trials", "seed", "fixed", "search")
DISTRIBUTIONS = ("uniform", "log_uniform", "int_uniform", "choice")
#: Metrics that are better when larger (the rest are minimized), as EarlyStopping reads them.
MAXIMIZED = ("accuracy", "r2")


class SweepConfigError(OptionError):
    """A sweep configuration that cannot be run; the message names the file and key."""


@dataclass(frozen=True)
class SweepConfig:
    """A parsed sweep: the dataset, options fixed for every trial, and the search space.

    ``space`` maps an option to a list of values (grid, or uniform choice in a
    random search) or to a distribution table {kind: [lo, hi]}. ``n_trials``
    is None for a grid search.
    """

    dataset: str
    fixed: dict[str, Any]
    space: dict[str, Any]
    n_trials: int | None = None
    seed: int = 0
    metric: str | None = None

    @property
    def method(self) -> str:
        return "grid" if self.n_trials is None else "random"


@dataclass
class TrialResult:
    """What one trial gave: its options, status ("ok" or "failed") and metrics."""

    trial: int
    params: dict[str, Any]
    argv: list[str]
    out: str
    status: str = "ok"
    error: str | None = None
    final: dict[str, float] = field(default_factory=dict)
    test: dict[str, float] | None = None
    seconds: float = 0.0
    worker: str | None = None
    blas_threads: int | None = None

    def value(self, metric: str) -> float | None:
        """The trial's ``metric`` from its last epoch, None when failed or absent."""
        if self.status != "ok" or metric not in self.final:
            return None
        number = float(self.final[metric])
        return number if math.isfinite(number) else None


# -- the configuration ----------------------------------------------------------
def load_config(path: str | Path) -> SweepConfig:
    """Read and check a sweep TOML file; SweepConfigError names the key at fault."""
    file = Path(path)
    if not file.exists() and not file.is_symlink():
        raise SweepConfigError(f"{path}: no such sweep config file")
    raw = read_toml(file, "sweep config file", SweepConfigError)
    return parse_config(raw, source=str(path), base=file.parent)


def parse_config(raw: Mapping[str, Any], source: str = "config", base: Path | None = None
                 ) -> SweepConfig:
    """A SweepConfig from a TOML table; ``base`` resolves a relative dataset path."""

    def fail(key: str, problem: str) -> SweepConfigError:
        return SweepConfigError(f"{source}: {key}: {problem}")

    for key in raw:
        if key not in TOP_LEVEL:
            raise fail(key, f"unknown key; valid keys: {', '.join(TOP_LEVEL)}")
    dataset = raw.get("dataset")
    if not isinstance(dataset, str) or not dataset.strip():
        raise fail("dataset", "give the dataset's name or path as a string")
    if base is not None and (base / dataset).exists():
        dataset = str((base / dataset).resolve())
    fixed = _options(raw.get("fixed", {}), "fixed", fail)
    space = _options(raw.get("search", {}), "search", fail)
    if not space:
        raise fail("search", "give at least one option to search over")
    for name in space:
        if name in fixed:
            raise fail(f"search.{name}", "is also in [fixed]; give it in one place")
    fixed.setdefault("validation_split", 0.2)
    n_trials = raw.get("n_trials")
    if n_trials is not None and (isinstance(n_trials, bool) or not isinstance(n_trials, int)
                                 or n_trials < 1):
        raise fail("n_trials", f"must be a whole number ≥ 1, got {n_trials!r}")
    seed = raw.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise fail("seed", f"must be a whole number ≥ 0, got {seed!r}")
    metric = raw.get("metric")
    if metric is not None and (not isinstance(metric, str) or not metric.startswith("val_")):
        raise fail("metric", f"must name a validation metric such as val_accuracy or "
                             f"val_loss, got {metric!r}")
    for name, values in space.items():
        _check_space(f"search.{name}", values, random=n_trials is not None, fail=fail)
    return SweepConfig(dataset, fixed, space, n_trials, seed, metric)


def _options(table: Any, where: str, fail: Callable[[str, str], SweepConfigError]
             ) -> dict[str, Any]:
    if not isinstance(table, dict):
        raise fail(where, "must be a table of train options, e.g. [" + where + "]")
    options: dict[str, Any] = {}
    for key, value in table.items():
        name = key.replace("-", "_")
        if name in RESERVED:
            raise fail(f"{where}.{key}", "is set by the sweep for every trial; remove it")
        options[name] = value
    return options


def _check_space(key: str, values: Any, *, random: bool,
                 fail: Callable[[str, str], SweepConfigError]) -> None:
    if isinstance(values, list):
        if not values:
            raise fail(key, "the list of values is empty")
        return
    if not isinstance(values, dict):
        raise fail(key, f"give a list of values{' or a distribution' if random else ''}, "
                        f"got {values!r}")
    if not random:
        raise fail(key, "a grid search takes a list of values; a distribution needs n_trials")
    if len(values) != 1 or next(iter(values)) not in DISTRIBUTIONS:
        raise fail(key, f"a distribution is one of {', '.join(DISTRIBUTIONS)}, "
                        f"e.g. {{ uniform = [0.0, 0.5] }}; got {values!r}")
    kind, bounds = next(iter(values.items()))
    if kind == "choice":
        if not isinstance(bounds, list) or not bounds:
            raise fail(key, "choice takes a non-empty list of values")
        return
    numbers = isinstance(bounds, list) and len(bounds) == 2 and all(
        isinstance(b, (int, float)) and not isinstance(b, bool) for b in bounds)
    if not numbers or not bounds[0] <= bounds[1]:
        raise fail(key, f"{kind} takes [low, high] with low ≤ high, got {bounds!r}")
    if kind == "log_uniform" and bounds[0] <= 0:
        raise fail(key, f"log_uniform needs low > 0, got {bounds!r}")
    if kind == "int_uniform" and not all(isinstance(b, int) for b in bounds):
        raise fail(key, f"int_uniform takes whole numbers, got {bounds!r}")


def trial_params(config: SweepConfig) -> list[dict[str, Any]]:
    """Each trial's searched options: the grid's product in the file's key order, or
    ``n_trials`` draws from a generator seeded with ``seed``."""
    names = list(config.space)
    if config.n_trials is None:
        return [dict(zip(names, combo, strict=True))
                for combo in itertools.product(*(config.space[n] for n in names))]
    rng = np.random.default_rng(config.seed)
    return [{name: _draw(config.space[name], rng) for name in names}
            for _ in range(config.n_trials)]


def _draw(spec: Any, rng: np.random.Generator) -> Any:
    if isinstance(spec, list):
        return spec[int(rng.integers(len(spec)))]
    kind, bounds = next(iter(spec.items()))
    if kind == "choice":
        return bounds[int(rng.integers(len(bounds)))]
    low, high = bounds
    if kind == "int_uniform":
        return int(rng.integers(low, high + 1))
    if kind == "log_uniform":  # log θ ~ U(log lo, log hi)
        return float(math.exp(rng.uniform(math.log(low), math.log(high))))
    return float(rng.uniform(low, high))


def train_arguments(dataset: str, options: Mapping[str, Any], out: str | Path) -> list[str]:
    """The ``backprop train`` command line of one trial (without the word "train")."""
    argv = [dataset]
    for name, value in options.items():
        flag = "--" + name.replace("_", "-")
        if isinstance(value, bool):
            if value:
                argv.append(flag)
        elif isinstance(value, list):  # an empty list of widths is written "none"
            argv.append(f"{flag}={','.join(str(v) for v in value) or 'none'}")
        else:
            argv.append(f"{flag}={value}")
    return [*argv, f"--out={out}", "--quiet", "--no-plots"]


# -- the workers ---------------------------------------------------------------
def thread_budgets(client: Any) -> dict[str, int]:
    """BLAS threads per worker address: the cores of the worker's machine shared out
    over every task that the workers on that machine run at once (at least 1)."""
    from dask.system import cpu_count

    cores: dict[str, int] = client.run(cpu_count)
    workers = client.scheduler_info(n_workers=-1)["workers"]
    tasks_on_host: dict[str, int] = {}
    for info in workers.values():
        tasks_on_host[info["host"]] = tasks_on_host.get(info["host"], 0) + info["nthreads"]
    return {address: max(1, cores.get(address, 1) // tasks_on_host[info["host"]])
            for address, info in workers.items()}


def worker_address() -> str | None:
    """The address of the Dask worker running this code, None outside a worker."""
    try:
        from distributed import get_worker

        return str(get_worker().address)
    except (ImportError, ValueError):
        return None


# -- the sweep ------------------------------------------------------------------
def choose_metric(config: SweepConfig, results: Iterable[TrialResult]) -> str:
    """config.metric, else val_accuracy when the trials report it, else val_loss."""
    if config.metric is not None:
        return config.metric
    ok = [r for r in results if r.status == "ok"]
    return "val_accuracy" if any("val_accuracy" in r.final for r in ok) else "val_loss"


def best_trial(results: Iterable[TrialResult], metric: str) -> TrialResult | None:
    """The trial with the best ``metric`` (largest accuracy/r2, smallest otherwise);
    ties go to the lowest trial number; None when no trial reported it."""
    sign = -1.0 if metric.removeprefix("val_") in MAXIMIZED else 1.0
    scored = [(sign * v, r.trial, r) for r in results if (v := r.value(metric)) is not None]
    return min(scored, key=lambda item: (item[0], item[1]))[2] if scored else None


def write_json_atomic(path: Path, document: Any) -> None:
    """Write JSON through the atomic writer (a temporary beside ``path``, renamed over it)."""
    text = (json.dumps(document, indent=2) + "\n").encode("utf-8")
    write_atomically(path, lambda file: file.write(text), SweepConfigError)


def summary(config: SweepConfig, results: list[TrialResult], total: int) -> dict[str, Any]:
    """The sweep's JSON document: the config, every finished trial, the best."""
    metric = choose_metric(config, results)
    best = best_trial(results, metric)
    return {"dataset": config.dataset, "method": config.method, "metric": metric,
            "fixed": config.fixed, "space": config.space, "n_trials": total,
            "finished": len(results),
            "failed": sum(r.status != "ok" for r in results),
            "trials": [vars(r) for r in sorted(results, key=lambda r: r.trial)],
            "best": None if best is None else vars(best)}


#: A trial: (train's command line, BLAS threads) → {"final", "test", "seconds", "worker",
#: "blas_threads"}, or {"error": message} for options that train refuses; it raises when
#: it crashes. The ``backprop sweep`` command's is ``commands.sweep.run_trial``.
Trial = Callable[[list[str], "int | Mapping[str, int] | None"], dict[str, Any]]


def run_sweep(config: SweepConfig, out: str | Path, trial: Trial, *, client: Any = None,
              blas_threads: int | None = None,
              on_result: Callable[[TrialResult], None] | None = None) -> list[TrialResult]:
    """Run every trial through ``trial``; return the results in the order they finished.

    With ``client`` (a dask.distributed.Client) the trials are submitted at once
    with one retry each and gathered as they complete; without, they run here one
    after another with BLAS pinned to ``blas_threads`` (default: no limit). After
    each trial ``on_result`` is called and OUT/sweep.json is rewritten atomically.
    """
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    params = trial_params(config)
    outs = [str((folder / f"trial-{n:03d}").resolve()) for n in range(len(params))]
    argvs = [train_arguments(config.dataset, {**config.fixed, **p}, outs[n])
             for n, p in enumerate(params)]
    results: list[TrialResult] = []

    def record(n: int, outcome: dict[str, Any] | None, error: str | None) -> None:
        result = TrialResult(n, params[n], argvs[n], outs[n])
        if outcome is not None:
            error = outcome.pop("error", None)
            for key, value in outcome.items():
                setattr(result, key, value)
        if error is not None:
            result.status, result.error = "failed", error
        results.append(result)
        write_json_atomic(folder / "sweep.json", summary(config, results, len(params)))
        if on_result is not None:
            on_result(result)

    if client is None:
        for n, argv in enumerate(argvs):
            outcome, failure = None, None
            for _attempt in (1, 2):  # one retry, as the cluster gives
                try:
                    outcome = trial(argv, blas_threads)
                    break
                except Exception as error:
                    failure = f"failed twice: {type(error).__name__}: {error}"
            record(n, outcome, None if outcome is not None else failure)
        return results
    from distributed import as_completed

    budgets = thread_budgets(client)
    futures = {client.submit(trial, argv, budgets, retries=1, pure=False, key=f"trial-{n:03d}-"
                             f"{os.getpid()}-{time.time_ns()}"): n
               for n, argv in enumerate(argvs)}
    for future in as_completed(futures):  # type: ignore[no-untyped-call]
        n = futures[future]
        if future.status == "finished":
            record(n, future.result(), None)
        else:
            crash = future.exception()
            record(n, None, f"failed twice: {type(crash).__name__}: {crash}")
    return results
