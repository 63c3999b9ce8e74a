#!/usr/bin/env bash
# Train arcnn-q20, -q30, -q40 by easy-hard transfer along the chain q10 -> q20 -> q30 -> q40:
# every layer starts from the previous quality's weights, then the fast recipe fine-tunes at a
# lower peak learning rate. A finished quality is skipped and a killed one resumed, so the script
# can be rerun across sessions.
# Usage: tools/train_zoo.sh STEPS [FIRST_SOURCE [LR]]
#   FIRST_SOURCE defaults to the shipped arcnn-q10; LR (peak, cosine) defaults to 2e-4.
set -euo pipefail
steps=${1:-12000}
src=${2:-src/arcnn/weights/arcnn-q10.safetensors}
lr=${3:-2e-4}
for q in 20 30 40; do
  out=runs/arcnn-q$q
  if [ -f "$out/model.safetensors" ]; then src=$out/model.safetensors; continue; fi
  resume=(); [ -f "$out/checkpoint.pt" ] && resume=(--resume)
  .venv/bin/arcnn train --model arcnn --quality "$q" --out "$out" --recipe fast --steps "$steps" \
    --lr "$lr" --val-every 3000 --init "$src" --init-layers 4 "${resume[@]}"
  src=$out/model.safetensors
done
