"""``motive-bench evaluate``: score a folder of generated videos with every motion metric.

Writes ``results.json`` and ``per_video.csv`` (schema in :mod:`evaluators.results`) plus a
``manifest.json`` into ``--out``. Prompt texts and categories come from the world's 50 test prompts;
the physics scorer gets the world's constants (rescaled by the scorer to each video's size and fps).
"""

from __future__ import annotations

import argparse

NAME = "evaluate"
HELP = "score videos (<model>/<prompt_id>-<seed>.mp4) with the motion metrics and the physics scorer"
ORDER = 60


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("videos", help="a folder of <prompt_id>-<seed>.mp4 files, or a folder of model folders")
    parser.add_argument("--out", required=True, help="output folder for results.json, per_video.csv, manifest.json")
    parser.add_argument("--metrics", nargs="+", default=None, metavar="NAME", help="metric names (default: all)")
    parser.add_argument("--flow", default="dis", help="flow estimator of the metrics: dis (default), farneback, tvl1, deepflow")
    parser.add_argument("--model", default=None, help="model name when VIDEOS is one model's folder (default: its name)")
    parser.add_argument("--world-fps", type=int, default=8, help="fps of the world the constants describe (default 8)")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def run(args: argparse.Namespace) -> int:
    from bench.manifest import build_manifest, write_manifest
    from bench.world import WorldConfig, load_test_prompts, world_constants
    from evaluators.evaluate import evaluate
    from evaluators.results import write_results

    prompts = load_test_prompts()
    texts = {p.prompt_id: p.caption for p in prompts}
    categories = {p.prompt_id: p.category for p in prompts}
    constants = world_constants(WorldConfig(fps=args.world_fps))
    ev = evaluate(args.videos, prompts=texts, metrics=args.metrics, flow=args.flow, model=args.model,
                  categories=categories, constants=constants, progress=not args.no_progress)
    config = {"videos": str(args.videos), "metrics": args.metrics, "flow": args.flow, "model": args.model,
              "world_fps": args.world_fps}
    paths = write_results(ev, args.out, meta={"config": config, "world_constants": constants})
    write_manifest(args.out, build_manifest("evaluate", config, extra={"outputs": {k: str(v) for k, v in paths.items()}}))
    bad = ev.per_video.loc[ev.per_video["status"] != "ok", "video"].nunique()
    print(ev.aggregates.to_string(index=False))
    print(f"wrote {paths['results']} and {paths['per_video']}" + (f"; {bad} video(s) not fully scored (see status)" if bad else ""))
    return 0
