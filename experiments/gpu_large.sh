#!/usr/bin/env bash
# Continue the arcnn-large run (experiments/train_large.py) on a lent GPU, from the state committed
# in experiments/checkpoints/arcnn-large/, and leave the new state and log in $OUT.
#
# Here, once per session, before the device call (the data set does not travel by itself):
#   mkdir -p .gpu/data && cp -r ../shared/data/bsds500 .gpu/data/ && echo /.gpu/ >> .git/info/exclude
# The call (about MINUTES + 2 minutes of device time):
#   run(command="bash experiments/gpu_large.sh 8", carry=[".gpu"], timeout_s=660)
# Then copy files_at/state.safetensors and log.csv over experiments/checkpoints/arcnn-large/.
# On the CPU, as a dry run: PYTHON=.venv/bin/python ARCNN_DATA=../shared/data DEVICE=cpu BATCH=4 PATCH=64 \
#   VAL_EVERY=3 OUT=/tmp/dry bash experiments/gpu_large.sh 0.2
set -euo pipefail
minutes=${1:-8}
out=${OUT:?set OUT to the folder that comes back}
ckpt=experiments/checkpoints/arcnn-large
run=$(mktemp -d)
cp "$ckpt/state.safetensors" "$ckpt/log.csv" "$run/" 2>/dev/null || true
export PYTHONPATH=$PWD/src:$PWD${PYTHONPATH:+:$PYTHONPATH} PYTHONUNBUFFERED=1
export ARCNN_DATA=${ARCNN_DATA:-$PWD/.gpu/data} ARCNN_CACHE=${ARCNN_CACHE:-$run/cache}
"${PYTHON:-python3}" -m experiments.train_large "$run" --minutes "$minutes" --device "${DEVICE:-cuda}" \
  --batch "${BATCH:-64}" --patch "${PATCH:-128}" --val-every "${VAL_EVERY:-2000}" --checkpoint-s 60 \
  2>&1 | tee "$out/train.log"
cp "$run/state.safetensors" "$run/log.csv" "$out/"
