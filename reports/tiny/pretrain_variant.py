"""Run the committed pretraining recipe, with some fields changed (the runs of reports/tiny/README.md):

    python reports/tiny/pretrain_variant.py OUT_DIR steps=12000                              # the shipped run
    python reports/tiny/pretrain_variant.py OUT_DIR steps=10000 train.min_lr_ratio=0.1      # cosine decay
    python reports/tiny/pretrain_variant.py OUT_DIR steps=4000 block_out_channels=128,128,128   # wider UNet

``steps`` and ``train.X`` set fields of the TrainConfig, ``decoder.X`` fields of the learned decoder's stage
(``decoder=none`` leaves the stage out), other names fields of the PretrainRecipe (a comma list becomes a
tuple of ints). The run is ``run_pretraining`` (what ``motive-bench pretrain`` calls), 2 threads,
keeping a snapshot every 1,000 steps under ``OUT_DIR/snapshots/`` when the learning rate is constant (then the
step-k snapshot is the k-step run). Measure a result with ``python -m bench.backends.tiny.report --checkpoint
OUT_DIR --out ...``.
"""
import json
import sys
from pathlib import Path

from bench.backends.registry import embedded_checkpoint
from bench.backends.tiny.recipe import PretrainRecipe, run_pretraining


def value(text: str):
    if "," in text:
        return [int(x) for x in text.split(",")]
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text


def main(out: str, overrides: list[str]) -> None:
    base = json.loads((embedded_checkpoint() / "recipe.json").read_text())["recipe"]
    train = {**base["train"], "threads": 2, "save_every": 1000}
    decoder = base.pop("decoder", None)
    decoder = dict(decoder, threads=2) if decoder else None
    for arg in overrides:
        key, _, text = arg.partition("=")
        if key == "steps" or key.startswith("train."):
            train[key.removeprefix("train.")] = value(text)
        elif key.startswith("decoder."):
            decoder = {**(decoder or {"threads": 2}), key.removeprefix("decoder."): value(text)}
        elif key == "decoder" and text == "none":
            decoder = None
        else:
            base[key] = value(text)
    recipe = PretrainRecipe.from_dict({**base, "train": train, "decoder": decoder})
    print("recipe", recipe.config_hash(), flush=True)
    run_pretraining(recipe, Path(out), progress=True, snapshots=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
