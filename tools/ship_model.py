"""Copy a finished run's weights into the package and its log into docs/logs.

    python tools/ship_model.py runs/arcnn-q10 arcnn-q10

Also draws the training curves next to the log. Prints the manifest line to put in
src/arcnn/manifest.py (``FILES``: the file's sha256) and the provenance stored in the weights;
add the model's ModelCard to src/arcnn/zoo.py, then run ``python -m benchmarks.zoo_table --write``.
"""

import shutil
import sys
from pathlib import Path

from arcnn.files import atomic_write
from arcnn.manifest import sha256_file
from arcnn.plot import plot_logs
from arcnn.weights import read_weights
from arcnn.zoo import WEIGHTS_DIR

run, name = Path(sys.argv[1]), sys.argv[2]
src = run / "model.safetensors"
meta, _ = read_weights(src)
dst = WEIGHTS_DIR / f"{name}.safetensors"
with atomic_write(dst) as tmp:
    shutil.copyfile(src, tmp)
logs = Path(__file__).resolve().parents[1] / "docs" / "logs"
logs.mkdir(parents=True, exist_ok=True)
shutil.copyfile(run / "log.csv", logs / f"{name}.csv")
shutil.copyfile(run / "config.json", logs / f"{name}.config.json")
plot_logs({name: logs / f"{name}.csv"}, logs / f"{name}.png", title=f"{name}, {meta.get('samples')} samples")
print(f'{dst}\nmanifest: "weights/{dst.name}": "{sha256_file(dst)}",')
for k in ("command", "git_revision", "train_seconds", "samples"):
    print(f"{k}: {meta.get(k)}")
