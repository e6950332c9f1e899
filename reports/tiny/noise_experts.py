"""Experiment (nothing shipped): noise-level experts, Wan2.2's pattern, on the tiny backend.

Three sub-commands, run from the repository root:

    python reports/tiny/noise_experts.py train STEPS LO HI OUT_DIR
        continue the shipped checkpoint STEPS more steps of its recipe on sigma in [LO, HI] only
        (``TrainConfig.sigma_range``: the recipe's logit-normal law truncated to the band; fresh
        optimizer, EMA restarted from the checkpoint, batches of steps 12,000 onward) and save it.
    python reports/tiny/noise_experts.py eval HIGH LOW B {val,test} GUIDANCE... [heun] [learned]
        sample with HIGH's velocity while sigma > B and LOW's at or below (each with its own text
        encoder; ``base`` = the shipped checkpoint), 3 seed sets, and print the sample checks, the grain
        (mean |difference| of horizontally adjacent pixels, 0-255) and the one-object failure tally.
        By default as session 5 measured: Euler, decoded by the linear latent; ``heun`` samples with the
        default Heun rule and ``learned`` decodes with HIGH's learned decoder (session 10).
    python reports/tiny/noise_experts.py x0 {val,test}
        a diagnostic of the shipped checkpoint: stop its Euler sampler (guidance 5) at sigma <= s and take
        the denoiser's clean-video prediction ``z - sigma v`` as the video.

``val`` is the validation set of ``guidance_on_validation.py`` (the query appearances on plain
backgrounds, never a test prompt); the band edge and guidance are picked there, and the test prompts
are then measured once.
"""
import dataclasses
import json
import os
import sys
import time

import numpy as np
import torch

from bench.backends.registry import embedded_checkpoint, load_backend
from bench.backends.tiny import sample_check
from bench.backends.tiny.model import TinyBackend
from bench.backends.tiny.report import _to_uint8
from bench.backends.tiny.sampler import initial_noise, sample
from bench.world import load_test_prompts, validation_prompts

torch.set_num_threads(int(os.environ.get("THREADS", "2")))


def load(path):
    return load_backend("tiny") if path == "base" else TinyBackend.load(path)


def prompt_set(which):
    return load_test_prompts() if which == "test" else validation_prompts()


class TwoExperts:
    """What the sampler needs of a backend, with the velocity taken from ``high`` while sigma > ``b``."""

    def __init__(self, high, low, b):
        self.high, self.low, self.b = high, low, b
        self.video_format, self.latent_geometry, self.device = high.video_format, high.latent_geometry, high.device

    def encode_prompt(self, texts):
        return torch.cat([self.high.encode_prompt(texts), self.low.encode_prompt(texts)], 1)

    def velocity(self, z, t, emb):
        d = emb.shape[1] // 2
        if float(t.flatten()[0]) / 1000 > self.b:
            return self.high.velocity(z, t, emb[:, :d])
        return self.low.velocity(z, t, emb[:, d:])

    def decode_latents(self, z, linear=False):
        return self.high.decode_latents(z, linear=linear)


def train(steps, lo, hi, out, weights=None, label=None):
    """Continue the shipped checkpoint ``steps`` steps on sigma in [lo, hi] (optional loss ``weights``, see
    ``pretrain``) and save it to ``out`` with its recipe and a note; ``label`` names the run in the printout."""
    from bench.backends.tiny.recipe import PretrainRecipe, load_corpus
    from bench.backends.tiny.train import pretrain

    meta = json.load(open(embedded_checkpoint() / "recipe.json"))
    recipe, start = PretrainRecipe.from_dict(meta["recipe"]), meta["steps_done"]
    clips, captions, _ = load_corpus(recipe, progress=False)
    model = load_backend("tiny")
    cfg = dataclasses.replace(recipe.train, steps=start + steps, sigma_range=(lo, hi), threads=torch.get_num_threads())
    t0 = time.perf_counter()
    losses = pretrain(model, clips, captions, cfg, start_step=start, progress=False, weights=weights)
    label = label or f"expert [{lo},{hi}]"
    print(f"{label} {steps} steps: {time.perf_counter() - t0:.0f}s, "
          f"loss first-50 {np.mean(losses[:50]):.4f} last-100 {np.mean(losses[-100:]):.4f}", flush=True)
    model.denoiser.eval(), model.text_encoder.eval()
    model.save(out)
    note = f"{label}: continued {steps} steps on sigma in [{lo},{hi}]"
    json.dump({**meta, "steps_done": start + steps, "note": note}, open(f"{out}/recipe.json", "w"), indent=2)


def evaluate(high, low, b, which, guidances, sampler="euler", linear_decode=True):
    model = TwoExperts(load(high), load(low), b)
    prompts = prompt_set(which)
    texts = [p.caption for p in prompts]
    for g in guidances:
        t0 = time.perf_counter()
        one, moves, grain, why = [], [], [], []
        for j in range(3):
            u = _to_uint8(sample(model, texts, [p.seed + j for p in prompts], guidance=g, sampler=sampler, linear_decode=linear_decode))
            o, m = sample_check.check_prompts(u, prompts, reasons=why)
            one.append(o.mean()), moves.append(m.mean())
            grain.append(float(np.abs(np.diff(u.astype(np.float32), axis=-2)).mean()))
        tally = {k: why.count(k) for k in sample_check.ONE_OBJECT_FAILURES}
        print(f"{which} {os.path.basename(high)} > {b} > {os.path.basename(low)}, guidance {g}, {sampler}, "
              f"{'linear' if linear_decode else 'learned'} decode: "
              f"one {np.mean(one):.2f} ({min(one):.2f}-{max(one):.2f}) moves {np.mean(moves):.2f} "
              f"({min(moves):.2f}-{max(moves):.2f}) grain {np.mean(grain):.1f} {tally} ({time.perf_counter() - t0:.0f} s)", flush=True)


@torch.no_grad()
def x0_diagnostic(which, guidance=5.0, stops=(0.6, 0.4, 0.3, 0.2, 0.1)):
    from diffusers import FlowMatchEulerDiscreteScheduler

    model = load_backend("tiny")
    prompts = prompt_set(which)
    texts = [p.caption for p in prompts]
    res = {}
    for j in range(3):
        emb, null = model.encode_prompt(texts), model.encode_prompt([""] * len(texts))
        z = initial_noise(model, [p.seed + j for p in prompts])
        sch = FlowMatchEulerDiscreteScheduler(num_train_timesteps=1000)
        sch.set_timesteps(30)
        outs = {}
        for i, t in enumerate(sch.timesteps):
            sig, tt = float(sch.sigmas[i]), t.expand(z.shape[0]).to(z.dtype)
            vn = model.velocity(z, tt, null)
            v = vn + guidance * (model.velocity(z, tt, emb) - vn)
            for s in stops:
                if s not in outs and sig <= s:
                    outs[s] = model.decode_latents(z - sig * v, linear=True)  # as measured
            z = sch.step(v, t, z).prev_sample
        outs[0.0] = model.decode_latents(z, linear=True)
        for s, video in outs.items():
            u = _to_uint8(video)
            o, m = sample_check.check_prompts(u, prompts)
            res.setdefault(s, []).append((o.mean(), m.mean(), float(np.abs(np.diff(u.astype(np.float32), axis=-2)).mean())))
    for s in sorted(res):
        a = np.array(res[s])
        label = "the sample" if s == 0 else f"x0 at sigma <= {s}"
        print(f"{which} {label}: one {a[:, 0].mean():.2f} moves {a[:, 1].mean():.2f} grain {a[:, 2].mean():.1f}")


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "train":
        train(int(args[0]), float(args[1]), float(args[2]), args[3])
    elif cmd == "eval":
        flags = {"heun", "learned"}
        evaluate(args[0], args[1], float(args[2]), args[3], [float(g) for g in args[4:] if g not in flags],
                 sampler="heun" if "heun" in args else "euler", linear_decode="learned" not in args)
    elif cmd == "x0":
        x0_diagnostic(args[0])
    else:
        sys.exit(__doc__)
