"""The fidelity study on a toy model: known answers where the two scores must agree exactly."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from _toy_attributable import ToyModel
from bench.fidelity import FidelityConfig, run_fidelity, write_fidelity


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_fidelity_known_answers(tmp_path):
    model = ToyModel()
    gen = torch.Generator().manual_seed(0)
    videos = {f"v{i}": torch.rand((3, 9, 16, 16), generator=gen) * 2 - 1 for i in range(8)}
    mask = np.random.default_rng(0).random((3, 4, 4)).astype(np.float32)
    clips = [(f"v{i}", "a ball bounces") for i in range(6)]
    queries = [("v6", "a cube slides"), ("v7", "a ball spins")]
    d = sum(p.numel() for _, p in model.trainable_parameters())
    # a single timestep equal to t_fix: the "10-step mean" is the t_fix score itself, rho = 1 exactly;
    # D' = d with a dense Gaussian projection preserves the ranking almost surely well (rho near 1)
    cfg = FidelityConfig(dims=(16, d), projection_kind="dense_gaussian", timesteps=(751.0,))
    result = run_fidelity(model, clips, queries, videos.__getitem__, lambda cid: mask, cfg)
    rows = {r["dim"]: r for r in result["rows"]}
    assert rows[None]["rho_pooled"] == pytest.approx(1.0)
    assert rows[d]["rho_pooled"] > 0.9 and -1.0 <= rows[16]["rho_pooled"] <= 1.0
    assert result["clips"] == 6 and result["queries"] == 2 and result["config"]["input_dim"] == d
    paths = write_fidelity(result, tmp_path)
    assert [p.name for p in paths] == ["fidelity.csv", "fidelity.json", "fidelity.png"]
    assert all(p.stat().st_size > 0 for p in paths)


def test_gaussian_jl_ceiling_follows_the_spread_of_cosines_and_k():
    from bench.fidelity import gaussian_jl_rho

    rng = np.random.default_rng(0)
    narrow = rng.normal(0.1, 0.03, (60, 4))  # JL noise ~ 1/sqrt(k) = 0.044 at k = 512 swamps the spread
    wide = rng.normal(0.1, 0.3, (60, 4))
    assert gaussian_jl_rho(wide, 512)[0] > 0.97 > gaussian_jl_rho(narrow, 512)[0]
    assert gaussian_jl_rho(narrow, 128)[0] < gaussian_jl_rho(narrow, 512)[0] < gaussian_jl_rho(narrow, 2048)[0]
    assert gaussian_jl_rho(narrow, 512) == gaussian_jl_rho(narrow, 512)  # seeded


@pytest.mark.parametrize("k", [8, 32, 128])
def test_gaussian_jl_ceiling_matches_real_dense_gaussian_projections(k):
    """The simulated ceiling agrees with what actual dense Gaussian projections reach on the same vectors
    (measured: 0.324 vs 0.329, 0.592 vs 0.589, 0.841 vs 0.835 at k = 8, 32, 128)."""
    from scipy.stats import spearmanr

    from bench.fidelity import gaussian_jl_rho
    from curation.projection import ProjectorSpec, make_projector

    d, n_c, n_q = 1024, 60, 4
    g = torch.Generator().manual_seed(3)
    queries = torch.randn(n_q, d, generator=g, dtype=torch.float64)
    mix = torch.rand(n_c, n_q, generator=g, dtype=torch.float64) * 0.5  # exact cosines: mean 0.22, std 0.12
    clips = mix @ queries + torch.randn(n_c, d, generator=g, dtype=torch.float64)

    def cos(a, b):
        return (a / a.norm(dim=1, keepdim=True)) @ (b / b.norm(dim=1, keepdim=True)).T

    exact = cos(clips, queries).numpy()
    rhos = []
    for s in range(40):
        p = make_projector(ProjectorSpec.create("dense_gaussian", d, k, seed=s))
        est = cos(p.project(clips.float()).double(), p.project(queries.float()).double()).numpy()
        rhos.append(spearmanr(est.ravel(), exact.ravel()).statistic)
    ideal, _ = gaussian_jl_rho(exact, k, reps=40)
    assert abs(float(np.mean(rhos)) - ideal) < 0.03, (np.mean(rhos), ideal)
