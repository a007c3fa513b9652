#!/bin/sh
# The compiled path's measurements, every system taking turns (bench/README.md, "The compiled
# path and its levers"). Run on the quiet 2-core machine of bench/reported, nothing else
# running, with the peers extra installed (torch, jax) and MNIST in the cache:
#
#     sh bench/compiled_turns.sh [OUT]          # default OUT: bench/results/compiled
#
# 1. full/: the full benchmark, the NumPy engine and the compiled path beside every peer; its
#    bench.md holds the round's speed-targets table (targets checked on backprop+compiled).
# 2. levers/: each way to use both cores, on the compiled path, in turns with it alone.
# 3. recipe/: the default MNIST recipe and the recipe with --compiled, seed by seed in turns.
# 4. step-phases.md: the compiled step's phases beside its products alone.
set -eu
cd "$(dirname "$0")/.."
export PYTHONPATH="src:.${PYTHONPATH:+:$PYTHONPATH}"
OUT=${1:-bench/results/compiled}
PYTHON=${PYTHON:-python3}

"$PYTHON" -m bench.run \
    --systems backprop,backprop+compiled,torch,torch-fused,jax,sklearn \
    --out "$OUT/full"

"$PYTHON" -m bench.run \
    --only headline,batch-1,batch-1024,width-1024,depth-4,float64 --epochs 4 \
    --systems backprop+compiled,backprop+compiled+blas-sleep,backprop+compiled+blas1,backprop+compiled+split2,backprop+compiled+numba2,backprop+compiled+numba2+blas-sleep,torch-fused \
    --out "$OUT/levers"

"$PYTHON" bench/recipe.py --seeds 0,1,2,3,4,5 --turns --out "$OUT/recipe" -- --compiled

"$PYTHON" bench/step_phases.py > "$OUT/step-phases.md"
