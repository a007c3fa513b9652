"""The report's notes: how each figure was measured, and what each peer does differently."""

from __future__ import annotations

from typing import Any

NOTES: tuple[str, ...] = (
    "Ratios are backprop's time ÷ the peer's time: below 1 means backprop is faster.",
    "Seconds per epoch: median over the epochs after the first (the first, reported apart, "
    "is warm-up); spread as min–max and interquartile range of those epochs. With one "
    "epoch there is no warm-up to exclude.",
    "Time to target: training time summed up to the end of the first epoch whose test "
    "metric reaches the target (evaluation is not timed).",
    "Inference: predict on the whole test set, best of several runs.",
    "FLOP-bound epoch: the GEMMs a training step needs (forward Z = A·Wᵀ per layer, "
    "dW = Δᵀ·A_prev per layer, dA = Δ·W for every layer but the first; 2·m·n·k FLOPs "
    "each), timed with np.matmul on exactly those shapes and dtype with the same threads, "
    "times the steps per epoch. The probe takes its turns with the systems, one round of "
    "GEMMs per round of epochs, and the median of its rounds is the figure used. "
    "FLOP-bound fraction = that time ÷ the measured epoch time.",
    "JAX: CPU build, one jax.jit-compiled step per batch shape (value_and_grad of the batch "
    "mean loss, then Adam/SGD written out as torch.optim computes them), the training set "
    "on the device and each batch gathered inside the step from a permutation per epoch; "
    "compiled during setup, before the timed epochs. XLA sizes its thread pool by the "
    "cores the process may use: where the machine has more than the thread count, the JAX "
    "process is pinned to that many cores.",
    "PyTorch: CPU build, torch.set_num_threads = the thread count; batches by a fresh "
    "permutation per epoch and X[idx] slices (no DataLoader); Adam/SGD with default "
    "implementation and with fused=True; softmax/sigmoid folded into CrossEntropyLoss / "
    "BCEWithLogitsLoss; He init = kaiming_normal_ (N(0, 2/n_in)), biases 0.",
    "scikit-learn: MLPClassifier/MLPRegressor, one partial_fit per epoch, matching solver, "
    "batch_size, learning_rate_init, activation, alpha=0, momentum without Nesterov. It "
    "has no He init (it always uses its Glorot-uniform scheme), no fused optimizer, "
    "shuffles with its own generator and computes the training loss every batch.",
    "Regression loss: backprop's mse is ½·Σ_k (a_k − y_k)² per sample, batch mean; torch "
    "trains on 0.5*((out-y)**2).sum(1).mean(), the same function (torch's MSELoss would "
    "drop the ½ and average over outputs); sklearn's squared loss is ½·mean, the same for "
    "one output. Reported test MSE is the plain mean squared error; R² = 1 − MSE/Var(y).",
    "batch-1 is online learning: each epoch is a fixed block of 5,000 samples (5,000 "
    "steps), so compare samples/s there.",
)


def rss_note(doc: dict[str, Any]) -> str:
    """How peak RSS was read: VmHWM, or ru_maxrss (older runs, or no /proc)."""
    sources = {
        r.get("peak_rss_from", "ru_maxrss")
        for entry in doc["workloads"]
        for r in entry["results"].values()
        if "peak_rss_mib" in r
    }
    note = (
        "Peak RSS: the peak resident set of each system's own subprocess (interpreter, "
        "libraries and the data set included); in brackets the peak before training started. "
    )
    if sources <= {"VmHWM"}:
        return note + "Read as VmHWM from /proc/self/status."
    note += "Read as ru_maxrss"
    if doc["meta"].get("platform", "").startswith("Linux"):
        note += (
            ", which on Linux carries the parent's peak over fork and exec: bench.run loads "
            "MNIST once to check it, so no figure here is below that parent's peak"
        )
    return note + "."
