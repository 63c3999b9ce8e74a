#!/usr/bin/env bash
# Continue arcnn-large (experiments/train_large.py, the luminance U-Net) on a lent GPU: a constant-rate
# phase from the state committed in experiments/checkpoints/arcnn-large/, then a cosine decay branched
# from where it ends, sized by the phase's own speed to fit DECAY minutes; both come back in $OUT.
# RUN=NAME continues experiments/checkpoints/NAME instead, or starts it (WIDTHS=40-80-160-160, say);
# TARGET=cbcr for a chroma run (RUN=arcnn-chroma-half continues the shipped chroma U-Net's run);
# BLOCKS, UNSHUFFLE and QUALITIES pass --blocks, --unshuffle and --qualities (RUN=fast-unet
# WIDTHS=32-64-128 BLOCKS=1-1-2 UNSHUFFLE=4 QUALITIES=5-10-15-20-25-30-35-40-50-60-75: the fast
# tier's U-Net, docs/speed.md).
#
# The call sends the checkout, at most 64 MiB with the data: first, here, once per session, put the
# images it needs where they travel and leave out what it does not need (restore afterwards with
# `git reset -q` and by deleting the lines added to .git/info/exclude):
#   bash experiments/gpu_pack.sh        # RUN=NAME bash ... for another run
# The call (about MINUTES + DECAY + 1 minutes of device time):
#   run(command="bash experiments/gpu_large.sh 5 2.5", carry=[".gpu"], timeout_s=600)
# Then, here: cat files_at/pack.tar.part-* | tar x -C runs/gpu   (large/ and large-decay/).
# On the CPU, as a dry run:
#   PYTHON=.venv/bin/python ARCNN_DATA=../shared/data DEVICE=cpu BATCH=4 PATCH=64 VAL_EVERY=3 WORKERS=2 \
#   ARCNN_CACHE=~/.cache/arcnn OUT=/tmp/dry bash experiments/gpu_large.sh 0.2 0.2
set -euo pipefail
minutes=${1:-5} decay=${2:-2.5}
out=${OUT:?set OUT to the folder that comes back}
py=${PYTHON:-python3}
export PYTHONPATH=$PWD/src:$PWD${PYTHONPATH:+:$PYTHONPATH} PYTHONUNBUFFERED=1
export ARCNN_DATA=${ARCNN_DATA:-$PWD/.gpu/data} ARCNN_CACHE=${ARCNN_CACHE:-/tmp/arcnn-cache}
work=$(mktemp -d) && mkdir -p "$work/large" "$work/large-decay"
cp "experiments/checkpoints/${RUN:-arcnn-large}/"{state.safetensors,log.csv} "$work/large/" 2>/dev/null || true
opts=(--device "${DEVICE:-cuda}" --batch "${BATCH:-64}" --patch "${PATCH:-128}" --workers "${WORKERS:-12}"
      --val-every "${VAL_EVERY:-2000}" --checkpoint-s 60 ${WIDTHS:+--widths "$WIDTHS"} ${LR:+--lr "$LR"}
      ${BLOCKS:+--blocks "$BLOCKS"} ${UNSHUFFLE:+--unshuffle "$UNSHUFFLE"} ${QUALITIES:+--qualities "$QUALITIES"}
      --target "${TARGET:-y}")
step_of() { "$py" -c "import sys; from experiments.train_large import _read_info; print(_read_info(sys.argv[1])['step'])" "$1"; }
pack() { tar cf - -C "$work" . | split -b 15m - "$out/pack.tar.part-"; }
trap pack EXIT  # whatever happened, what there is comes back
timeout 180 "$py" -c "from experiments.train_large import prebuild; prebuild('${TARGET:-y}', 16, 25, '${QUALITIES:-}')"
before=$( [ -f "$work/large/state.safetensors" ] && step_of "$work/large/state.safetensors" || echo 0)
"$py" -m experiments.train_large "$work/large" --minutes "$minutes" "${opts[@]}" 2>&1 | tee "$work/large/train.log"
after=$(step_of "$work/large/state.safetensors")
steps=$("$py" -c "print(max(1, int(($after - $before) / $minutes * $decay * 0.95)))")
echo "constant phase: steps $before -> $after; decay: $steps steps"
"$py" -m experiments.train_large "$work/large-decay" --decay-from "$work/large" --decay-steps "$steps" \
  --minutes "$("$py" -c "print($decay + 1)")" "${opts[@]}" 2>&1 | tee "$work/large-decay/train.log"
"$py" -m experiments.train_large "$work/large-decay" --export "$work/large-decay/weights.safetensors"
rm "$work/large-decay/state.safetensors"  # its Adam moments are not needed: the weights are
