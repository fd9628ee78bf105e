"""What a training run is given: settings, optimizers, schedules, strategies."""
