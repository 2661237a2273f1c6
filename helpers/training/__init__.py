"""Training the paper's network: loss, loop, checkpoints, resuming, data-parallel (notebook 05)."""
