"""Export of a preference study: stored votes joined with the plan, as the judgments CSV.

The columns follow the judgments format that :mod:`evaluators.judgments` reads and
``motive-bench tally`` consumes: ``rater, prompt, model_a, model_b, left, choice`` (``choice`` is
``a``/``b``/``tie`` and refers to model_a/model_b, never to the side), then ``seed, time_ms, check,
check_passed, judged_at, study``. ``time_ms`` is measured in the browser from the moment both videos
start playing to the click. Check rows: a ``repeat`` passes when the rater picks the same model (or
tie) as for the original pair; an ``identical`` pair (model_a = model_b) passes on ``tie``.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Iterable

from bench.study.plan import StudyPlan, read_plan
from bench.study.storage import Vote, VoteStore

COLUMNS = (
    "rater", "prompt", "model_a", "model_b", "left", "choice",
    "seed", "time_ms", "check", "check_passed", "judged_at", "study",
)


def model_choice(side: str, left: str, model_a: str) -> str:
    """The side clicked (left/right/tie) as ``a``/``b``/``tie`` given who was on the left."""
    if side == "tie":
        return "tie"
    on_left_is_a = left == model_a
    return "a" if (side == "left") == on_left_is_a else "b"


def judgment_rows(plan: StudyPlan, votes: Iterable[Vote]) -> list[dict[str, object]]:
    """One dict per stored vote, in :data:`COLUMNS` order, sorted by rater then plan position."""
    by_rater: dict[str, dict[int, Vote]] = {}
    for v in votes:
        by_rater.setdefault(v.rater, {})[v.item] = v
    rows: list[dict[str, object]] = []
    for rater in sorted(by_rater):
        items = plan.raters[rater]
        judged = by_rater[rater]
        for index in sorted(judged):
            vote, item = judged[index], items[index]
            choice = model_choice(vote.choice, item.left, item.model_a)
            passed: object = ""
            if item.check == "identical":
                passed = choice == "tie"
            elif item.check == "repeat":
                assert item.of is not None
                original = judged.get(item.of)
                if original is not None:  # judged in order, so the original is always there
                    first = items[item.of]
                    passed = model_choice(original.choice, first.left, first.model_a) == choice
            rows.append({
                "rater": rater, "prompt": item.prompt, "model_a": item.model_a, "model_b": item.model_b,
                "left": item.left, "choice": choice, "seed": item.seed,
                "time_ms": "" if vote.time_ms is None else vote.time_ms, "check": item.check,
                "check_passed": "" if passed == "" else str(passed).lower(),
                "judged_at": vote.judged_at, "study": plan.study,
            })
    return rows


def write_judgments_csv(rows: Iterable[dict[str, object]], path: str | Path) -> Path:
    """Write ``rows`` (from :func:`judgment_rows`) as a judgments CSV; returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    tmp.replace(path)
    return path


def export_study(study_dir: str | Path, out: str | Path) -> tuple[Path, int]:
    """Export the votes of the study in ``study_dir`` to the CSV ``out``; returns (path, number of rows).

    Safe while the server runs: it reads a consistent WAL snapshot.
    """
    plan = read_plan(study_dir)
    store = VoteStore(Path(study_dir) / "votes.sqlite", plan.fingerprint())
    try:
        rows = judgment_rows(plan, store.votes())
    finally:
        store.close()
    return write_judgments_csv(rows, out), len(rows)
