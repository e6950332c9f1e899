"""Pick the learned decoder's stage on the validation prompts (the runs of reports/tiny/README.md, session 9).

    python reports/tiny/decoder_variants.py latents WORK_DIR [GUIDANCE]    # sample once, keep the final latents
    python reports/tiny/decoder_variants.py train WORK_DIR NAME noise_max=2.0 steps=4000 [width= blocks= specks= lr=]
    python reports/tiny/decoder_variants.py score WORK_DIR NAME|linear [GUIDANCE]

``latents`` samples the shipped denoiser (Heun, 30 steps, guidance 5 unless given) for the 44 validation
prompts and the 50 test prompts, 3 seed sets each (pinned seed + 0, 1, 2), and keeps the final latents, so
every decoder is scored on the very same samples (about 90 s). ``train`` runs the decoder stage
(``recipe.add_decoder``, what a full ``motive-bench pretrain`` runs after the denoiser) on the shipped
checkpoint's denoiser, seeded, into ``WORK_DIR/NAME``; with the shipped checkpoint already holding a
decoder, its denoiser-only run is rebuilt first from the same weights. ``score`` decodes the kept latents
with that decoder (``linear``: the linear latent alone) and applies the sample checks of
``python -m bench.backends.tiny.report``: one object / moves per prompt set, with the spread over the seed
sets and why videos failed the one-object check. Choose on ``val``; ``test`` is printed for the record.
"""
import json
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import torch

from bench.backends.registry import embedded_checkpoint
from bench.backends.tiny import sample_check
from bench.backends.tiny.decoder import DecoderTrainConfig
from bench.backends.tiny.model import TinyBackend
from bench.backends.tiny.recipe import RECIPE_NAME, PretrainRecipe, add_decoder
from bench.backends.tiny.report import _to_uint8
from bench.world import load_test_prompts, validation_prompts

SETS = {"val": validation_prompts, "test": load_test_prompts}


def latents(work: Path, guidance: float) -> None:
    model = TinyBackend.load(embedded_checkpoint())
    model.decode_latents = lambda z, linear=False: z.clone()  # keep what the sampler ends on
    out, t0 = {}, time.perf_counter()
    for name, prompts in SETS.items():
        ps = prompts()
        for j in range(3):
            out[f"{name}{j}"] = model.generate([p.caption for p in ps], [p.seed + j for p in ps], guidance=guidance)
    torch.save(out, work / f"latents_g{guidance:g}.pt")
    print(f"latents at guidance {guidance:g}: {time.perf_counter() - t0:.0f} s")


def denoiser_only(work: Path) -> Path:
    """The shipped checkpoint without its decoder stage (same denoiser, latent and text weights)."""
    meta = json.loads((embedded_checkpoint() / RECIPE_NAME).read_text())
    if "decoder" not in meta["recipe"]:
        return embedded_checkpoint()
    base = work / "denoiser-only"
    if not base.is_dir():
        model = TinyBackend.load(embedded_checkpoint())
        model.set_decoder(None)
        model.save(base)
        recipe = PretrainRecipe.from_dict({k: v for k, v in meta["recipe"].items() if k != "decoder"})
        kept = {k: v for k, v in meta.items() if k not in ("decoder", "weights_sha256", "parameters")}
        denoiser_seconds = meta["wall_seconds"] - meta["decoder"]["wall_seconds"]
        (base / RECIPE_NAME).write_text(json.dumps({**kept, "recipe": recipe.to_dict(), "config_hash": recipe.config_hash(),
                                                    "wall_seconds": round(denoiser_seconds, 1)}, indent=2))
    return base


def train(work: Path, name: str, options: list[str]) -> None:
    floats = ("noise_max", "lr", "specks")
    kw = {k: float(v) if k in floats else int(v) for k, _, v in (o.partition("=") for o in options)}
    out = work / name
    shutil.rmtree(out, ignore_errors=True)
    add_decoder(denoiser_only(work), DecoderTrainConfig(**kw), out, progress=False)
    meta = json.loads((out / RECIPE_NAME).read_text())
    print(f"{name}: recipe {meta['config_hash']}, decoder stage {meta['decoder']['wall_seconds']} s, "
          f"final loss {meta['decoder']['final_loss_mean_last_100']:.5f}")


def score(work: Path, name: str, guidance: float) -> None:
    linear = name == "linear"
    model = TinyBackend.load(embedded_checkpoint() if linear else work / name)
    lat = torch.load(work / f"latents_g{guidance:g}.pt")
    line = [f"{name} (guidance {guidance:g})"]
    for s, prompts in SETS.items():
        ps, one, moves, why = prompts(), [], [], []
        for j in range(3):
            o, m = sample_check.check_prompts(_to_uint8(model.decode_latents(lat[f"{s}{j}"], linear=linear)), ps, reasons=why)
            one.append(o.mean()), moves.append(m.mean())
        fails = {r: why.count(r) for r in sample_check.ONE_OBJECT_FAILURES}
        line.append(f"{s}: one object {np.mean(one):.3f} ({min(one):.2f}-{max(one):.2f}), moves {np.mean(moves):.3f} "
                    f"({min(moves):.2f}-{max(moves):.2f}) {fails}")
    print(" | ".join(line), flush=True)


if __name__ == "__main__":
    torch.set_num_threads(2)
    command, work = sys.argv[1], Path(sys.argv[2])
    work.mkdir(parents=True, exist_ok=True)
    if command == "latents":
        latents(work, float(sys.argv[3]) if len(sys.argv) > 3 else 5.0)
    elif command == "train":
        train(work, sys.argv[3], sys.argv[4:])
    elif command == "score":
        score(work, sys.argv[3], float(sys.argv[4]) if len(sys.argv) > 4 else 5.0)
    else:
        raise SystemExit(__doc__)
