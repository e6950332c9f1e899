"""Claim check: which integer win/tie/loss counts are consistent with reported, rounded percentages.

Given a reported win/tie/loss in percent with ``decimals`` decimals and the number of judgments ``n``,
:func:`consistent_counts` lists every triple ``(w, t, l)`` with ``w + t + l = n`` whose percentages
``100*w/n`` etc. round to the reported figures, accepting either rounding of an exact half (a GRIM-style
test, Brown & Heathers 2017). When no triple exists the reported row cannot come from ``n`` judgments.
:func:`check_claim` adds, per consistent triple, the Wilson interval of the win rate and the sign tests
of :mod:`evaluators.preference`; a gain is called significant when the sign test excluding ties gives
p < alpha *and* the wins exceed the losses. The tests treat judgments as independent; with 17 raters x
50 prompts they are clustered, so these p-values understate the uncertainty. Without the raw
judgments the clustering cannot be estimated; ``max_design_effect`` says how much variance inflation
the conclusion survives (a design effect of 2 halves the effective number of judgments).
"""

from __future__ import annotations

from fractions import Fraction

import pandas as pd

from evaluators.errors import StatsInputError
from evaluators.preference import sign_tests, wilson


def _matches(count: int, n: int, pct: float, decimals: int) -> bool:
    exact = Fraction(100 * count, n)
    half = Fraction(1, 2 * 10**decimals)
    return abs(exact - Fraction(str(pct))) <= half


def consistent_counts(win_pct: float, tie_pct: float, loss_pct: float, n: int, decimals: int = 1) -> list[tuple[int, int, int]]:
    """All ``(wins, ties, losses)`` summing to ``n`` whose percentages round to the reported ones."""
    if n <= 0:
        raise StatsInputError(f"n must be a positive number of judgments; got {n}. Pass the study's judgment count.")
    wins = [w for w in range(n + 1) if _matches(w, n, win_pct, decimals)]
    ties = [t for t in range(n + 1) if _matches(t, n, tie_pct, decimals)]
    return [(w, t, n - w - t) for w in wins for t in ties if n - w - t >= 0 and _matches(n - w - t, n, loss_pct, decimals)]


def nearest_counts(pct: float, n: int, decimals: int = 1) -> str:
    """The counts just below and above ``pct`` of ``n`` with their rounded percentages, for the report."""
    lo = int(pct * n / 100)
    return ", ".join(f"{c}/{n} = {100 * c / n:.{decimals + 2}f}%" for c in (lo, lo + 1))


def max_design_effect(wins: int, losses: int, alpha: float = 0.05) -> float:
    """The largest design effect (variance inflation from clustering by rater and prompt) under which
    the sign test excluding ties, in its normal approximation, still rejects: ``(z / z_crit)^2`` with
    ``z = (w - l) / sqrt(w + l)``. Below 1 the gain is not significant even for independent judgments."""
    from scipy.stats import norm

    if wins + losses == 0:
        return 0.0
    z = (wins - losses) / (wins + losses) ** 0.5
    return float((z / norm.ppf(1 - alpha / 2)) ** 2)


def check_claim(label: str, win_pct: float, tie_pct: float, loss_pct: float, n: int, decimals: int = 1,
                alpha: float = 0.05) -> pd.DataFrame:
    """One row per consistent count triple with intervals and tests.

    When no triple is consistent, one row with ``consistent=False`` says why and gives the tests at the
    nearest counts (each percentage times n, rounded), so the significance question is still answered.
    """
    triples = consistent_counts(win_pct, tie_pct, loss_pct, n, decimals)
    base = {"comparison": label, "reported": f"{win_pct}/{tie_pct}/{loss_pct}", "n": n}
    if not triples:
        why = []
        for name, pct in (("win", win_pct), ("tie", tie_pct), ("loss", loss_pct)):
            if not any(_matches(c, n, pct, decimals) for c in range(n + 1)):
                why.append(f"no count gives {name} {pct}% ({nearest_counts(pct, n, decimals)})")
        if not why:
            why.append("each figure is reachable alone but no triple sums to n")
        # still report the nearest triple (each count rounded from the reported percent) and its tests
        w, t = round(win_pct * n / 100), round(tie_pct * n / 100)
        triples, note = [(w, t, n - w - t)], "inconsistent: " + "; ".join(why) + "; tests use the nearest counts"
    else:
        note = ""
    rows = []
    for w, t, l in triples:
        lo, hi = wilson(w, n, alpha)
        p_excl, p_split = sign_tests(w, t, l)
        rows.append({**base, "consistent": not note, "wins": w, "ties": t, "losses": l,
                     "win_wilson_low": round(100 * lo, 2), "win_wilson_high": round(100 * hi, 2),
                     "decisive_win_pct": round(100 * w / (w + l), 2) if w + l else float("nan"),
                     "sign_p_excl_ties": p_excl, "sign_p_split_ties": p_split,
                     "significant_gain": bool(p_excl < alpha and w > l),
                     "max_design_effect": round(max_design_effect(w, l, alpha), 1), "note": note})
    return pd.DataFrame(rows)


PAPER_TABLE_2 = (
    ("Motive vs base", 74.1, 12.3, 13.6),
    ("Motive vs random 10%", 58.9, 12.1, 29.0),
    ("Motive vs full fine-tuning", 53.1, 14.8, 32.1),
    ("Motive vs no motion mask", 46.9, 20.0, 33.1),
)
PAPER_N = 850  # 17 raters x 50 videos per pairing


def check_paper(n: int = PAPER_N) -> pd.DataFrame:
    """The claim check applied to the four rows of the Motive paper's human study (Table 2)."""
    return pd.concat([check_claim(label, w, t, l, n) for label, w, t, l in PAPER_TABLE_2], ignore_index=True)
