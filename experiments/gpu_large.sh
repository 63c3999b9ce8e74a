#!/usr/bin/env bash
# Continue the quality-tier U-Net runs (experiments/train_large.py) on a lent GPU, side by side on the
# one chip: arcnn-large (luminance) and the chroma U-Net, each from the state committed in
# experiments/checkpoints/<run>/, and leave each new state and log in $OUT/<run>/.
#
# Here, once per session, before the device call (the data set does not travel by itself):
#   mkdir -p .gpu/data && cp -r ../shared/data/bsds500 .gpu/data/ && echo /.gpu/ >> .git/info/exclude
# The call (about MINUTES + 3 minutes of device time: both runs build their training pairs first):
#   run(command="bash experiments/gpu_large.sh 8", carry=[".gpu"], timeout_s=720)
# Then copy files_at/<run>/state.safetensors and log.csv over experiments/checkpoints/<run>/.
# RUNS="arcnn-large" runs one of them only. On the CPU, as a dry run:
#   PYTHON=.venv/bin/python ARCNN_DATA=../shared/data DEVICE=cpu BATCH=4 PATCH=64 VAL_EVERY=3 \
#   ARCNN_CACHE=~/.cache/arcnn OUT=/tmp/dry bash experiments/gpu_large.sh 0.2
set -euo pipefail
minutes=${1:-8}
out=${OUT:?set OUT to the folder that comes back}
export PYTHONPATH=$PWD/src:$PWD${PYTHONPATH:+:$PYTHONPATH} PYTHONUNBUFFERED=1
export ARCNN_DATA=${ARCNN_DATA:-$PWD/.gpu/data}
# run name -> its extra options (the chroma run keeps the learning rate it recovered at)
declare -A extra=([arcnn-large]="" [arcnn-chroma-half]="--target cbcr --lr 1.5e-4")
pids=()
for name in ${RUNS:-arcnn-large arcnn-chroma-half}; do
  run=$(mktemp -d) && mkdir -p "$out/$name"
  cp "experiments/checkpoints/$name/state.safetensors" "experiments/checkpoints/$name/log.csv" "$run/" 2>/dev/null || true
  # shellcheck disable=SC2086  # the options are words
  ARCNN_CACHE=${ARCNN_CACHE:-$run/cache} "${PYTHON:-python3}" -m experiments.train_large "$run" ${extra[$name]} \
    --minutes "$minutes" --device "${DEVICE:-cuda}" --batch "${BATCH:-64}" --patch "${PATCH:-128}" \
    --val-every "${VAL_EVERY:-2000}" --checkpoint-s 60 > "$out/$name/train.log" 2>&1 \
    && cp "$run/state.safetensors" "$run/log.csv" "$out/$name/" &
  pids+=($!)
done
status=0
for p in "${pids[@]}"; do wait "$p" || status=1; done
tail -n 3 "$out"/*/train.log
exit $status
