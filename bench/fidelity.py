"""The fidelity study: how well cheap attribution scores track expensive ones.

Two questions, on the world's clips and queries with the pretrained tiny model and motion masks:

1. **Projection dimension.** Spearman rho between projected-cosine scores (Fastfood, ``D'`` in
   ``{128, 256, 512, 1024, 2048}``) and exact cosine scores of the full, unprojected gradients, over every
   (clip, query) pair. Reported pooled over all pairs and as the mean of per-query rhos (the paper's Fig. 4
   gives 46.9% / 74.7% / 75.7% / 76.1% for 128 / 512 / 1024 / 2048 on Wan2.1).
   Beside each, the rho an ideal Gaussian JL projection would reach on the same exact cosines
   (:func:`gaussian_jl_rho`): how much of the gap is the projector and how much the spread of the cosines.
   Projected rhos are means over ``projection_repeats`` projection seeds (``projection_seed`` first, then
   seeds derived from it), with their spread; ``rho_per_query_min`` is the lowest query's seed-mean.
2. **Timestep.** Spearman rho between the single-timestep scores at ``t = 751`` and scores averaged over
   10 evenly spaced timesteps ``t = 50, 150, ..., 950`` (the same ``eps_fix`` at every timestep; the
   cosine of each timestep's gradients is averaged), both exact. The paper reports 66%.

Exact cosines never hold all gradients at once: query gradients (``Q x d``) stay in memory and each clip's
gradient is dotted with them and projected by every ``D'`` before the next clip. Writes ``fidelity.csv``
(one row per comparison), ``fidelity.json`` and ``fidelity.png`` to the output directory.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import torch
from scipy.stats import spearmanr
from tqdm.auto import tqdm

from curation.featurize import GradientFeaturizer
from curation.objective import ObjectiveConfig
from curation.projection import ProjectorSpec, make_projector
from curation.seeds import derive_seed, numpy_rng

PAPER_RHO = {128: 0.469, 512: 0.747, 1024: 0.757, 2048: 0.761}
PAPER_TIMESTEP_RHO = 0.66


@dataclass(frozen=True)
class FidelityConfig:
    dims: tuple[int, ...] = (128, 256, 512, 1024, 2048)
    projection_kind: str = "fastfood"
    projection_seed: int = 0
    projection_repeats: int = 5  # projections with seeds derived from projection_seed; rho is their mean
    timesteps: tuple[float, ...] = tuple(50.0 + 100.0 * k for k in range(10))
    t_fix: float = 751.0
    noise_seed: int = 0
    extra: dict = field(default_factory=dict)


def _cosines(g: torch.Tensor, queries: torch.Tensor) -> np.ndarray:
    """``g`` ``(d,)`` float32 against ``queries`` ``(Q, d)`` -> ``(Q,)`` float64 cosines (0 for a zero vector)."""
    gn = g.double()
    dots = queries.double() @ gn
    norms = queries.double().norm(dim=1) * gn.norm()
    return torch.where(norms > 0, dots / norms.clamp_min(1e-300), torch.zeros_like(dots)).numpy()


def _spearman(a: np.ndarray, b: np.ndarray) -> float:
    return float(spearmanr(a.ravel(), b.ravel()).statistic)


def gaussian_jl_rho(exact: np.ndarray, k: int, seed: int = 0, reps: int = 10) -> tuple[float, float]:
    """The rho an ideal Gaussian JL projection to ``k`` dims would reach on these exact cosines.

    A Gaussian projection's estimate of a cosine ``c`` depends only on ``c`` and ``k`` (rotation
    invariance): it is the cosine of ``G u`` and ``G v`` for ``u, v`` in the plane at angle ``arccos c``
    and ``G`` a ``k x 2`` standard normal matrix. Each pair is drawn independently (the correlation that
    a shared query gradient induces between pairs is ignored). ``exact``: ``(clips, queries)``. Returns
    ``(pooled rho, mean per-query rho)``, averaged over ``reps`` draws from ``derive_seed(seed, ...)``.
    """
    c = np.clip(exact, -1.0, 1.0)
    s = np.sqrt(1.0 - c**2)
    pooled, per_query = [], []
    for r in range(reps):
        rng = numpy_rng(seed, "fidelity-gaussian-jl", k, r)
        g1 = rng.standard_normal((*c.shape, k))
        g2 = rng.standard_normal((*c.shape, k))
        gv = c[..., None] * g1 + s[..., None] * g2
        est = (g1 * gv).sum(-1) / (np.linalg.norm(g1, axis=-1) * np.linalg.norm(gv, axis=-1))
        pooled.append(_spearman(est, exact))
        per_query.append(np.mean([_spearman(est[:, q], exact[:, q]) for q in range(c.shape[1])]))
    return float(np.mean(pooled)), float(np.mean(per_query))


def run_fidelity(
    model,
    clips: Sequence[tuple[str, str]],
    queries: Sequence[tuple[str, str]],
    video_of: Callable[[str], torch.Tensor],
    mask_of: Callable[[str], np.ndarray | None],
    config: FidelityConfig = FidelityConfig(),
) -> dict[str, Any]:
    """Run both studies. ``clips``/``queries``: ``[(clip_id, caption), ...]``; ``video_of`` gives
    ``(3, F, H, W)``; ``mask_of`` gives ``(F', H', W')`` on the latent grid. Returns a JSON-ready dict."""
    d = sum(p.numel() for _, p in model.trainable_parameters())
    if config.projection_repeats < 1:
        from bench.errors import ConfigError

        raise ConfigError(f"projection_repeats={config.projection_repeats}; use at least 1 projection seed.")
    pseeds = [config.projection_seed] + [derive_seed(config.projection_seed, "fidelity-projection", r)
                                         for r in range(1, config.projection_repeats)]
    projectors = {(k, r): make_projector(ProjectorSpec.create(config.projection_kind, d, k, ps))
                  for k in config.dims for r, ps in enumerate(pseeds)}
    feat = GradientFeaturizer(model, projectors[(config.dims[0], 0)],
                              ObjectiveConfig(t_fix=config.t_fix, noise_seed=config.noise_seed))
    steps = list(dict.fromkeys([config.t_fix, *config.timesteps]))  # t_fix once even if also listed

    def encoded(cid: str, caption: str) -> tuple[torch.Tensor, torch.Tensor]:
        return feat.encode(video_of(cid), caption)

    t0 = time.perf_counter()
    q_grads = {t: [] for t in steps}
    for cid, cap in tqdm(queries, desc="fidelity: queries", leave=False):
        lat, emb = encoded(cid, cap)
        for t in steps:
            q_grads[t].append(feat.flat_gradient(lat, emb, mask_of(cid), t=t))
    q_mats = {t: torch.stack(v) for t, v in q_grads.items()}
    q_proj = {key: p.project(q_mats[config.t_fix]) for key, p in projectors.items()}

    n_c, n_q = len(clips), len(queries)
    exact = np.zeros((n_c, n_q))
    per_t = np.zeros((len(config.timesteps), n_c, n_q))
    proj = {key: np.zeros((n_c, n_q)) for key in projectors}
    for i, (cid, cap) in enumerate(tqdm(clips, desc="fidelity: clips", leave=False)):
        lat, emb = encoded(cid, cap)
        m = mask_of(cid)
        g = feat.flat_gradient(lat, emb, m, t=config.t_fix)
        exact[i] = _cosines(g, q_mats[config.t_fix])
        for key, p in projectors.items():
            proj[key][i] = _cosines(p.project(g), q_proj[key])
        for j, t in enumerate(config.timesteps):
            per_t[j, i] = _cosines(feat.flat_gradient(lat, emb, m, t=t), q_mats[t])
    rows = []
    for k in config.dims:
        pooled = [_spearman(proj[(k, r)], exact) for r in range(len(pseeds))]
        per_query = np.array([[_spearman(proj[(k, r)][:, q], exact[:, q]) for q in range(n_q)]
                              for r in range(len(pseeds))])  # (seeds, queries)
        ideal_pooled, ideal_per_query = gaussian_jl_rho(exact, k, seed=config.projection_seed)
        rows.append({"study": "projection_dim", "dim": k, "rho_pooled": float(np.mean(pooled)),
                     "rho_pooled_std_over_seeds": float(np.std(pooled)),
                     "rho_per_query_mean": float(per_query.mean()),
                     "rho_per_query_min": float(per_query.mean(0).min()), "paper_rho": PAPER_RHO.get(k),
                     "gaussian_jl_rho_pooled": ideal_pooled, "gaussian_jl_rho_per_query_mean": ideal_per_query})
    avg = per_t.mean(0)
    per_query_t = [_spearman(exact[:, q], avg[:, q]) for q in range(n_q)]
    rows.append({"study": "timestep", "dim": None, "rho_pooled": _spearman(exact, avg),
                 "rho_per_query_mean": float(np.mean(per_query_t)),
                 "rho_per_query_min": float(np.min(per_query_t)), "paper_rho": PAPER_TIMESTEP_RHO})
    spread = {"exact_cosine_mean": float(exact.mean()), "exact_cosine_std_pooled": float(exact.std()),
              "exact_cosine_std_per_query_mean": float(exact.std(0).mean()),
              "exact_cosine_abs_max": float(np.abs(exact).max())}
    return {"config": {**asdict(config), "input_dim": d}, "clips": n_c, "queries": n_q, "rows": rows,
            "exact_cosines": spread, "seconds": time.perf_counter() - t0}


def write_fidelity(result: dict[str, Any], out_dir: str | Path) -> list[Path]:
    """Write ``fidelity.csv``, ``fidelity.json`` and ``fidelity.png`` (rho vs D', with the paper's values
    and the timestep rho) into ``out_dir``; returns the paths."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import pandas as pd

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    df = pd.DataFrame(result["rows"])
    csv = out / "fidelity.csv"
    df.to_csv(csv, index=False, float_format="%.4f")
    js = out / "fidelity.json"
    js.write_text(json.dumps(result, indent=2, default=str) + "\n")
    proj = df[df.study == "projection_dim"]
    fig, ax = plt.subplots(figsize=(5.2, 3.4))
    ax.plot(proj.dim, proj.rho_pooled, "o-", label="this run, pooled pairs")
    ax.plot(proj.dim, proj.rho_per_query_mean, "s--", label="this run, mean per query")
    pd_ = sorted(PAPER_RHO.items())
    ax.plot([k for k, _ in pd_], [v for _, v in pd_], "x:", color="grey", label="paper (Wan2.1)")
    if "gaussian_jl_rho_pooled" in proj:
        ax.plot(proj.dim, proj.gaussian_jl_rho_pooled, "^-.", color="tab:green", lw=0.8,
                label="ideal Gaussian JL on these cosines, pooled")
    t_rho = float(df[df.study == "timestep"].rho_pooled.iloc[0])
    ax.axhline(t_rho, color="tab:red", lw=0.8, label=f"t=751 vs 10-step mean: {t_rho:.3f}")
    ax.set_xscale("log", base=2)
    ax.set_xlabel("projection dimension D'")
    ax.set_ylabel("Spearman rho vs exact cosine")
    ax.set_ylim(0, 1.02)
    ax.legend(fontsize=7, loc="lower right")
    ax.set_title(f"{result['clips']} clips x {result['queries']} queries, d={result['config']['input_dim']:,}",
                 fontsize=8)
    fig.tight_layout()
    png = out / "fidelity.png"
    fig.savefig(png, dpi=130)
    plt.close(fig)
    return [csv, js, png]
