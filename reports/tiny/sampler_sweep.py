"""Sampler sweep for the tiny backend: the sample checks of the 50 test prompts at several Euler step counts
and scheduler shifts (guidance 3), plus a graininess figure (mean |difference| of horizontally adjacent
pixels, 0-255). Run from the repository root: ``python reports/tiny/sampler_sweep.py``."""
import sys, time, numpy as np, torch
torch.set_num_threads(2)
from bench.backends.registry import load_backend
from bench.backends.tiny import sample_check
from bench.backends.tiny.sampler import sample
from bench.backends.tiny.report import _to_uint8
from bench.world import load_test_prompts
model = load_backend("tiny")
prompts = load_test_prompts()
texts = [tp.caption for tp in prompts]; seeds = [tp.seed for tp in prompts]
h = model.video_format[1]
for steps, shift, g in [(30,1.0,3.0),(100,1.0,3.0),(30,3.0,3.0),(30,0.33,3.0)]:
    t0=time.perf_counter()
    gen = _to_uint8(sample(model, texts, seeds, steps=steps, guidance=g, shift=shift, sampler="euler", linear_decode=True))  # as measured
    one, mv = sample_check.check_prompts(gen, prompts, height=h)
    # graininess: mean abs difference between horizontally adjacent pixels
    grain = float(np.abs(np.diff(gen.astype(np.float32), axis=-2)).mean())
    print(f"steps {steps} shift {shift} g {g}: one {np.mean(one):.2f} moves {np.mean(mv):.2f} grain {grain:.1f} ({time.perf_counter()-t0:.0f}s)", flush=True)
