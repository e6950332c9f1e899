"""Experiment (nothing shipped, session 10): a decoder trained on the denoiser's own samples.

The shipped decoder learns to undo Gaussian noise added to clean latents. The denoiser's errors are not
Gaussian: this experiment gives the decoder inputs with the denoiser's real residue and a known target.
Each corpus clip's latent is noised to a random sigma_start ~ U(0.1, 0.8) and sampled back to 0 by the
shipped denoiser (Heun on the grid linspace(1, 0, 31) from the first grid sigma <= sigma_start, guidance 5,
its cue caption), an SDEdit round trip; the decoder then trains on a mix of those latents and the shipped
recipe's noised clean latents, with the clean clip as the target. Run from the repository root:

    python reports/tiny/refiner_pool.py pool WORK_DIR               # the 2,000 round trips (about 3 min on 2 processes)
    python reports/tiny/refiner_pool.py train WORK_DIR FRAC [POOL_NOISE]
        4,000 steps of the shipped decoder recipe with a share FRAC of each batch taken from the pool
        (plus Gaussian noise of scale U(0, POOL_NOISE)), then scored as ``decoder_variants.py score`` does
        on that script's kept latents (``WORK_DIR/latents_g5.pt``, made by its ``latents`` command).

Choose on ``val``; ``test`` is printed for the record.
"""
import json
import sys
import time
from pathlib import Path

import torch

from bench.backends.registry import embedded_checkpoint
from bench.backends.tiny.decoder import DecoderTrainConfig, fresh_decoder, train_decoder
from bench.backends.tiny.model import TinyBackend
from bench.backends.tiny.recipe import RECIPE_NAME, PretrainRecipe, load_corpus
from bench.backends.tiny.train import to_unit
from curation.seeds import torch_generator

GUIDANCE, GRID = 5.0, torch.linspace(1, 0, 31)


def corpus():
    recipe = PretrainRecipe.from_dict(json.loads((embedded_checkpoint() / RECIPE_NAME).read_text())["recipe"])
    clips, captions, _ = load_corpus(recipe, progress=False)
    return clips, captions


@torch.no_grad()
def round_trips(model, clips, captions, idx):
    """The SDEdit round trip of the module docstring for corpus clips ``idx``: final latents ``(len(idx), ...)``."""
    x = model.encode_video(to_unit(clips[idx]))
    gens = [torch_generator(i, "refiner-pool", "draw") for i in idx]
    s0 = torch.tensor([0.1 + 0.7 * float(torch.rand(1, generator=g)) for g in gens])
    eps = torch.stack([torch.randn(x.shape[1:], generator=g) for g in gens])
    emb, null = model.encode_prompt([captions[i][1] for i in idx]), model.encode_prompt([""] * len(idx))
    start = torch.stack([(GRID <= s).nonzero()[0, 0] for s in s0])
    s = GRID[start].view(-1, 1, 1, 1, 1)
    z = (1 - s) * x + s * eps

    def velocity(z, sigma, e, n):
        t = torch.full((z.shape[0],), 1000 * sigma)
        v_null = model.velocity(z, t, n)
        return v_null + GUIDANCE * (model.velocity(z, t, e) - v_null)

    for k in range(len(GRID) - 1):
        a, b = float(GRID[k]), float(GRID[k + 1])
        on = start <= k  # clips whose round trip has begun
        if not on.any():
            continue
        za = z[on]
        d1 = velocity(za, a, emb[on], null[on])
        ze = za + (b - a) * d1
        if b > 0:
            ze = za + (b - a) * (d1 + velocity(ze, b, emb[on], null[on])) / 2
        z[on] = ze
    return z


def pool(work: Path, part: int, parts: int) -> None:
    torch.set_num_threads(1)  # one process per core
    model = TinyBackend.load(embedded_checkpoint())
    clips, captions = corpus()
    idx = list(range(part, clips.shape[0], parts))
    out, t0 = [], time.perf_counter()
    for lo in range(0, len(idx), 25):
        out.append(round_trips(model, clips, captions, idx[lo : lo + 25]))
    torch.save({"index": idx, "latents": torch.cat(out)}, work / f"pool_{part}.pt")
    print(f"pool part {part}: {len(idx)} round trips, {time.perf_counter() - t0:.0f} s", flush=True)


def train(work: Path, frac: float, pool_noise: float) -> None:
    import decoder_variants  # noqa: E402  (this folder's script: its scorer)

    cfg = DecoderTrainConfig(threads=torch.get_num_threads())
    model = TinyBackend.load(embedded_checkpoint())
    model.set_decoder(fresh_decoder(model, cfg))
    clips, _ = corpus()
    parts = [torch.load(p) for p in sorted(work.glob("pool_*.pt"))]
    pooled = torch.empty((clips.shape[0], *parts[0]["latents"].shape[1:]))
    for p in parts:
        pooled[p["index"]] = p["latents"]

    def with_pool(idx, z, g):  # the shipped decoder stage, with part of each batch from the pool
        use = (torch.rand(cfg.batch_size, generator=g) < frac).view(-1, 1, 1, 1, 1)
        zp = pooled[idx] + pool_noise * torch.rand(cfg.batch_size, 1, 1, 1, 1, generator=g) * torch.randn(z.shape, generator=g)
        return torch.where(use, zp, z)

    t0 = time.perf_counter()
    losses = train_decoder(model, clips, cfg, progress=False, inputs=with_pool)
    name = f"pool-f{frac:g}-n{pool_noise:g}"
    model.save(work / name)
    print(f"{name}: {time.perf_counter() - t0:.0f} s, final loss {sum(losses[-100:]) / 100:.5f}", flush=True)
    decoder_variants.score(work, name, GUIDANCE)


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    command, work = sys.argv[1], Path(sys.argv[2])
    work.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(1 if command == "pool" else 2)
    if command == "pool":
        import multiprocessing as mp

        with mp.get_context("spawn").Pool(2) as workers:
            workers.starmap(pool, [(work, 0, 2), (work, 1, 2)])
    elif command == "train":
        train(work, float(sys.argv[3]), float(sys.argv[4]) if len(sys.argv) > 4 else 0.0)
    else:
        raise SystemExit(__doc__)
