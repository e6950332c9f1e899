"""``motive-bench fidelity``: how projected and single-timestep scores track exact and multi-timestep ones."""

from __future__ import annotations

import argparse

NAME = "fidelity"
HELP = "Spearman rho of projected vs exact gradient cosines over D', and of t=751 vs a 10-timestep average"
ORDER = 35


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", default="reports/fidelity", help="output directory (default reports/fidelity)")
    parser.add_argument("--n-clips", type=int, default=100, help="corpus clips scored (default 100)")
    parser.add_argument("--queries-per-category", type=int, default=1,
                        help="queries per category (default 1: 10 queries; exact gradients are held in memory)")
    parser.add_argument("--dims", type=int, nargs="+", default=[128, 256, 512, 1024, 2048],
                        help="projection dimensions D' (default 128 256 512 1024 2048)")
    parser.add_argument("--projection", default="fastfood",
                        choices=["fastfood", "dense_gaussian", "dense_rademacher", "countsketch"])
    parser.add_argument("--seed", type=int, default=0, help="world, eps_fix and projection seed (default 0)")
    parser.add_argument("--projection-repeats", type=int, default=5,
                        help="projection seeds averaged per D' (default 5; the exact gradients are computed once)")
    parser.add_argument("--backend-path", default=None, help="tiny model directory (default: the embedded one)")
    parser.add_argument("--threads", type=int, default=1, help="torch/OpenCV threads (default 1)")


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    import cv2
    import torch

    from bench.backends.registry import load_backend
    from bench.curate import CurateConfig, build_masks, load_world
    from bench.fidelity import FidelityConfig, run_fidelity, write_fidelity
    from bench.manifest import build_manifest, write_manifest
    from curation.flow import make_flow
    from curation.masks import MaskBuilder

    torch.set_num_threads(max(1, args.threads))
    cv2.setNumThreads(max(1, args.threads))
    out = Path(args.out)
    backend = load_backend("tiny", args.backend_path)
    cc = CurateConfig(n_clips=args.n_clips, seeds=(args.seed,), queries_per_category=args.queries_per_category)
    data = load_world(cc, args.seed, backend.video_format, out / "artifacts" / "world")
    builder = MaskBuilder(make_flow(cc.flow), backend.latent_geometry, cc.mask, out / "artifacts" / "masks")
    masks = {**build_masks(builder, data.clip_ids, data.videos, "masks").attrs["masks"],
             **build_masks(builder, data.query_ids, data.query_videos, "query masks").attrs["masks"]}
    videos = {**dict(zip(data.clip_ids, data.videos)), **dict(zip(data.query_ids, data.query_videos))}
    clips = [(c, cap) for c, cap in zip(data.clip_ids, data.captions) if not masks[c].zero_mask]
    config = FidelityConfig(dims=tuple(args.dims), projection_kind=args.projection, projection_seed=args.seed,
                            projection_repeats=args.projection_repeats, noise_seed=args.seed)
    result = run_fidelity(backend, clips, list(zip(data.query_ids, data.query_captions)), videos.__getitem__,
                          lambda cid: masks[cid].mask, config)
    result["excluded_zero_mask_clips"] = len(data.clip_ids) - len(clips)
    paths = write_fidelity(result, out)
    write_manifest(out, build_manifest("fidelity", {**result["config"], "n_clips": args.n_clips,
                                                    "queries_per_category": args.queries_per_category},
                                       seeds={"world": args.seed, "eps_fix": args.seed, "projection": args.seed}))
    for row in result["rows"]:
        print({k: (round(v, 4) if isinstance(v, float) else v) for k, v in row.items()})
    print("wrote " + ", ".join(str(p) for p in paths))
    return 0
