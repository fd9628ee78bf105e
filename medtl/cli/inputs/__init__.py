"""Verbs about what goes in: synth, scan, weights, config."""
