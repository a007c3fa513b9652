"""``backprop datasets``: the named datasets and the cache; ``datasets fetch mnist``."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Any

from backprop.cli.option_kinds import choice, flag
from backprop.cli.options import Options, add_command, argument, option
from backprop.datasets import DATASET_NAMES, cache_dir, describe, fetch_mnist, mnist_cache_path
from backprop.errors import OptionError


@dataclass(frozen=True, kw_only=True)
class DatasetsOptions(Options):
    action: str = argument("list the datasets, or fetch one", choice("list", "fetch"), "list",
                           metavar="{list,fetch}")
    name: str | None = argument("the dataset to fetch (mnist)", default=None, metavar="name")
    force: bool = option(flag, False, "fetch again even if cached")


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``datasets`` subcommand to an argparse subparsers object."""
    return add_command(
        subparsers, "datasets", DatasetsOptions, run,
        help="list the named datasets; fetch MNIST into the cache",
        description="Without arguments: every dataset name with a description, and where "
        "the cache is. `backprop datasets fetch mnist` downloads MNIST into the cache.",
    )


def run(o: DatasetsOptions) -> int:
    if o.action == "fetch":
        if o.name is None:
            raise OptionError("datasets fetch: name the dataset to fetch (mnist)")
        if o.name.lower() != "mnist":
            if o.name.lower() in DATASET_NAMES:
                print(f"{o.name} is generated on the fly; nothing to fetch")
                return 0
            raise OptionError(f"unknown dataset {o.name!r}; only mnist can be fetched")
        path = fetch_mnist(force=o.force)
        print(f"mnist: cached at {path}")
        return 0
    if o.name is not None:
        raise OptionError(f"datasets list takes no name, got {o.name!r}")
    for name, text in describe().items():
        print(f"{name:<10} {text}")
    mnist = mnist_cache_path()
    state = "cached" if mnist.is_file() else "not cached; run `backprop datasets fetch mnist`"
    print(f"\ncache: {cache_dir()}  (mnist: {state})")
    print("DATASET may also be a path to a .csv or .npz file.")
    return 0
