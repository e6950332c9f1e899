"""``motive-bench tally``: win/tie/loss with intervals, sign tests, Bradley-Terry and position bias.

Reads a judgments CSV (human study or ``motive-bench judge``); writes ``tally.md``, ``pairs.csv`` and
``bradley_terry.csv`` into ``--out`` when given, and prints the markdown.
"""

from __future__ import annotations

import argparse

NAME = "tally"
HELP = "tally a judgments CSV: win/tie/loss, Wilson and rater x prompt bootstrap intervals, sign tests, BT"
ORDER = 64


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("judgments", help="judgments CSV (rater, prompt, model_a, model_b, left, choice, ...)")
    parser.add_argument("--models", nargs="+", default=None, metavar="NAME", help="known model names (others are an error)")
    parser.add_argument("--reference", default=None, help="model whose side the pairs are reported from (e.g. motive)")
    parser.add_argument("--n-boot", type=int, default=2000, help="bootstrap replicates (default 2000)")
    parser.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0)")
    parser.add_argument("--include-checks", action="store_true", help="count repeat/identical check rows too")
    parser.add_argument("--needed", type=float, default=None, metavar="WIN_RATE",
                        help="also print the judgments needed to detect this decisive win rate (e.g. 0.6)")
    parser.add_argument("--out", default=None, help="folder for tally.md, pairs.csv, bradley_terry.csv")


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from evaluators.judgments import read_judgments
    from evaluators.preference import judgments_needed, tally

    df = read_judgments(args.judgments, models=args.models)
    t = tally(df, reference=args.reference, n_boot=args.n_boot, seed=args.seed, include_checks=args.include_checks)
    text = t.to_markdown()
    if args.needed is not None:
        ties = float(t.pairs["tie_pct"].mean() / 100) if len(t.pairs) else 0.0
        need = judgments_needed(args.needed, tie_rate=ties)
        text += (f"\n## Sample size\n\nto detect a decisive win rate of {args.needed:g} (alpha 0.05, power 0.8): "
                 f"{need['decisive']} decisive judgments, {need['total']} in all at the observed tie rate {ties:.1%} "
                 f"(normal approximation: {need['decisive_normal_approx']:.0f})\n")
    print(text)
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        (out / "tally.md").write_text(text)
        t.pairs.to_csv(out / "pairs.csv", index=False)
        t.bradley_terry.to_csv(out / "bradley_terry.csv", index=False)
        print(f"wrote {out / 'tally.md'}")
    return 0
