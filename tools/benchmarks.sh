#!/usr/bin/env bash
# Regenerate every measured block of README.md and docs/ from the shipped weights.
# Timing benchmarks first: run this on an otherwise idle machine (2 cores here).
# Usage: tools/benchmarks.sh [timing|quality|all]   (default all)
set -euo pipefail
cd "$(dirname "$0")/.."
py=.venv/bin/python
what=${1:-all}
if [ "$what" != quality ]; then
  $py -m benchmarks.inference_speed --write
  $py -m benchmarks.fast_arcnn --write
  $py -m benchmarks.train_throughput --write
  $py -m benchmarks.large_image --write
  $py -m benchmarks.startup --write
fi
if [ "$what" != timing ]; then
  $py -m benchmarks.zoo_table --write   # also rewrites the README's headline (benchmarks.headline)
  $py -m benchmarks.jpeg_baseline --write
  $py -m benchmarks.colour --write
  $py -m benchmarks.blind --write
  $py -m benchmarks.webp --write
  $py -m benchmarks.ensemble --write
  $py -m benchmarks.generalisation --write
  $py -m experiments.table2 --write
  $py -m experiments.applications --write
fi
