"""``backprop datasets``: the named datasets and the cache; ``datasets fetch mnist``."""

from __future__ import annotations

import argparse
from typing import Any

from backprop.datasets import DATASET_NAMES, cache_dir, describe, fetch_mnist, mnist_cache_path
from backprop.errors import OptionError


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``datasets`` subcommand to an argparse subparsers object."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "datasets",
        help="list the named datasets; fetch MNIST into the cache",
        description="Without arguments: every dataset name with a description, and where "
        "the cache is. `backprop datasets fetch mnist` downloads MNIST into the cache.",
    )
    parser.add_argument("action", nargs="?", choices=["list", "fetch"], default="list")
    parser.add_argument("name", nargs="?", help="the dataset to fetch (mnist)")
    parser.add_argument("--force", action="store_true", help="fetch again even if cached")
    parser.set_defaults(run=run)
    return parser


def run(args: argparse.Namespace) -> int:
    if args.action == "fetch":
        if args.name is None:
            raise OptionError("datasets fetch: name the dataset to fetch (mnist)")
        if args.name.lower() != "mnist":
            if args.name.lower() in DATASET_NAMES:
                print(f"{args.name} is generated on the fly; nothing to fetch")
                return 0
            raise OptionError(f"unknown dataset {args.name!r}; only mnist can be fetched")
        path = fetch_mnist(force=args.force)
        print(f"mnist: cached at {path}")
        return 0
    if args.name is not None:
        raise OptionError(f"datasets list takes no name, got {args.name!r}")
    for name, text in describe().items():
        print(f"{name:<10} {text}")
    mnist = mnist_cache_path()
    state = "cached" if mnist.is_file() else "not cached; run `backprop datasets fetch mnist`"
    print(f"\ncache: {cache_dir()}  (mnist: {state})")
    print("DATASET may also be a path to a .csv or .npz file.")
    return 0
