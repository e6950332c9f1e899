"""Speed of the embedded tiny backend (pytest-benchmark; run with ``pytest --benchmark-only -m "not gpu" tests/benchmarks/test_backend_tiny_speed.py``).

The figure attribution cares about: one clip's forward + backward at batch 1 through all trainable
parameters, at t = 751, one torch thread.
"""

from __future__ import annotations

import pytest
import torch

from bench.backends.registry import load_backend


@pytest.fixture(scope="module")
def model():
    torch.set_num_threads(1)
    return load_backend("tiny")


def test_forward_backward_batch1(benchmark, model):
    gen = torch.Generator().manual_seed(0)
    x = model.encode_video(torch.rand(1, 3, 17, 32, 32, generator=gen) * 2 - 1)
    eps = torch.randn(x.shape, generator=gen)
    emb = model.encode_prompt(["a small red ball falls on a plain gray background"])
    t = torch.tensor([751.0])
    z = 0.249 * x + 0.751 * eps

    def step():
        model.denoiser.zero_grad(set_to_none=True)
        loss = (model.velocity(z, t, emb) - (eps - x)).square().mean()
        loss.backward()

    benchmark(step)


def test_generate_one_video_30_steps(benchmark, model):
    benchmark.pedantic(model.generate, args=(["a small red ball falls on a plain gray background"], [0]), kwargs={"steps": 30}, rounds=3)
