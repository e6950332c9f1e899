"""A pairwise automatic judge: which of two videos of the same prompt and seed shows better motion.

Each judge metric votes for the video it scores better (direction from the registry's
``higher_is_better``) when the two values differ by more than ``margin`` relative to the larger
magnitude (``|x - y| > margin * max(|x|, |y|, 1e-12)``); the video with more votes wins, equal votes
(or no vote) is a tie. Metrics with a NaN on either side abstain. The output is a judgments frame in
the shared format (:mod:`evaluators.judgments`) with ``rater = "auto-judge:<metrics>@<margin>"``; the
judge has no screen, so ``left`` is drawn per (prompt, seed) from a derived seed, which keeps the
tally's position-bias test meaningful (it should find none).
"""

from __future__ import annotations

from typing import Iterable

import numpy as np
import pandas as pd

from evaluators.metrics import higher_is_better
from evaluators.seeding import derive_seed

DEFAULT_JUDGE_METRICS = ("motion_smoothness", "warp_error", "flow_jerk", "physics_plausibility")


def judge_rater(metrics: Iterable[str], margin: float) -> str:
    """The rater name recorded for a judge configuration."""
    return f"auto-judge:{'+'.join(metrics)}@{margin:g}"


def judge_values(a: dict[str, float], b: dict[str, float], metrics: Iterable[str], margin: float = 0.02) -> str:
    """``"a"``, ``"b"`` or ``"tie"`` from two videos' metric values (metric -> value)."""
    votes = 0
    for m in metrics:
        x, y = a.get(m, np.nan), b.get(m, np.nan)
        if not (np.isfinite(x) and np.isfinite(y)):
            continue
        if abs(x - y) <= margin * max(abs(x), abs(y), 1e-12):
            continue
        better_a = (x > y) if higher_is_better(m) else (x < y)
        votes += 1 if better_a else -1
    return "a" if votes > 0 else ("b" if votes < 0 else "tie")


def judge(per_video: pd.DataFrame, model_a: str, model_b: str, metrics: Iterable[str] = DEFAULT_JUDGE_METRICS,
          margin: float = 0.02, seed: int = 0) -> pd.DataFrame:
    """Judgments of ``model_a`` vs ``model_b`` on every (prompt, seed) both have, from a tidy table.

    ``per_video``: the tidy table of :func:`evaluators.evaluate.evaluate`. Returns the shared judgments
    columns ``rater, prompt, seed, model_a, model_b, left, choice, check, study``.
    """
    metrics = [m for m in metrics if m in set(per_video["metric"])]
    for m in metrics:
        higher_is_better(m)  # unknown metric names fail loudly
    wide = per_video[per_video["metric"].isin(metrics)].pivot_table(
        index=["model", "prompt", "seed"], columns="metric", values="value", aggfunc="first")
    rater = judge_rater(metrics, margin)
    rows = []
    keys_a = {k[1:] for k in wide.index if k[0] == model_a}
    keys_b = {k[1:] for k in wide.index if k[0] == model_b}
    for prompt, s in sorted(keys_a & keys_b):
        va = wide.loc[(model_a, prompt, s)].to_dict()
        vb = wide.loc[(model_b, prompt, s)].to_dict()
        left = model_a if derive_seed(seed, "judge-left", prompt, int(s)) % 2 == 0 else model_b
        rows.append({"rater": rater, "prompt": prompt, "seed": int(s), "model_a": model_a, "model_b": model_b,
                     "left": left, "choice": judge_values(va, vb, metrics, margin), "check": "", "study": "auto"})
    return pd.DataFrame(rows, columns=["rater", "prompt", "seed", "model_a", "model_b", "left", "choice", "check", "study"])
