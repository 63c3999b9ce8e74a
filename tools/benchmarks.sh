#!/usr/bin/env bash
# Regenerate every measured block of README.md and docs/ from the shipped weights.
# Timing benchmarks first: run this on an otherwise idle machine (2 cores here).
# Usage: tools/benchmarks.sh [timing|quality|all]   (default all)
set -euo pipefail
cd "$(dirname "$0")/.."
py=.venv/bin/python
what=${1:-all}
if [ "$what" != quality ]; then
  $py benchmarks/inference_speed.py --write
  $py benchmarks/fast_arcnn.py --write
  $py benchmarks/train_throughput.py --write
  $py benchmarks/large_image.py --write
fi
if [ "$what" != timing ]; then
  $py benchmarks/zoo_table.py --write
  $py benchmarks/jpeg_baseline.py --write
  $py benchmarks/colour.py --write
  $py benchmarks/blind.py --write
  $py benchmarks/webp.py --write
  $py benchmarks/ensemble.py --write
  $py benchmarks/generalisation.py --write
  $py experiments/table2.py --write
  $py experiments/applications.py --write
fi
