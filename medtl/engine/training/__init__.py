"""One model on one dataset: settings, optimizers and schedules, strategies, the loop, selection, checkpoints, monitoring, DDP."""
