#!/usr/bin/env bash
# Make the checkout fit a device call (64 MiB with the data; see experiments/gpu_large.sh): copy the
# BSDS500 images arcnn-large trains and validates on into .gpu/data (ignored, carried), and take the
# weights and the states of other runs out of what travels (untracked and ignored here).
# Undo afterwards: git reset -q && sed -i '/# gpu_pack: from/,/# gpu_pack: to/d' .git/info/exclude
set -euo pipefail
src=${ARCNN_DATA:-../shared/data}/bsds500
mkdir -p .gpu/data/bsds500/val
cp -r "$src/train" "$src/test" .gpu/data/bsds500/
find "$src/val" -maxdepth 1 -type f | sort | head -n 25 | xargs -I{} cp {} .gpu/data/bsds500/val/
run=${RUN:-arcnn-large}  # the run that travels; the other runs' states stay
heavy=(src/arcnn/weights/*.safetensors src/arcnn/weights/onnx experiments/weights)
for d in experiments/checkpoints/*/; do [ "${d%/}" = "experiments/checkpoints/$run" ] || heavy+=("${d%/}"); done
git rm -r -q --cached "${heavy[@]}"
printf '%s\n' "# gpu_pack: from here" /.gpu/ "${heavy[@]/#//}" "# gpu_pack: to here" >> .git/info/exclude
echo "travels: $(( $(git ls-files -co --exclude-standard -z | xargs -0 cat | wc -c) / 1048576 + $(du -sm .gpu | cut -f1) )) MiB"
