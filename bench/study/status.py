"""The study owner's view: progress per rater, attention-check outcomes, and a live tally per pairing.

The tally counts win/tie/loss of model_a against model_b over the ordinary judgments (check rows are
reported separately, as the tally of :mod:`evaluators.preference` does). This is a plain count for the
live status page; confidence intervals and tests are ``motive-bench tally``'s job on the export.
"""

from __future__ import annotations

from typing import Any

from bench.study.export import judgment_rows
from bench.study.plan import StudyPlan
from bench.study.storage import VoteStore


def tally_counts(rows: list[dict[str, object]], pairings: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """Per pairing, the number of ordinary judgments and model_a's wins, ties and losses (counts and %)."""
    out = []
    for a, b in pairings:
        mine = [r for r in rows if not r["check"] and r["model_a"] == a and r["model_b"] == b]
        n = len(mine)
        win = sum(r["choice"] == "a" for r in mine)
        tie = sum(r["choice"] == "tie" for r in mine)
        loss = n - win - tie
        pct = (lambda k: round(100.0 * k / n, 1) if n else None)
        out.append({"model_a": a, "model_b": b, "n": n, "win": win, "tie": tie, "loss": loss,
                    "win_pct": pct(win), "tie_pct": pct(tie), "loss_pct": pct(loss)})
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
