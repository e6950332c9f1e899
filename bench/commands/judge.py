"""``motive-bench judge``: an automatic pairwise judge over two models' evaluated videos.

Reads the ``per_video.csv`` written by ``motive-bench evaluate`` and writes judgments in the shared
format (:mod:`evaluators.judgments`) that ``motive-bench tally`` reads.
"""

from __future__ import annotations

import argparse

NAME = "judge"
HELP = "judge model A vs model B per (prompt, seed) by the motion metrics; writes a judgments CSV"
ORDER = 62


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("results", help="folder written by `motive-bench evaluate` (holds per_video.csv)")
    parser.add_argument("--model-a", required=True, help="first model (choice 'a')")
    parser.add_argument("--model-b", required=True, help="second model (choice 'b')")
    parser.add_argument("--metrics", nargs="+", default=None, metavar="NAME",
                        help="judge metrics (default: motion_smoothness warp_error flow_jerk physics_plausibility)")
    parser.add_argument("--margin", type=float, default=0.02, help="relative difference below which a metric abstains (default 0.02)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the recorded left/right sides (default 0)")
    parser.add_argument("--out", required=True, help="judgments CSV to write")


def run(args: argparse.Namespace) -> int:
    from evaluators.errors import EvaluatorError
    from evaluators.judge import DEFAULT_JUDGE_METRICS, judge
    from evaluators.judgments import write_judgments
    from evaluators.results import read_results

    _, ev = read_results(args.results)
    models = sorted(set(ev.per_video["model"]))
    missing = [m for m in (args.model_a, args.model_b) if m not in models]
    if missing:
        raise EvaluatorError(f"model(s) {missing} not in {args.results}; it holds {models}. Pass two of those.")
    out = judge(ev.per_video, args.model_a, args.model_b, args.metrics or DEFAULT_JUDGE_METRICS, args.margin, args.seed)
    write_judgments(out, args.out)
    counts = out["choice"].value_counts().to_dict()
    print(f"wrote {len(out)} judgments to {args.out}: {counts}")
    return 0
