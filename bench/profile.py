"""Where backprop's training time goes: py-spy samples of a fit, by innermost line.

    python bench/profile.py [--only WORKLOAD] [--epochs N] [--rate HZ] [--top K]

Trains one benchmark workload (default: the headline) on MNIST with
backprop in a child process under ``py-spy record`` (py-spy must be on the
PATH: ``pip install py-spy``), then counts, for every sample taken inside
``fit``, the innermost line of backprop's own code on the stack: a NumPy
call is charged to the line that made it. Prints the top lines with their
share of the samples. A profile, not a benchmark: the sampling slows the
run a little and no time is reported.
"""

from __future__ import annotations

import argparse
import collections
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

_ROOT = Path(__file__).resolve().parent.parent
if __package__ in (None, ""):  # run as a script: python bench/profile.py
    sys.path.insert(0, str(_ROOT))

from bench.launch import child_env  # noqa: E402
from bench.workloads import HEADLINE, by_name  # noqa: E402

#: What the child runs: one workload's backprop trainer, epoch by epoch.
_CHILD = """
import sys
from bench import data, systems
from bench.workloads import by_name
workload = by_name()[sys.argv[1]]
module, options = systems.load("backprop")
ds = data.load(workload, "mnist", data.N_TRAIN, data.N_TEST)
trainer = module.make_trainer(workload, ds, int(sys.argv[3]), **options)
n = len(ds.X_train)
for epoch in range(int(sys.argv[2])):
    trainer.train_epoch(0, workload.epoch_samples or n)
"""


def innermost_lines(collapsed: str) -> tuple[collections.Counter[str], int]:
    """Samples per innermost backprop frame, over the stacks that pass through fit.

    ``collapsed`` is py-spy's raw format: one "frame;frame;... count" line per stack.
    """
    counts: collections.Counter[str] = collections.Counter()
    total = 0
    for line in collapsed.splitlines():
        stack, _, n = line.rpartition(" ")
        frames = stack.split(";")
        if not n.isdigit() or not any(f.startswith("fit (") for f in frames):
            continue
        total += int(n)
        own = [f for f in frames if "backprop/" in f and "bench/" not in f]
        counts[own[-1] if own else "(outside backprop)"] += int(n)
    return counts, total


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--only", default=HEADLINE, help=f"workload name (default {HEADLINE})")
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--rate", type=int, default=500, help="samples per second")
    p.add_argument("--top", type=int, default=20)
    args = p.parse_args(argv)
    if args.only not in by_name():
        print(f"error: unknown workload {args.only!r}; see python -m bench.run --list",
              file=sys.stderr)
        return 2
    py_spy = shutil.which("py-spy")
    if py_spy is None:
        print("error: py-spy is not on the PATH (pip install py-spy)", file=sys.stderr)
        return 2
    env = child_env(args.threads)  # the benchmark children's threads and import path
    with tempfile.TemporaryDirectory(prefix="bench-profile-") as tmp:
        raw = Path(tmp) / "profile.txt"
        cmd = [py_spy, "record", "--format", "raw", "-r", str(args.rate), "-o", str(raw), "--"]
        cmd += [sys.executable, "-c", _CHILD, args.only, str(args.epochs), str(args.threads)]
        done = subprocess.run(cmd, cwd=_ROOT, env=env, capture_output=True, text=True)
        if done.returncode != 0 or not raw.exists():
            print(f"error: py-spy failed: {done.stderr.strip()[-500:]}", file=sys.stderr)
            return 1
        counts, total = innermost_lines(raw.read_text())
    if not total:
        print("error: no samples inside fit", file=sys.stderr)
        return 1
    print(f"{args.only}, {args.epochs} epochs, {total:,} samples inside fit\n")
    print("| share | innermost backprop line |\n|---|---|")
    for frame, n in counts.most_common(args.top):
        print(f"| {100 * n / total:.1f}% | `{frame}` |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
