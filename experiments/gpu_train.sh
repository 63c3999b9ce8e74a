#!/usr/bin/env bash
# Several `arcnn train` runs at once on one CUDA GPU, each for $MINUTES of wall time.
# Usage: MINUTES=6 [DEVICE=cuda] bash experiments/gpu_train.sh JOBFILE OUTDIR
# JOBFILE: one run per line, "NAME ARGS..." (the arguments of `arcnn train` after --out; # comments);
# each run goes to OUTDIR/NAME, its console output to OUTDIR/NAME.log.
# The training images' pairs are prepared first, in parallel, so every run's clock starts on training.
set -euo pipefail
jobs=$1 out=$2
mkdir -p "$out"
export PYTHONPATH=$PWD/src${PYTHONPATH:+:$PYTHONPATH} PYTHONUNBUFFERED=1 OMP_NUM_THREADS=2
python3 - "$jobs" <<'PY'
import sys, shlex
from concurrent.futures import ProcessPoolExecutor
from arcnn.cli import _build_parser, train_config
from arcnn.train import _default_dirs
from arcnn.data import list_images, make_pairs

tasks = set()
for line in open(sys.argv[1]):
    if line.strip() and not line.startswith("#"):
        cfg = train_config(_build_parser().parse_args(["train", "--out", "x", *shlex.split(line)[1:]]))
        dirs, _ = _default_dirs(cfg)
        tasks |= {(tuple(dirs), d) for d in cfg.degradations}
def build(t):
    make_pairs(list_images(*t[0]), t[1])
with ProcessPoolExecutor(16) as ex:
    list(ex.map(build, sorted(tasks, key=repr)))
print(f"prepared {len(tasks)} pair sets")
PY
while read -r name args; do
  [[ -z $name || $name == \#* ]] && continue
  eval "python3 -c 'import sys; from arcnn.cli import main; sys.exit(main())' train --out $out/$name \
    --device ${DEVICE:-cuda} --minutes $MINUTES $args" >"$out/$name.log" 2>&1 &
done <"$jobs"
wait
