"""``motive-bench study create|serve|export|demo``: run a pairwise preference study on your own videos.

``create`` builds a balanced plan with attention checks from folders of ``<prompt_id>-<seed>.mp4``
videos (one per model, or a run directory whose subfolders are models); ``serve`` runs the rater pages
on localhost; ``export`` writes the judgments CSV for ``motive-bench tally``; ``demo`` makes (and by
default serves) a study of the synthetic world's plausible vs violating renderings, which needs no model.
"""

from __future__ import annotations

import argparse

NAME = "study"
HELP = "pairwise preference study: create a plan, serve the rater pages, export the judgments"
ORDER = 80

_DEFAULT_QUESTION = "Which video shows more realistic motion?"  # = bench.study.plan.DEFAULT_QUESTION


def _add_plan_options(p: argparse.ArgumentParser, raters_default: int) -> None:
    p.add_argument("--raters", type=int, default=raters_default,
                   help=f"number of raters, named rater-01, rater-02, … (default {raters_default})")
    p.add_argument("--rater-names", default=None, help="comma-separated rater names instead of --raters")
    p.add_argument("--seed", type=int, default=0, help="seed of the plan's draws (sides, order, checks)")
    p.add_argument("--repeat-checks", type=int, default=2,
                   help="side-swapped repeats of an earlier pair per rater (default 2)")
    p.add_argument("--identical-checks", type=int, default=2,
                   help="pairs of identical videos per rater (default 2)")
    p.add_argument("--question", default=_DEFAULT_QUESTION, help=f"the question shown (default {_DEFAULT_QUESTION!r})")


def _add_serve_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000; 0 picks a free one)")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="study_command", metavar="<action>")
    create = sub.add_parser("create", help="build a study directory (plan, tokens) from video folders")
    create.add_argument("sources", nargs="+",
                        help="video folders: DIR (model named after it), NAME=DIR, or a run directory of model folders")
    create.add_argument("--out", required=True, help="the study directory to create")
    create.add_argument("--pairing", action="append", default=None, metavar="A:B",
                        help="a pairing to judge, model A against model B (repeatable; default every pair)")
    create.add_argument("--name", default=None, help="study name written to the export (default: --out's name)")
    _add_plan_options(create, raters_default=17)

    serve = sub.add_parser("serve", help="serve the rater pages and the admin status page")
    serve.add_argument("study_dir", help="a directory made by `study create` or `study demo`")
    serve.add_argument("--question", default=None, help="override the plan's question")
    _add_serve_options(serve)

    export = sub.add_parser("export", help="write the judgments CSV (for `motive-bench tally`)")
    export.add_argument("study_dir")
    export.add_argument("--out", default=None, help="CSV path (default <study_dir>/judgments.csv)")

    demo = sub.add_parser("demo", help="a study of the world's plausible vs violating clips (needs no model)")
    demo.add_argument("--out", required=True, help="the study directory to create")
    demo.add_argument("--per-category", type=int, default=1,
                      help="test prompts per motion category (1-5; default 1, i.e. 10 prompts)")
    demo.add_argument("--no-serve", action="store_true", help="only create the study; serve it later")
    _add_plan_options(demo, raters_default=3)
    _add_serve_options(demo)
    parser.set_defaults(_study_parser=parser)


def _raters(args: argparse.Namespace):
    if args.rater_names:
        return [n.strip() for n in args.rater_names.split(",") if n.strip()]
    return args.raters


def _print_created(plan, out) -> None:
    per = {len(v) for v in plan.raters.values()}
    print(f"Created study {plan.study!r} in {out}: models {list(plan.models)}, pairings "
          f"{[f'{a}:{b}' for a, b in plan.pairings]}, {len(plan.raters)} raters x {sorted(per)} items "
          f"(with {plan.checks.get('repeat', 0)} repeat and {plan.checks.get('identical', 0)} identical checks each), seed {plan.seed}.")
    print(f"Serve it with: motive-bench study serve {out}")


def run(args: argparse.Namespace) -> int:
    action = getattr(args, "study_command", None)
    if action is None:
        args._study_parser.print_help()
        return 2
    if action == "create":
        from bench.study.create import create_study

        plan, _ = create_study(
            args.out, args.sources, _raters(args), pairings=args.pairing, seed=args.seed,
            n_repeat=args.repeat_checks, n_identical=args.identical_checks, question=args.question, study=args.name,
        )
        _print_created(plan, args.out)
        return 0
    if action == "serve":
        from bench.study.serve import serve

        serve(args.study_dir, host=args.host, port=args.port, question=args.question)
        return 0
    if action == "export":
        from pathlib import Path

        from bench.study.export import export_study

        path, n = export_study(args.study_dir, args.out or Path(args.study_dir) / "judgments.csv")
        print(f"Wrote {n} judgments to {path}. Tally them with: motive-bench tally {path}")
        return 0
    if action == "demo":
        from bench.study.demo import create_demo

        plan, _ = create_demo(
            args.out, per_category=args.per_category, raters=_raters(args), seed=args.seed,
            n_repeat=args.repeat_checks, n_identical=args.identical_checks, question=args.question,
        )
        _print_created(plan, args.out)
        if not args.no_serve:
            from bench.study.serve import serve

            serve(args.out, host=args.host, port=args.port)
        return 0
    raise AssertionError(action)
