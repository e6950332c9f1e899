"""``motive-bench curate``: the Motive method end to end on the synthetic world, measured against its labels.

For each seed ``s`` (default 0, 1, 2) in a run directory ``<out>/`` (default ``reports/<run-id>/``):

1. **world** - render the corpus (``WorldConfig(seed=s)``, ``n_clips``, the default label mix) and the
   query set (10 categories x 5 plausible). Only clip ids, captions and categories go on to curation;
   the labels stay in the world's specs until step 5.
2. **masks** - DIS flow, camera compensation, noise floor, min-max, latent grid (``curation.masks``),
   cached per clip under ``<out>/artifacts/masks/``; a per-clip table of flow statistics and flags.
3. **features** - the pretrained tiny model (the embedded checkpoint, or ``--backend-path``): per-clip
   gradients of the masked loss and of the whole-video loss from one shared forward pass, Fastfood-projected
   to ``D'`` = 512 and written to resumable feature stores under ``<out>/artifacts/seed-<s>/``; queries the
   same way with their own masks. ``eps_fix`` and the projection come from seed ``s``.
4. **selections** - the five methods of :mod:`curation.methods`, each saved as a selection artifact. By
   default the corpus's common gradient direction is removed before the cosine (``centre="mean"``, a
   departure from the paper, recorded in the selections manifest; ``centre="none"`` is the paper's rule),
   for Motive and the whole-video baseline alike.
5. **quality** - only now are the labels read (:mod:`bench.curate_quality`): plausible share of each
   top 10%, overall and per category, and precision/recall of dropping violating, static and camera-only
   clips; then the spread over seeds, ``quality.csv``, ``summary.csv``, ``curate.json`` and ``quality.png``.

Every stage writes ``<out>/seed-<s>/<stage>/manifest.json`` (:mod:`bench.manifest`).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from tqdm.auto import tqdm

from bench.manifest import build_manifest, sha256_json, write_manifest
from curation.featurize import GradientFeaturizer, measure_overhead
from curation.flow import make_flow
from curation.masks import MaskBuilder, MaskConfig
from curation.methods import (attribution_selection, check_query_categories, full_selection,
                              magnitude_selection, random_subset)
from curation.objective import ObjectiveConfig
from curation.projection import ProjectorSpec, make_projector
from curation.store import FeatureStore


@dataclass(frozen=True)
class CurateConfig:
    n_clips: int = 600
    seeds: tuple[int, ...] = (0, 1, 2)
    fraction: float = 0.1
    percentile: float = 90.0
    vote: str = "majority"
    centre: str = "mean"  # common-direction removal before the cosine (curation.influence); "none" = the paper
    dim: int = 512
    projection: str = "fastfood"
    t_fix: float = 751.0
    flow: str = "dis"
    backend: str = "tiny"
    backend_path: str | None = None
    mask: MaskConfig = field(default_factory=MaskConfig)
    measure_cost: bool = True
    queries_per_category: int | None = None  # None = the world's full query set (5 per category)

    def __post_init__(self) -> None:
        from bench.errors import ConfigError

        if not 0.0 < self.fraction <= 1.0:
            raise ConfigError(f"fraction={self.fraction}; expected a share in (0, 1], e.g. 0.1 for the top 10%.")
        if self.n_clips < 10 or not self.seeds:
            raise ConfigError(f"n_clips={self.n_clips}, seeds={self.seeds}; expected n_clips >= 10 and at least "
                              "one seed.")
        if not 0.0 <= self.percentile < 100.0:
            raise ConfigError(f"percentile={self.percentile}; expected a value in [0, 100).")
        from curation.influence import CENTRE_MODES
        from curation.methods import VOTE_RULES

        if self.centre not in CENTRE_MODES:
            raise ConfigError(f"centre={self.centre!r}; expected one of {CENTRE_MODES}.")
        if self.vote not in VOTE_RULES:
            raise ConfigError(f"vote={self.vote!r}; expected one of {VOTE_RULES}.")

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["mask"] = self.mask.to_dict()
        return d


@dataclass
class SeedData:
    """What curation sees of one seed's world (no labels) and, kept apart, the labels for evaluation."""

    clip_ids: list[str]
    captions: list[str]
    categories: list[str]
    videos: torch.Tensor  # (N, 3, F, H, W) float32 in [-1, 1]
    query_ids: list[str]
    query_captions: list[str]
    query_categories: list[str]
    query_videos: torch.Tensor
    labels: dict[str, str]  # clip id -> hidden label; read only by bench.curate_quality


def load_world(config: CurateConfig, seed: int, fmt: tuple[int, int, int, int], cache: Path) -> SeedData:
    """Render (or load from ``cache``) the corpus and queries of world seed ``seed`` at ``fmt``."""
    from bench.world import WorldConfig, build_corpus, build_queries, render_many, to_tensor

    frames, height, width, fps = fmt
    wcfg = WorldConfig(frames=frames, height=height, width=width, fps=int(fps), seed=seed)
    corpus, queries = build_corpus(wcfg, n=config.n_clips), build_queries(wcfg)
    if config.queries_per_category is not None:
        seen: dict[str, int] = {}
        queries = [q for q in queries if seen.setdefault(q.category, 0) < config.queries_per_category
                   and not seen.__setitem__(q.category, seen[q.category] + 1)]
    cache.mkdir(parents=True, exist_ok=True)
    arrays = {}
    for name, specs in (("corpus", corpus), ("queries", queries)):
        key = sha256_json([wcfg.to_dict(), [s.to_row() for s in specs]])[:16]
        path = cache / f"{name}-{key}.npy"
        if not path.exists():
            np.save(path.with_suffix(".tmp.npy"), render_many(specs, wcfg, progress=True))
            path.with_suffix(".tmp.npy").replace(path)
        arrays[name] = to_tensor(np.load(path))
    return SeedData(
        clip_ids=[s.clip_id for s in corpus], captions=[s.caption for s in corpus],
        categories=[s.category for s in corpus], videos=arrays["corpus"],
        query_ids=[s.clip_id for s in queries], query_captions=[s.caption for s in queries],
        query_categories=[s.category for s in queries], query_videos=arrays["queries"],
        labels={s.clip_id: s.label for s in corpus})


def _model_hash(backend) -> str:
    import hashlib

    h = hashlib.sha256()
    for name, p in backend.trainable_parameters():
        h.update(name.encode())
        h.update(p.detach().cpu().numpy().tobytes())
    return h.hexdigest()[:16]


def build_masks(builder: MaskBuilder, ids: list[str], videos: torch.Tensor, desc: str) -> pd.DataFrame:
    """Masks for ``ids`` (rows of ``videos``); returns one row of statistics per clip, masks in ``.attrs``."""
    rows, masks = [], {}
    for cid, video in tqdm(list(zip(ids, videos)), desc=desc, leave=False, mininterval=2.0):
        m = builder.build(cid, video)
        masks[cid] = m
        rows.append({"clip_id": cid, "raw_magnitude": m.raw_magnitude, "object_magnitude": m.object_magnitude,
                     "camera_magnitude": m.camera_magnitude, "uniformity": m.uniformity,
                     "camera_only": m.camera_only, "zero_mask": m.zero_mask, "weight": m.weight,
                     "coverage": m.coverage})
    df = pd.DataFrame(rows)
    df.attrs["masks"] = masks
    return df


def run_seed(config: CurateConfig, seed: int, out: Path, backend, model_hash: str) -> dict[str, Any]:
    """Stages 1-4 for one seed; returns the selections and the stage summaries (labels untouched)."""
    sdir, adir = out / f"seed-{seed}", out / "artifacts" / f"seed-{seed}"
    t0 = time.perf_counter()
    data = load_world(config, seed, backend.video_format, out / "artifacts" / "world")
    write_manifest(sdir / "world", build_manifest("world", {"n_clips": config.n_clips, "seed": seed,
                                                            "video_format": list(backend.video_format)},
                                                  seeds={"world": seed}, extra={"clips": len(data.clip_ids),
                                                                                "queries": len(data.query_ids)}))
    check_query_categories(data.query_categories, sorted(set(data.categories)))
    t_world = time.perf_counter() - t0

    builder = MaskBuilder(make_flow(config.flow), backend.latent_geometry, config.mask, out / "artifacts" / "masks")
    corpus_masks = build_masks(builder, data.clip_ids, data.videos, f"seed {seed}: masks")
    query_masks = build_masks(builder, data.query_ids, data.query_videos, f"seed {seed}: query masks")
    sdir.mkdir(parents=True, exist_ok=True)
    corpus_masks.to_csv(sdir / "masks.csv", index=False)
    mask_summary = {"clips": len(corpus_masks), "zero_masks": int(corpus_masks.zero_mask.sum()),
                    "camera_only_flagged": int(corpus_masks.camera_only.sum()),
                    "query_zero_masks": int(query_masks.zero_mask.sum()), "cache_hits": builder.hits,
                    "zero_fallback": config.mask.zero_fallback}
    write_manifest(sdir / "masks", build_manifest("masks", builder.describe(), extra={"summary": mask_summary}))
    t_masks = time.perf_counter() - t0 - t_world

    d = sum(p.numel() for _, p in backend.trainable_parameters())
    spec = ProjectorSpec.create(config.projection, d, config.dim, seed=seed)
    objective = ObjectiveConfig(t_fix=config.t_fix, noise_seed=seed)
    feat = GradientFeaturizer(backend, make_projector(spec), objective)
    base_manifest = {"projection": spec.to_dict(), "model_hash": model_hash, "objective": objective.to_dict(),
                     "mask": builder.describe()}
    summaries: dict[str, Any] = {}
    feats: dict[str, np.ndarray] = {}
    valid: dict[str, np.ndarray] = {}
    for part, ids, caps, videos, masks in (
            ("corpus", data.clip_ids, data.captions, data.videos, corpus_masks),
            ("queries", data.query_ids, data.query_captions, data.query_videos, query_masks)):
        mm = masks.attrs["masks"]
        index = {cid: i for i, cid in enumerate(ids)}
        stores = {kind: FeatureStore.open_or_create(
            adir / f"{part}-{kind}", len(ids), config.dim,
            {**base_manifest, "kind": kind, "clip_ids_sha256": sha256_json(ids)}) for kind in ("motive", "whole_video")}
        counts = feat.featurize(stores, list(zip(ids, caps)), lambda cid: videos[index[cid]],
                                {"motive": lambda cid: mm[cid].mask, "whole_video": None},
                                zero_mask=lambda cid: mm[cid].zero_mask and config.mask.zero_fallback == "exclude",
                                desc=f"seed {seed}: {part} gradients")
        for kind, store in stores.items():
            store.write_rows_csv()
            feats[f"{part}-{kind}"] = np.array(store.features)
            valid[f"{part}-{kind}"] = store.done.copy()
            summaries[f"{part}-{kind}"] = counts[kind] | {"failed_total": int((~store.done).sum())}
            store.close()
    overhead = None
    if config.measure_cost:
        lat, emb = feat.encode(data.videos[0], data.captions[0])
        overhead = measure_overhead(feat, lat, emb, corpus_masks.attrs["masks"][data.clip_ids[0]].mask)
    write_manifest(sdir / "features", build_manifest(
        "features", base_manifest, seeds={"eps_fix": objective.to_dict()["eps_seed"], "projection": seed},
        extra={"summary": summaries, "trainable_parameters": d, "cost_per_clip": overhead}))
    t_feat = time.perf_counter() - t0 - t_world - t_masks

    weights = corpus_masks.weight.to_numpy()
    # the whole-video baseline is scored with the same rule (centring, vote), so the two differ by the mask only
    common = dict(fraction=config.fraction, percentile=config.percentile, vote=config.vote, centre=config.centre,
                  query_categories=data.query_categories, categories=sorted(set(data.categories)), ids=data.clip_ids,
                  clip_categories=data.categories)
    selections = {
        "motive": attribution_selection(feats["corpus-motive"], valid["corpus-motive"], feats["queries-motive"],
                                        valid["queries-motive"], weights=weights, rule="motive", **common),
        "whole_video": attribution_selection(feats["corpus-whole_video"], valid["corpus-whole_video"],
                                             feats["queries-whole_video"], valid["queries-whole_video"],
                                             rule="whole_video", **common),
        "motion_magnitude": magnitude_selection(corpus_masks.raw_magnitude.to_numpy(), config.fraction,
                                                ids=data.clip_ids),
        "random": random_subset(len(data.clip_ids), config.fraction, seed=seed, ids=data.clip_ids),
        "full": full_selection(len(data.clip_ids), ids=data.clip_ids),
    }
    for name, sel in selections.items():
        sel.save(sdir / "selections" / name)
    write_manifest(sdir / "selections", build_manifest(
        "selections", {"fraction": config.fraction, "percentile": config.percentile, "vote": config.vote,
                       "centre": config.centre, "camera_weight": config.mask.camera_weight}, seeds={"random": seed},
        extra={"methods": {n: {"rule": s.rule, "count": s.count} for n, s in selections.items()}}))
    timings = {"world_s": t_world, "masks_s": t_masks, "features_s": t_feat,
               "total_s": time.perf_counter() - t0}
    return {"data": data, "selections": selections, "masks": corpus_masks, "summaries": summaries,
            "mask_summary": mask_summary, "overhead": overhead, "timings": timings}


def run_curate(config: CurateConfig, out: str | Path) -> dict[str, Any]:
    """The whole job; returns the ``curate.json`` document (also written to ``out``)."""
    from bench.backends.registry import load_backend
    from bench.curate_quality import evaluate_seed, flag_quality, summarise, write_report

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    backend = load_backend(config.backend, config.backend_path)
    model_hash = _model_hash(backend)
    write_manifest(out, build_manifest("curate", config.to_dict(), seeds={"seeds": list(config.seeds)},
                                       extra={"model_hash": model_hash}))
    per_seed, quality_rows, info = {}, [], {}
    for seed in config.seeds:
        res = run_seed(config, seed, out, backend, model_hash)
        rows = evaluate_seed(res["selections"], res["data"], res["masks"], seed)  # labels read here only
        quality_rows += rows
        info[seed] = {k: res[k] for k in ("summaries", "mask_summary", "overhead", "timings")}
        info[seed]["labels_vs_masks"] = flag_quality(res["masks"], res["data"])
        per_seed[seed] = res
        print(f"seed {seed}: " + ", ".join(f"{r['method']} {r['value']:.3f}" for r in rows
                                           if r["metric"] == "plausible_share" and r["category"] == "all")
              + f"  ({res['timings']['total_s']:.0f} s)", flush=True)
    quality = pd.DataFrame(quality_rows)
    summary, verdicts = summarise(quality)
    doc = write_report(out, config.to_dict(), quality, summary, verdicts, info,
                       elapsed_s=time.perf_counter() - t0, model_hash=model_hash)
    return doc


def replace_config(config: CurateConfig, **changes: Any) -> CurateConfig:
    """``dataclasses.replace`` that also accepts ``mask_<field>`` keys for the mask config."""
    mask_changes = {k[5:]: v for k, v in changes.items() if k.startswith("mask_")}
    rest = {k: v for k, v in changes.items() if not k.startswith("mask_")}
    if mask_changes:
        rest["mask"] = replace(config.mask, **mask_changes)
    return replace(config, **rest)
