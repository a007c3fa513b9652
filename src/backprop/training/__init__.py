"""Training: fit's plan and loop, batches, callbacks, and a checkpoint's training state."""
