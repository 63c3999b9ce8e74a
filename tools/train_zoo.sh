#!/usr/bin/env bash
# Train arcnn-q20, -q30, -q40 by easy-hard transfer along the chain q10 -> q20 -> q30 -> q40:
# every layer starts from the previous quality's weights, then the fast recipe fine-tunes.
# Usage: tools/train_zoo.sh STEPS [FIRST_SOURCE]   (FIRST_SOURCE defaults to the shipped arcnn-q10)
set -euo pipefail
steps=${1:-36000}
src=${2:-src/arcnn/weights/arcnn-q10.safetensors}
for q in 20 30 40; do
  out=runs/arcnn-q$q
  if [ -f "$out/model.safetensors" ]; then src=$out/model.safetensors; continue; fi
  resume=(); [ -f "$out/checkpoint.pt" ] && resume=(--resume)
  .venv/bin/arcnn train --model arcnn --quality "$q" --out "$out" --recipe fast --steps "$steps" \
    --val-every 3000 --init "$src" --init-layers 4 "${resume[@]}"
  src=$out/model.safetensors
done
