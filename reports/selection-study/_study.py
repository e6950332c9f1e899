"""Pieces shared by the selection study's scripts: the within-category AUC and the seed-0 set-up
(world, masks and a gradient featuriser of the shipped tiny model on a run directory's artifacts)."""

from pathlib import Path

import numpy as np
from scipy.stats import mannwhitneyu

from bench.backends.registry import load_backend
from bench.curate import CurateConfig, build_masks, load_world
from curation.featurize import GradientFeaturizer
from curation.flow import make_flow
from curation.masks import MaskBuilder
from curation.objective import ObjectiveConfig
from curation.projection import ProjectorSpec, make_projector


def auc_within(S, L, C, qc):
    """Mean over categories of AUC(plausible > violating) of each clip's mean score over its own category's
    queries. ``S`` (clips, queries) scores, ``L`` clip labels, ``C`` clip categories, ``qc`` query categories."""
    vals = []
    for c in sorted(set(C)):
        m = C == c
        own = S[m][:, qc == c].mean(1)
        p, v = L[m] == "plausible", L[m] == "violating"
        vals.append(mannwhitneyu(own[p], own[v]).statistic / (p.sum() * v.sum()))
    return float(np.mean(vals))


def seed0_setup(run: Path, query_masks: bool = False):
    """``(backend, data, corpus masks, query masks or None, featuriser, d)`` for seed 0 of ``run``."""
    cfg = CurateConfig(seeds=(0,))
    backend = load_backend("tiny", None)
    data = load_world(cfg, 0, backend.video_format, run / "artifacts" / "world")
    builder = MaskBuilder(make_flow("dis"), backend.latent_geometry, cfg.mask, run / "artifacts" / "masks")
    cm = build_masks(builder, data.clip_ids, data.videos, "masks").attrs["masks"]
    qm = build_masks(builder, data.query_ids, data.query_videos, "qmasks").attrs["masks"] if query_masks else None
    d = sum(p.numel() for _, p in backend.trainable_parameters())
    feat = GradientFeaturizer(backend, make_projector(ProjectorSpec.create("fastfood", d, 512, seed=0)),
                              ObjectiveConfig(noise_seed=0))
    return backend, data, cm, qm, feat, d
