"""``motive-bench claim``: check a reported win/tie/loss (percent, n judgments) against integer counts.

Lists every count triple consistent with the rounding (or says none exists) with the Wilson interval
and sign tests. ``--paper`` checks the four rows of the Motive paper's human study (n = 850 each).
"""

from __future__ import annotations

import argparse

NAME = "claim"
HELP = "check a reported win/tie/loss %% and n: consistent integer counts, intervals, significance"
ORDER = 66


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--win", type=float, help="reported win percent, e.g. 74.1")
    parser.add_argument("--tie", type=float, help="reported tie percent")
    parser.add_argument("--loss", type=float, help="reported loss percent")
    parser.add_argument("--n", type=int, help="number of judgments")
    parser.add_argument("--decimals", type=int, default=1, help="decimals the percents were rounded to (default 1)")
    parser.add_argument("--label", default="claim", help="name of the comparison in the table")
    parser.add_argument("--paper", action="store_true", help="check the Motive paper's Table 2 (n = 850 per row)")
    parser.add_argument("--out", default=None, help="write the table as <out>.md and <out>.csv")


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from bench.errors import UserError
    from evaluators.claim import check_claim, check_paper
    from evaluators.tables import markdown_table

    if args.paper:
        table = check_paper()
    else:
        missing = [k for k in ("win", "tie", "loss", "n") if getattr(args, k) is None]
        if missing:
            raise UserError(f"claim needs --win --tie --loss --n (missing {['--' + m for m in missing]}) or --paper.")
        table = check_claim(args.label, args.win, args.tie, args.loss, args.n, args.decimals)
    text = markdown_table(table, digits=4)
    print(text)
    if args.out:
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.with_suffix(".md").write_text(text + "\n")
        table.to_csv(out.with_suffix(".csv"), index=False)
        print(f"wrote {out.with_suffix('.md')}")
    return 0
