"""``motive-bench world``: render the synthetic physics world's sets to mp4 files and a metadata CSV."""

from __future__ import annotations

import argparse

NAME = "world"
HELP = "render the synthetic physics world (corpus, queries, test prompts) to mp4 files + metadata.csv"
ORDER = 10


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", required=True, help="output directory (created)")
    parser.add_argument("--n", type=int, default=2000, help="corpus size (default 2000)")
    parser.add_argument(
        "--sets", nargs="+", default=["corpus", "queries", "test"], metavar="SET",
        help="which sets to export: corpus queries test (default: all three)",
    )
    parser.add_argument("--frames", type=int, default=17, help="frames per clip, of the form 4n+1 (default 17)")
    parser.add_argument("--height", type=int, default=32, help="frame height in pixels (default 32)")
    parser.add_argument("--width", type=int, default=32, help="frame width in pixels (default 32)")
    parser.add_argument("--fps", type=int, default=8, help="frames per second (default 8)")
    parser.add_argument("--seed", type=int, default=0, help="base seed of the corpus and queries (default 0)")
    parser.add_argument(
        "--upscale", type=int, default=1,
        help="nearest-neighbour enlargement of the exported mp4s only (default 1 = native size)",
    )


def run(args: argparse.Namespace) -> int:
    from bench.manifest import build_manifest, write_manifest
    from bench.world import WORLD_VERSION, WorldConfig
    from bench.world.export import export_sets

    config = WorldConfig(frames=args.frames, height=args.height, width=args.width, fps=args.fps, seed=args.seed)
    csv_path = export_sets(args.out, config, n=args.n, sets=tuple(args.sets), upscale=args.upscale)
    write_manifest(
        args.out,
        build_manifest(
            "world", {**config.to_dict(), "n": args.n, "sets": list(args.sets), "upscale": args.upscale},
            seeds={"world": args.seed}, extra={"world_version": WORLD_VERSION, "metadata_csv": str(csv_path)},
        ),
    )
    print(f"wrote {csv_path}")
    return 0
