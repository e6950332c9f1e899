"""pytest-benchmark timings of the projection and the scoring core (skipped by default; run with
``python -m pytest tests/benchmarks/test_bench_projection.py --benchmark-enable``).

Ratios measured in one run, with the d = 10^7 and 10^8 cases and peak memory, come from
``tests/benchmarks/projection_ratios.py`` (figures in ``reports/benchmarks/projection.md``).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from curation.influence import cosine_scores
from curation.projection import ProjectorSpec, make_projector
from curation.select import majority_vote

D = 1 << 20
K = 512
BATCH = 8


@pytest.fixture(scope="module")
def grads() -> torch.Tensor:
    return torch.randn(BATCH, D, generator=torch.Generator().manual_seed(0))


def test_fastfood_d2e20_batch8(benchmark, grads):
    proj = make_projector(ProjectorSpec.create("fastfood", D, K, seed=0))
    out = benchmark(proj.project, grads)
    assert out.shape == (BATCH, K)


def test_fastfood_d2e20_batch8_regenerated(benchmark, grads):
    proj = make_projector(ProjectorSpec.create("fastfood", D, K, seed=0), cache_bytes=0)
    out = benchmark(proj.project, grads)
    assert out.shape == (BATCH, K)


def test_fastfood_stream_of_parameter_chunks(benchmark, grads):
    proj = make_projector(ProjectorSpec.create("fastfood", D, K, seed=0))
    chunks = list(torch.split(grads, 4099, dim=1))
    out = benchmark(proj.project_stream, chunks)
    assert out.shape == (BATCH, K)


def test_stored_matrix_matmul_d2e20_batch8(benchmark, grads):
    w = torch.randn(D, K) / K**0.5
    out = benchmark(torch.matmul, grads, w)
    assert out.shape == (BATCH, K)


def test_scores_10k_by_50_and_majority_vote(benchmark):
    rng = np.random.default_rng(0)
    train = rng.normal(size=(10_000, K)).astype(np.float32)
    query = rng.normal(size=(50, K)).astype(np.float32)
    sel = benchmark(lambda: majority_vote(cosine_scores(train, query)))
    assert sel.count == 1000
