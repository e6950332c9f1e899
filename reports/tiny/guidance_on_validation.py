"""Pick the sampler's guidance on validation prompts, never on the 50 test prompts.

The validation prompts are the query set's 50 appearances (5 per category, none a test prompt's) on a
plain background as every test prompt's is (the one that would then equal a test prompt's appearance is
left out), each captioned as a test prompt is (caption + the category's cue clause) and seeded by its query
seed; the same sample checks as ``python -m bench.backends.tiny.report`` are applied over 3 seed sets. Run from the
repository root:

    python reports/tiny/guidance_on_validation.py CHECKPOINT_DIR [GUIDANCE ...]     # default 3 4 5 6 7

A guidance written ``7@0.5`` is applied only while sigma > 0.5 (the sampler's ``guidance_above``); ``7,r=0.7``
adds the sampler's ``guidance_rescale`` 0.7 and ``7,p=0`` its ``guidance_parallel`` 0 (projected guidance).
"""
import dataclasses
import sys
import time
from types import SimpleNamespace

import numpy as np
import torch

from bench.backends.tiny import sample_check
from bench.backends.tiny.model import TinyBackend
from bench.backends.tiny.report import _to_uint8
from bench.backends.tiny.sampler import sample
from bench.world import WorldConfig, build_queries, load_test_prompts, prompt_text

torch.set_num_threads(1)
model = TinyBackend.load(sys.argv[1])
test_keys = {p.appearance.key() for p in load_test_prompts()}
prompts = []
for s in build_queries(WorldConfig()):
    a = dataclasses.replace(s.appearance, background="plain")
    if a.key() not in test_keys:
        prompts.append(SimpleNamespace(category=s.category, appearance=a, caption=prompt_text(s.category, a), seed=s.seed))
texts = [p.caption for p in prompts]


def generate(seeds, guidance, above=0.0, **options):
    return _to_uint8(sample(model, texts, seeds, guidance=guidance, guidance_above=above, **options))


NAMES = {"r": "guidance_rescale", "p": "guidance_parallel"}


for arg in sys.argv[2:] or ["3", "4", "5", "6", "7"]:
    head, *rest = arg.split(",")
    g, _, above = head.partition("@")
    options = {NAMES[k]: float(x) for k, _, x in (r.partition("=") for r in rest)}
    t0 = time.perf_counter()
    one, moves = [], []
    for j in range(3):
        o, m = sample_check.check_prompts(generate([p.seed + j for p in prompts], float(g), float(above or 0), **options), prompts)
        one.append(o.mean()), moves.append(m.mean())
    print(f"guidance {arg}: one object {np.mean(one):.2f} ({min(one):.2f}-{max(one):.2f}), "
          f"moves {np.mean(moves):.2f} ({min(moves):.2f}-{max(moves):.2f}) ({time.perf_counter() - t0:.0f} s)", flush=True)
