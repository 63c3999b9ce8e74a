"""The benchmarks: each regenerates a measured block of README.md or docs/ (``python -m benchmarks.NAME``)."""
