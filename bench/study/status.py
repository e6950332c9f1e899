"""The study owner's view: progress per rater, attention-check outcomes, and a live tally per pairing.

The live tally is :func:`evaluators.preference.pair_table` over the export rows (validated by
:func:`evaluators.judgments.read_judgments`), without the bootstrap so that it stays cheap at every
refresh: win/tie/loss of model_a against model_b over the ordinary judgments, Wilson 95% intervals on
the win rate and the sign test excluding ties. Check rows are excluded, as in the tally, and shown per
rater instead. Cluster-bootstrap intervals and Bradley-Terry are ``motive-bench tally``'s job on the export.
"""

from __future__ import annotations

from typing import Any

from bench.study.export import judgment_rows
from bench.study.plan import StudyPlan
from bench.study.storage import VoteStore


def tally_counts(rows: list[dict[str, object]], pairings: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """Per pairing (a, b): ordinary judgments ``n``, a's wins/ties/losses with %, Wilson 95% on the win
    rate and the sign-test p excluding ties (None where there are no judgments yet)."""
    import pandas as pd

    from bench.study.export import COLUMNS
    from evaluators.judgments import read_judgments
    from evaluators.preference import pair_table

    ordinary = [r for r in rows if not r["check"]]
    by_pair: dict[str, dict[str, Any]] = {}
    if ordinary:
        table = pair_table(read_judgments(pd.DataFrame(ordinary, columns=list(COLUMNS)).astype(str)), n_boot=0)
        by_pair = {f"{t['model']}|{t['opponent']}": t for t in table.to_dict("records")}
    out = []
    for a, b in pairings:
        entry: dict[str, Any] = {"model_a": a, "model_b": b, "n": 0, "win": 0, "tie": 0, "loss": 0,
                                 "win_pct": None, "tie_pct": None, "loss_pct": None,
                                 "win_low": None, "win_high": None, "sign_p": None}
        t, flip = by_pair.get(f"{a}|{b}"), False
        if t is None and f"{b}|{a}" in by_pair:
            t, flip = by_pair[f"{b}|{a}"], True
        if t is not None:
            win, loss = ("losses", "wins") if flip else ("wins", "losses")
            lo, hi = ("loss_wilson_low", "loss_wilson_high") if flip else ("win_wilson_low", "win_wilson_high")
            pct = (lambda k: round(100.0 * k / t["n"], 1))
            entry.update(n=int(t["n"]), win=int(t[win]), tie=int(t["ties"]), loss=int(t[loss]),
                         win_pct=pct(t[win]), tie_pct=pct(t["ties"]), loss_pct=pct(t[loss]),
                         win_low=round(float(t[lo]), 1), win_high=round(float(t[hi]), 1),
                         sign_p=float(t["sign_p_excl_ties"]))
        out.append(entry)
    return out


def study_status(plan: StudyPlan, store: VoteStore) -> dict[str, Any]:
    """The admin status as JSON-ready data (no tokens: the page adds links itself)."""
    rows = judgment_rows(plan, store.votes())
    raters = []
    for rater, items in plan.raters.items():
        mine = [r for r in rows if r["rater"] == rater]
        checks = [r for r in mine if r["check"]]
        failed = [r for r in checks if r["check_passed"] == "false"]
        times = [int(r["time_ms"]) for r in mine if r["time_ms"] != ""]
        raters.append({
            "rater": rater, "done": len(mine), "total": len(items),
            "checks_answered": len(checks), "checks_failed": len(failed),
            "failed": [f"{r['check']} check on {r['prompt']}" for r in failed],
            "median_time_ms": sorted(times)[len(times) // 2] if times else None,
            "last_vote_at": mine[-1]["judged_at"] if mine else None,
        })
    return {
        "study": plan.study,
        "question": plan.question,
        "votes": len(rows),
        "total": sum(len(v) for v in plan.raters.values()),
        "raters": raters,
        "tally": tally_counts(rows, plan.pairings),
    }
