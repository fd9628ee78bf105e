"""Side-by-side benchmarks of medtl against plain MONAI/PyTorch baselines, on data each one generates.

`python -m benchmarks` (`make bench`) runs the CPU benchmarks: `loading`, `epoch`, `linear_probe`, `gradcam`,
`stem3d`; `python -m benchmarks.gpu` runs the single-GPU one. Each prints its ratios next to their goals;
benchmarks/RESULTS.md records the latest numbers.
"""
