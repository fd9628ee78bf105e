"""Verbs that train: train, cv, lr-find, pretrain, sweep, demo."""
