"""Run the committed pretraining recipe with a snapshot every 1,000 steps (how the shipped checkpoint and
the training curve of reports/tiny/README.md were made), then measure a snapshot with the report:

    python reports/tiny/pretrain_with_snapshots.py OUT_DIR [STEPS]      # default: the committed recipe's steps
    python -m bench.backends.tiny.report --checkpoint OUT_DIR/snapshots/step-004000 --out /tmp/curve-4000 --guidance 5

The run is `bench.backends.tiny.recipe.run_pretraining`, which `motive-bench pretrain` calls; with the
recipe's constant learning rate, the step-k snapshot is the k-step run of the same recipe.
"""
import json
import sys
from pathlib import Path

from bench.backends.registry import embedded_checkpoint
from bench.backends.tiny.recipe import PretrainRecipe, run_pretraining

out = Path(sys.argv[1])
base = json.loads((embedded_checkpoint() / "recipe.json").read_text())["recipe"]
train = {**base["train"], "threads": 2, "save_every": 1000}
if len(sys.argv) > 2:
    train["steps"] = int(sys.argv[2])
recipe = PretrainRecipe.from_dict({**base, "train": train})
print("recipe", recipe.config_hash(), flush=True)
run_pretraining(recipe, out, progress=True, snapshots=True)
