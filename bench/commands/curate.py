"""``motive-bench curate``: the main job - Motive and four baselines on the world, scored against its labels."""

from __future__ import annotations

import argparse

NAME = "curate"
HELP = "select the top 10%% of the world's corpus with Motive and 4 baselines; score against hidden labels"
ORDER = 30


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", default=None, help="run directory (default reports/curate-<UTC time>)")
    parser.add_argument("--n-clips", type=int, default=600, help="corpus clips per seed (default 600)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2],
                        help="seeds: world, eps_fix, projection and random baseline (default 0 1 2)")
    parser.add_argument("--fraction", type=float, default=0.1, help="share of clips kept (default 0.1)")
    parser.add_argument("--percentile", type=float, default=90.0, help="per-query vote cutoff (default 90)")
    parser.add_argument("--vote", choices=["majority", "category", "within_category"], default="majority",
                        help="vote over all queries (default, the paper), over per-category mean scores, or each "
                             "query only among the clips of its own category (caption category)")
    parser.add_argument("--centre", choices=["none", "mean", "project"], default="mean",
                        help="remove the corpus's common gradient direction before the cosine: mean (default; "
                             "subtract the mean unit corpus feature - not in the paper, measured in "
                             "reports/selection-study), project (project its direction out) or none (the paper)")
    parser.add_argument("--dim", type=int, default=512, help="projection dimension D' (default 512)")
    parser.add_argument("--projection", default="fastfood",
                        choices=["fastfood", "dense_gaussian", "dense_rademacher", "countsketch"])
    parser.add_argument("--flow", default="dis", choices=["dis", "farneback"], help="flow estimator (default dis)")
    parser.add_argument("--camera", default="affine", choices=["affine", "median", "none"],
                        help="camera-motion compensation before the mask (default affine)")
    parser.add_argument("--camera-weight", type=float, default=1.0,
                        help="vote weight of clips flagged camera-only (default 1.0 = flag only)")
    parser.add_argument("--temporal-reduce", default="max", choices=["max", "mean"],
                        help="mask reduction over each latent frame's pixel frames (default max)")
    parser.add_argument("--zero-fallback", default="exclude", choices=["exclude", "uniform"],
                        help="all-zero masks: exclude the clip (default) or use a mask of ones")
    parser.add_argument("--noise-floor", type=float, default=0.25, help="flow noise floor, px/frame (default 0.25)")
    parser.add_argument("--backend", default="tiny", help="backend name (default tiny)")
    parser.add_argument("--backend-path", default=None, help="model directory (default: the embedded checkpoint)")
    parser.add_argument("--no-cost", action="store_true", help="skip the per-clip cost measurement")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch/OpenCV CPU threads (default 1: per-clip tensors are small, and on a shared "
                             "CPU extra threads spin against other jobs; measured 5x slower with 2 under load)")


def run(args: argparse.Namespace) -> int:
    import datetime
    import time

    import cv2
    import torch

    from bench.curate import CurateConfig, replace_config, run_curate

    torch.set_num_threads(max(1, args.threads))
    cv2.setNumThreads(max(1, args.threads))
    torch.manual_seed(0)  # nothing random should depend on it; set only so stray library draws repeat
    out = args.out or f"reports/curate-{datetime.datetime.now(datetime.timezone.utc):%Y%m%dT%H%M%SZ}"
    config = replace_config(
        CurateConfig(), n_clips=args.n_clips, seeds=tuple(args.seeds), fraction=args.fraction,
        percentile=args.percentile, vote=args.vote, centre=args.centre, dim=args.dim, projection=args.projection,
        flow=args.flow,
        backend=args.backend, backend_path=args.backend_path, measure_cost=not args.no_cost,
        mask_camera=args.camera, mask_camera_weight=args.camera_weight, mask_temporal_reduce=args.temporal_reduce,
        mask_zero_fallback=args.zero_fallback, mask_noise_floor_px=args.noise_floor)
    t0 = time.perf_counter()
    doc = run_curate(config, out)
    print(f"wrote {out}/curate.json, summary.csv, quality.csv, quality.png in {time.perf_counter() - t0:.0f} s")
    return 0 if doc else 1
