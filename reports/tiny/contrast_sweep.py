"""Session 11's sampler sweep on the validation prompts: guidance intervals, restarts, x0 thresholding, and
composable-guidance contrasts with parts of the prompt taken out (place, cue clause, verb).

    python reports/tiny/contrast_sweep.py K SETTING [SETTING ...]

``K`` seed sets (pinned seed + 0 .. K-1) of ``bench.world.validation_prompts()``, the shipped checkpoint, 2
threads; each SETTING is a comma list of ``key=value`` (all floats):

* ``g``: guidance (default 5); ``lo`` / ``hi``: guide only while lo < sigma <= hi;
* ``clamp``: clamp the clean-latent prediction to [-clamp, clamp]; with ``dyn=q``, clamp each video at its
  q-quantile of |x0| instead (Imagen's dynamic thresholding, never below ``clamp``);
* ``rs`` / ``rt`` / ``rk`` / ``rn``: restart sampling (Xu et al. 2023): integrate to sigma rs, re-noise to rt,
  integrate back with rn Heun points, rk times, then go on;
* contrasts, each ``v <- v + w (v - v_contrast)`` before classifier-free guidance, ``w`` the value:
  ``np`` (the prompt without its start place, as the sampler's ``place_guidance``; ``nplo``: only at sigma >
  nplo; ``npf=k``: only on the first k latent frames), ``nc`` (without the cue clause), ``nv`` (without the
  verb and the cue clause); ``negnp=1`` uses the place-less prompt as the guidance's negative instead of "".

Heun's rule on the sampler's own grid (30 steps, uniform in sigma), written out so the variants can hook into
each step; with no variant it gives the shipped sampler's shares exactly (0.795 / 0.697 on 3 seed sets).
Prints the one-object share (range over the seed sets), the motion share and the one-object failures (no
object / several objects / too few frames, summed over the seed sets).
"""
import sys
import time

import numpy as np
import torch

from bench.backends.registry import embedded_checkpoint
from bench.backends.tiny import sample_check
from bench.backends.tiny.model import TinyBackend
from bench.backends.tiny.report import _to_uint8
from bench.backends.tiny.sampler import initial_noise
from bench.world import validation_prompts
from bench.world.captions import VERBS, without_place
from curation.seeds import torch_generator

torch.set_num_threads(2)
model = TinyBackend.load(embedded_checkpoint())
prompts = validation_prompts()
texts = [p.caption for p in prompts]


def without_cue(x: str) -> str:
    return x.split(",")[0]


def without_verb(x: str) -> str:
    x = without_cue(x)
    for verb in VERBS.values():
        x = x.replace(f" {verb} ", " ")
    return x


def velocity(z, sigma, emb, null, contrasts, o):
    t = torch.full((z.shape[0],), sigma * 1000.0)
    v = model.velocity(z, t, emb)
    for key, e in contrasts.items():
        if o.get(key + "lo", 0.0) < sigma:
            d = v - model.velocity(z, t, e)
            if key == "np" and "npf" in o:  # only the first npf latent frames (latent frame 0 is frame 0 alone)
                d[:, :, int(o["npf"]):] = 0
            v = v + o[key] * d
    g = o.get("g", 5.0)
    if g != 1 and o.get("lo", 0.0) < sigma <= o.get("hi", 1.0):
        vn = model.velocity(z, t, null)
        v = vn + g * (v - vn)
    if "clamp" in o:
        x0 = z - sigma * v
        if "dyn" in o:
            s = torch.quantile(x0.abs().flatten(1), o["dyn"], dim=1).clamp_min(o["clamp"]).view(-1, *[1] * (x0.ndim - 1))
            x0 = torch.maximum(torch.minimum(x0, s), -s)
        else:
            x0 = x0.clamp(-o["clamp"], o["clamp"])
        v = (z - x0) / sigma
    return v


def heun(z, sigmas, *args):
    for a, b in zip(sigmas[:-1], sigmas[1:]):
        d = velocity(z, a, *args)
        z_next = z + (b - a) * d
        if b > 0:
            z_next = z + (b - a) * 0.5 * (d + velocity(z_next, b, *args))
        z = z_next
    return z


@torch.no_grad()
def generate(seeds, o):
    out = []
    for lo in range(0, len(texts), 25):
        p, s = texts[lo:lo + 25], seeds[lo:lo + 25]
        emb = model.encode_prompt(p)
        null = model.encode_prompt([without_place(x) for x in p] if o.get("negnp") else [""] * len(p))
        contrasts = {key: model.encode_prompt([f(x) for x in p])
                     for key, f in (("np", without_place), ("nc", without_cue), ("nv", without_verb)) if o.get(key)}
        args = (emb, null, contrasts, o)
        z = initial_noise(model, list(s))
        sig = [float(x) for x in np.linspace(1.0, 1.0 / 1000, 30)] + [0.0]
        if "rs" in o:
            i = min(range(len(sig)), key=lambda j: abs(sig[j] - o["rs"]))
            rs, rt = sig[i], o["rt"]
            z = heun(z, sig[: i + 1], *args)
            for k in range(int(o.get("rk", 1))):
                eps = torch.stack([torch.randn(z.shape[1:], generator=torch_generator(int(x), "tiny", "restart", str(k))) for x in s])
                a = (1 - rt) / (1 - rs)
                z = a * z + (rt ** 2 - (a * rs) ** 2) ** 0.5 * eps
                z = heun(z, [float(x) for x in np.linspace(rt, rs, int(o.get("rn", 8)))], *args)
            z = heun(z, sig[i:], *args)
        else:
            z = heun(z, sig, *args)
        out.append(model.decode_latents(z))
    return torch.cat(out)


K = int(sys.argv[1])
for arg in sys.argv[2:]:
    o = {k: float(v) for k, _, v in (x.partition("=") for x in arg.split(","))}
    t0 = time.perf_counter()
    why: list[str] = []
    one, moves = (a.mean(1) for a in sample_check.check_seed_sets(lambda seeds: _to_uint8(generate(seeds, o)), prompts, K, reasons=why))
    fails = [why.count(w) for w in sample_check.ONE_OBJECT_FAILURES]
    print(f"{arg}: one object {np.mean(one):.3f} ({min(one):.2f}-{max(one):.2f}), moves {np.mean(moves):.3f}, "
          f"failures {fails} ({time.perf_counter() - t0:.0f} s)", flush=True)
