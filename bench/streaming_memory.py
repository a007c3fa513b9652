"""Memory and time of training on 2 GB streamed from disk, beside scikit-learn's MLP.

    python bench/streaming_memory.py [--rows 500000] [--features 1000] [--hidden 256]
        [--limit-mb 400] [--folder DIR] [--out DIR] [--tiny]

It writes, once (kept in --folder for the next run), a float32 .npy of --rows ×
(--features + 1) numbers, a learnable label in the last column (500,000 × 1,001:
2.0 GB), and the same rows as a folder of shards. Then every job below trains one epoch
of FEATURES-HIDDEN-CLASSES in a process of its own, twice:

1. under ``/usr/bin/time -v``: wall time and peak RSS ("Maximum resident set size";
   for a memory-mapped file it counts the file's pages the process has touched, which
   the kernel may drop at any time), and the job's own peak of VmData and of RssAnon
   (the memory it allocated, sampled every 5 ms), which is what a memory limit holds;
2. under ``prlimit --data=LIMIT`` (--limit-mb, 400 MB by default), started under the
   limit as a user would: whether it completes, and its exit status if not.

The jobs: ``backprop train`` on the .npy (default scaling, standard) and on the shards
(default scaling, and --scale none); backprop's MLPClassifier ``fit`` on the memmap,
``partial_fit`` over four chunks of it and ``fit("shards/", None)``; scikit-learn's
MLPClassifier ``fit`` on the memmap and ``partial_fit`` over four chunks. Every job
has the same architecture, batches of 200 and Adam at its defaults; the backprop jobs
run with the default memory budget (128 MiB) and import backprop before NumPy, so that
under the limit BLAS starts only the threads it holds (see backprop.blas_threads);
scikit-learn's jobs import only NumPy and scikit-learn.

Output in --out (default bench/results/streaming-memory/): results.json and results.md
(the table, also printed). Copy them to bench/reported/streaming-memory/ to report a
run. ``--tiny`` writes 20,000 rows of 100 features and runs every job: it checks that
the script works, it measures nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
JOBS = ("train-npy", "train-shards", "train-shards-unscaled", "backprop-fit",
        "backprop-partial-fit", "backprop-fit-shards", "sklearn-fit", "sklearn-partial-fit")
CLASSES = 10
BATCH = 200


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", type=int, default=500_000, help="samples (default 500,000)")
    parser.add_argument("--features", type=int, default=1000, help="features (default 1,000)")
    parser.add_argument("--hidden", type=int, default=256, help="hidden units (default 256)")
    parser.add_argument("--limit-mb", type=int, default=400,
                        help="the data limit of the second run of each job, MB (default 400)")
    parser.add_argument("--folder", type=Path, default=ROOT / "bench" / "results" / "big-data",
                        help="where the data is written once and kept")
    parser.add_argument("--out", type=Path,
                        default=ROOT / "bench" / "results" / "streaming-memory")
    parser.add_argument("--only", default=",".join(JOBS), help="jobs to run, comma-separated")
    parser.add_argument("--tiny", action="store_true", help="small data: a check, no measure")
    parser.add_argument("--job", help=argparse.SUPPRESS)  # run one job in this process
    return parser.parse_args(argv)


# -- the data ------------------------------------------------------------------------
def write_data(folder: Path, rows: int, features: int) -> None:
    """Xy.npy (rows, features + 1), the label last, and shards/ of the same rows; written
    block by block, never whole in memory, and only when missing."""
    import numpy as np

    folder.mkdir(parents=True, exist_ok=True)
    done = folder / "complete.json"
    wanted = {"rows": rows, "features": features}
    if done.exists() and json.loads(done.read_text()) == wanted:
        return
    shards = folder / "shards"
    shutil.rmtree(shards, ignore_errors=True)
    shards.mkdir()
    data = np.lib.format.open_memmap(folder / "Xy.npy", mode="w+", dtype=np.float32,
                                     shape=(rows, features + 1))
    w = np.random.default_rng(42).normal(size=(features, CLASSES)) / np.sqrt(features)
    rng = np.random.default_rng(0)
    shard_rows = max(1, rows // 8)
    for number, start in enumerate(range(0, rows, shard_rows)):
        stop = min(start + shard_rows, rows)
        X = rng.standard_normal((stop - start, features), dtype=np.float32) * 2.0 + 0.5
        y = np.argmax(X @ w + rng.normal(scale=0.5, size=(stop - start, CLASSES)), axis=1)
        data[start:stop, :features] = X
        data[start:stop, features] = y
        np.save(shards / f"X_{number:03d}.npy", X)
        np.save(shards / f"y_{number:03d}.npy", y.astype(np.int8))
    data.flush()
    del data
    done.write_text(json.dumps(wanted))


# -- one job, in its own process --------------------------------------------------------
def run_job(name: str, folder: Path, hidden: int) -> dict[str, Any]:
    """Train one epoch as ``name`` says; the peaks of VmData and RssAnon it reached."""
    peaks = {"VmData": 0, "RssAnon": 0}

    def watch() -> None:
        while True:
            for line in Path("/proc/self/status").read_text().splitlines():
                key, _, value = line.partition(":")
                if key in peaks:
                    peaks[key] = max(peaks[key], int(value.split()[0]) * 1024)
            time.sleep(0.005)

    threading.Thread(target=watch, daemon=True).start()
    import warnings

    if name.startswith("train"):  # backprop before NumPy: BLAS threads fit a limit
        from backprop.cli import entry
    elif name.startswith("backprop"):
        from backprop.sklearn import MLPClassifier
    else:  # scikit-learn as it comes
        from sklearn.neural_network import MLPClassifier  # type: ignore[no-redef]
    import numpy as np

    warnings.simplefilter("ignore")  # one epoch has not converged
    started = time.perf_counter()  # the imports done: training and its reading only
    if name.startswith("train"):
        source = folder / ("Xy.npy" if name == "train-npy" else "shards")
        scale = ["--scale", "none"] if name.endswith("unscaled") else []
        status = entry.main(["train", str(source), "--layers", str(hidden), "--epochs", "1",
                             "--batch-size", str(BATCH), "--lr", "0.001", "--no-plots",
                             "--quiet", "--out", str(folder / "runs" / name), *scale])
        if status != 0:
            raise SystemExit(status)
    else:
        model = MLPClassifier((hidden,), batch_size=BATCH, max_iter=1, random_state=0)
        if name == "backprop-fit-shards":
            model.fit(str(folder / "shards"), None)
        else:
            data = np.load(folder / "Xy.npy", mmap_mode="r")
            X, y = data[:, :-1], np.asarray(data[:, -1], dtype=np.int64)
            if name.endswith("partial-fit"):
                step = len(y) // 4 + 1
                for start in range(0, len(y), step):
                    model.partial_fit(X[start:start + step], y[start:start + step],
                                      classes=np.arange(CLASSES))
            else:
                model.fit(X, y)
    seconds = time.perf_counter() - started
    time.sleep(0.02)  # one more sample
    return {"seconds": seconds, "peak_vmdata": peaks["VmData"], "peak_rssanon": peaks["RssAnon"]}


# -- the measurement ---------------------------------------------------------------------
def command(args: argparse.Namespace, name: str) -> list[str]:
    return [sys.executable, str(Path(__file__).resolve()), "--job", name, "--folder",
            str(args.folder), "--hidden", str(args.hidden)]


def measure(args: argparse.Namespace, name: str) -> dict[str, Any]:
    """The job under /usr/bin/time -v, then under prlimit --data."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(ROOT / "src"), str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])}
    timed = subprocess.run(["/usr/bin/time", "-v", *command(args, name)], capture_output=True,
                           text=True, env=env)
    result: dict[str, Any] = {"job": name, "status": timed.returncode}
    found = re.search(r"Maximum resident set size \(kbytes\): (\d+)", timed.stderr)
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([\d:.]+)", timed.stderr)
    result["max_rss"] = int(found.group(1)) * 1024 if found else None
    result["wall"] = wall.group(1) if wall else None
    if timed.returncode == 0:
        result.update(json.loads(timed.stdout.strip().splitlines()[-1]))
    else:
        result["error"] = timed.stderr.strip().splitlines()[-1:] or [""]
    limit = args.limit_mb * 1_000_000
    limited = subprocess.run(["prlimit", f"--data={limit}", *command(args, name)],
                             capture_output=True, text=True, env=env)
    result["under_limit"] = limited.returncode
    if limited.returncode != 0:
        result["under_limit_error"] = (limited.stderr.strip().splitlines() or [""])[-1]
    return result


def table(results: list[dict[str, Any]], args: argparse.Namespace, size: int) -> str:
    mib = 1 << 20
    lines = [f"{args.rows:,} × {args.features} float32 features + a label: {size / 1e9:.2f} GB; "
             f"{args.features}-{args.hidden}-{CLASSES}, one epoch, batches of {BATCH}", "",
             f"| job | wall | seconds (training) | peak RSS | peak VmData | peak RssAnon | "
             f"under {args.limit_mb} MB |",
             "|---|---|---|---|---|---|---|"]
    for r in results:
        def size_of(key: str, row: dict[str, Any] = r) -> str:
            value = row.get(key)
            return "—" if value is None else f"{value / mib:,.0f} MiB"
        seconds = f"{r['seconds']:.1f}" if "seconds" in r else "—"
        held = "holds" if r["under_limit"] == 0 else (
            f"fails ({r['under_limit']}: {r.get('under_limit_error', '')[:60]})")
        lines.append(f"| {r['job']} | {r['wall'] or '—'} | {seconds} | {size_of('max_rss')} | "
                     f"{size_of('peak_vmdata')} | {size_of('peak_rssanon')} | {held} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.job:
        print(json.dumps(run_job(args.job, args.folder, args.hidden)))
        return 0
    if args.tiny:
        args.rows, args.features, args.hidden = 20_000, 100, 32
        args.folder = args.folder.with_name(args.folder.name + "-tiny")
    for tool in ("/usr/bin/time", shutil.which("prlimit")):
        if tool is None or not Path(tool).exists():
            print("streaming_memory: needs /usr/bin/time and prlimit (util-linux)",
                  file=sys.stderr)
            return 2
    write_data(args.folder, args.rows, args.features)
    size = (args.folder / "Xy.npy").stat().st_size
    results = []
    for name in args.only.split(","):
        if name not in JOBS:
            print(f"streaming_memory: unknown job {name!r}; jobs: {', '.join(JOBS)}",
                  file=sys.stderr)
            return 2
        results.append(measure(args, name))
        print(f"{name}: {results[-1]}", flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    report = table(results, args, size)
    (args.out / "results.json").write_text(json.dumps(
        {"rows": args.rows, "features": args.features, "hidden": args.hidden,
         "limit_mb": args.limit_mb, "file_bytes": size, "results": results}, indent=2) + "\n")
    (args.out / "results.md").write_text(report)
    print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
