"""Is the common gradient direction caused by the shared noise draw eps_fix?  Seed 0 of a finished run.

Re-featurises the corpus and queries (masked loss only, masks from the run's cache, the run's Fastfood
projection) under three noise settings: the shared eps of noise seed 0 (as in the run), the shared eps of
noise seed 1, and an independent eps per clip. Writes features to <run>/artifacts/eps-study/.

    PYTHONPATH=. python reports/selection-study/eps_common.py reports/selection-study/base
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch

from bench.backends.registry import load_backend
from bench.curate import CurateConfig, build_masks, load_world
from curation.featurize import GradientFeaturizer
from curation.flow import make_flow
from curation.masks import MaskBuilder
from curation.objective import ObjectiveConfig, shared_noise
from curation.projection import ProjectorSpec, make_projector

torch.set_num_threads(1)
run = Path(sys.argv[1])
backend_path = sys.argv[2] if len(sys.argv) > 2 else None
seed = 0
cfg = CurateConfig(seeds=(seed,))
backend = load_backend("tiny", backend_path)
data = load_world(cfg, seed, backend.video_format, run / "artifacts" / "world")
builder = MaskBuilder(make_flow("dis"), backend.latent_geometry, cfg.mask, run / "artifacts" / "masks")
cm = build_masks(builder, data.clip_ids, data.videos, "masks")
qm = build_masks(builder, data.query_ids, data.query_videos, "qmasks")
d = sum(p.numel() for _, p in backend.trainable_parameters())
proj = make_projector(ProjectorSpec.create("fastfood", d, 512, seed=seed))
out = run / "artifacts" / "eps-study"
out.mkdir(parents=True, exist_ok=True)

for setting in ("shared0", "shared1", "perclip"):
    ns = 1 if setting == "shared1" else 0
    feat = GradientFeaturizer(backend, proj, ObjectiveConfig(noise_seed=ns))
    for part, ids, caps, videos, masks in (("corpus", data.clip_ids, data.captions, data.videos, cm),
                                           ("queries", data.query_ids, data.query_captions, data.query_videos, qm)):
        path = out / f"{setting}-{part}.npy"
        if path.exists():
            continue
        mm = masks.attrs["masks"]
        rows = np.full((len(ids), 512), np.nan, np.float32)
        for i, (cid, cap) in enumerate(zip(ids, caps)):
            if mm[cid].zero_mask:
                continue
            lat, emb = feat.encode(videos[i], cap)
            if setting == "perclip":
                feat._eps = shared_noise(tuple(lat.shape[1:]), 1000 + i + (5000 if part == "queries" else 0))
            rows[i] = feat.gradient(lat, emb, mm[cid].mask).feature
        np.save(path, rows)
        print(setting, part, "done", flush=True)
