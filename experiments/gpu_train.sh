#!/usr/bin/env bash
# Several `arcnn train` runs at once on one CUDA GPU, each for $MINUTES of wall time.
# Usage, from the project root: MINUTES=6 [DEVICE=cuda] bash experiments/gpu_train.sh JOBFILE OUTDIR
# JOBFILE: one run per line, "NAME ARGS..." (the arguments of `arcnn train` after --out; # comments);
# each run goes to OUTDIR/NAME, its console output to OUTDIR/NAME.log.
# The training images' pairs are prepared first, in parallel, so every run's clock starts on training.
set -euo pipefail
jobs=$1 out=$2
mkdir -p "$out"
export PYTHONPATH=$PWD/src${PYTHONPATH:+:$PYTHONPATH} PYTHONUNBUFFERED=1 OMP_NUM_THREADS=2
python3 - "$jobs" <<'PY'
import shlex, sys
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from arcnn.cli import build_parser
from arcnn.cli.train import train_config
from arcnn.train import load_training_data

# One config per training degradation (the pair sets are cached by files and degradation), each
# built once however many runs share it.
single = {}
for line in open(sys.argv[1]):
    if line.strip() and not line.startswith("#"):
        cfg = train_config(build_parser().parse_args(["train", "--out", "x", *shlex.split(line)[1:]]))
        for d in cfg.degradations:
            one = replace(cfg, quality=d.quality, qualities=())
            single.setdefault((one.train_dirs, one.val_dir, one.val_images, d), one)
def build(cfg):
    load_training_data(cfg)
with ProcessPoolExecutor(16) as ex:
    list(ex.map(build, single.values()))
print(f"prepared {len(single)} pair sets")
PY
while read -r name args; do
  [[ -z $name || $name == \#* ]] && continue
  eval "python3 -m arcnn train --out $out/$name --device ${DEVICE:-cuda} --minutes $MINUTES $args" \
    >"$out/$name.log" 2>&1 &
done <"$jobs"
wait
