"""Pick the sampler's guidance on validation prompts, never on the 50 test prompts.

The validation prompts are ``bench.world.validation_prompts()`` (the query set's appearances on a plain
background, captioned and seeded as test prompts are); the same sample checks as ``python -m bench.backends.tiny.report`` are applied over 3 seed sets. Run from the
repository root:

    python reports/tiny/guidance_on_validation.py CHECKPOINT_DIR [GUIDANCE ...]     # default 3 4 5 6 7

A guidance written ``7@0.5`` is applied only while sigma > 0.5 (the sampler's ``guidance_above``); ``7,r=0.7``
adds the sampler's ``guidance_rescale`` 0.7 and ``7,p=0`` its ``guidance_parallel`` 0 (projected guidance);
``5,s=euler`` samples with Euler's rule instead of the default Heun's (the figures recorded before session 7
were Euler's: add ``,s=euler`` to their commands) and ``5,n=60`` with 60 steps instead of 30. ``5,d=linear``
decodes by the linear latent alone, skipping the model's learned decoder (every figure recorded before
session 9 was decoded so: add ``,d=linear`` to their commands). ``5,w=1,wa=0.7`` adds the sampler's place
guidance (weight 1 while sigma > 0.7). Session 11's figures were made with 6 seed sets and 2 threads:
``SEED_SETS=6 THREADS=2 python reports/tiny/guidance_on_validation.py ...``.
"""
import os
import sys
import time

import numpy as np
import torch

from bench.backends.tiny import sample_check
from bench.backends.tiny.model import TinyBackend
from bench.backends.tiny.report import _to_uint8
from bench.backends.tiny.sampler import sample
from bench.world import validation_prompts

torch.set_num_threads(int(os.environ.get("THREADS", "1")))
SEED_SETS = int(os.environ.get("SEED_SETS", "3"))
model = TinyBackend.load(sys.argv[1])
prompts = validation_prompts()
texts = [p.caption for p in prompts]


def generate(seeds, guidance, above=0.0, **options):
    return _to_uint8(sample(model, texts, seeds, guidance=guidance, guidance_above=above, **options))


NAMES = {"r": "guidance_rescale", "p": "guidance_parallel", "s": "sampler", "n": "steps", "d": "linear_decode",
         "w": "place_guidance", "wa": "place_guidance_above"}
CASTS = {"sampler": str, "steps": int, "linear_decode": lambda x: x == "linear"}


for arg in sys.argv[2:] or ["3", "4", "5", "6", "7"]:
    head, *rest = arg.split(",")
    g, _, above = head.partition("@")
    options = {NAMES[k]: CASTS.get(NAMES[k], float)(x) for k, _, x in (r.partition("=") for r in rest)}
    t0 = time.perf_counter()
    one, moves = (a.mean(1) for a in sample_check.check_seed_sets(
        lambda seeds: generate(seeds, float(g), float(above or 0), **options), prompts, SEED_SETS))
    print(f"guidance {arg}: one object {np.mean(one):.2f} ({min(one):.2f}-{max(one):.2f}), "
          f"moves {np.mean(moves):.2f} ({min(moves):.2f}-{max(moves):.2f}) ({time.perf_counter() - t0:.0f} s)", flush=True)
