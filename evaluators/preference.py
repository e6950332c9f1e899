"""Pairwise preference tally: win/tie/loss, intervals, sign tests, Bradley-Terry, position bias, power.

Input is a validated judgments frame (:func:`evaluators.judgments.read_judgments`). Check rows
(``repeat``/``identical``) are excluded from every statistic by default and summarised separately.

Statistics (95% by default):

* Wilson intervals on the win, tie and loss rates (statsmodels ``proportion_confint(method="wilson")``).
* A two-way cluster bootstrap (Owen 2007's pigeonhole bootstrap): each replicate resamples raters *and*
  prompts with replacement, and weights every judgment by (times its rater was drawn) x (times its
  prompt was drawn). Arena tools resample single judgments, which treats 17 raters x 50 prompts as 850
  independent draws and understates the uncertainty. Draws come from :func:`evaluators.seeding.numpy_rng`.
  The pigeonhole bootstrap is conservative: when judgments are in fact independent it still counts the
  rater and prompt margins, so its interval is wider than Wilson's (about 1.6 times for 17 x 50
  i.i.d. simulated judgments at a 58% win rate: 10.4 vs 6.6 points; up to sqrt(3) in theory). Report both.
* Sign tests (scipy ``binomtest``, two-sided, p = 0.5): one excluding ties; one splitting ties evenly
  between the two sides (an odd tie count drops one tie).
* Bradley-Terry strengths over any number of models, ties as half a win each way, fitted by Hunter's
  (2004) MM iterations with a 0.01 pseudo-count per pair direction so a model that never wins keeps a
  finite strength; log-strengths centred to mean 0; intervals from the same cluster bootstrap.
* A left/right position-bias test: among decisive judgments, how often the model shown left won.
* :func:`judgments_needed`: the number of judgments an exact sign test needs to detect a win rate.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import binom, binomtest
from statsmodels.stats.proportion import proportion_confint

from evaluators.errors import StatsInputError
from evaluators.seeding import numpy_rng
from evaluators.tables import markdown_table


def wilson(k: int, n: int, alpha: float = 0.05) -> tuple[float, float]:
    """Wilson interval of ``k`` successes in ``n`` (NaNs when n = 0)."""
    if n == 0:
        return float("nan"), float("nan")
    lo, hi = proportion_confint(k, n, alpha=alpha, method="wilson")
    return float(lo), float(hi)


def sign_tests(wins: int, ties: int, losses: int) -> tuple[float, float]:
    """Two-sided sign-test p-values ``(excluding ties, splitting ties)``; NaN when nothing is decisive."""
    p_excl = binomtest(wins, wins + losses, 0.5).pvalue if wins + losses else float("nan")
    half = ties // 2
    n_split = wins + losses + 2 * half
    p_split = binomtest(wins + half, n_split, 0.5).pvalue if n_split else float("nan")
    return float(p_excl), float(p_split)


def cluster_weights(raters: np.ndarray, prompts: np.ndarray, n_boot: int, seed: int) -> np.ndarray:
    """Two-way cluster bootstrap weights float32 ``(n_boot, N)`` for N judgments.

    ``raters`` and ``prompts`` are length-N label arrays; replicate b weights judgment i by the number
    of times its rater and its prompt were drawn in b.
    """
    r_codes, r_uni = pd.factorize(pd.Series(raters), sort=True)
    p_codes, p_uni = pd.factorize(pd.Series(prompts), sort=True)
    rng_r = numpy_rng(seed, "bootstrap", "raters")
    rng_p = numpy_rng(seed, "bootstrap", "prompts")
    R, P = len(r_uni), len(p_uni)
    cr = np.stack([np.bincount(rng_r.integers(0, R, R), minlength=R) for _ in range(n_boot)]).astype(np.float32)
    cp = np.stack([np.bincount(rng_p.integers(0, P, P), minlength=P) for _ in range(n_boot)]).astype(np.float32)
    return cr[:, r_codes] * cp[:, p_codes]


def _ordinary(df: pd.DataFrame, include_checks: bool) -> pd.DataFrame:
    return df if include_checks else df[~df["is_check"]]


def _score(df: pd.DataFrame, model: str) -> np.ndarray:
    """Per judgment from ``model``'s side: 1 win, 0.5 tie, 0 loss (float64 ``(N,)``)."""
    return np.where(df["winner"] == model, 1.0, np.where(df["winner"] == "tie", 0.5, 0.0))


def pair_table(df: pd.DataFrame, reference: str | None = None, n_boot: int = 2000, seed: int = 0,
               alpha: float = 0.05, include_checks: bool = False) -> pd.DataFrame:
    """Win/tie/loss per pair of models with Wilson and cluster-bootstrap intervals and sign tests.

    Each pair is oriented with ``reference`` as ``model`` when it takes part, else alphabetically.
    Bootstrap columns are intervals on the win rate and on the net preference (win - loss rate).
    """
    d = _ordinary(df, include_checks).reset_index(drop=True)
    rows = []
    q = [100 * alpha / 2, 100 * (1 - alpha / 2)]
    for pair, g in d.groupby("pair", sort=True):
        x, y = pair.split("|")
        if reference is not None and y == reference:
            x, y = y, x
        s = _score(g, x)
        w, t, l = int((s == 1).sum()), int((s == 0.5).sum()), int((s == 0).sum())
        n = w + t + l
        wt = cluster_weights(g["rater"].to_numpy(), g["prompt"].to_numpy(), n_boot, seed) if n_boot else None
        row = {"model": x, "opponent": y, "n": n, "wins": w, "ties": t, "losses": l,
               "win_pct": 100 * w / n, "tie_pct": 100 * t / n, "loss_pct": 100 * l / n}
        for name, k in (("win", w), ("tie", t), ("loss", l)):
            lo, hi = wilson(k, n, alpha)
            row[f"{name}_wilson_low"], row[f"{name}_wilson_high"] = 100 * lo, 100 * hi
        if wt is not None:
            tot = wt.sum(axis=1)
            with np.errstate(invalid="ignore", divide="ignore"):
                win_b = (wt * (s == 1)).sum(axis=1) / tot
                net_b = (wt * ((s == 1).astype(float) - (s == 0))).sum(axis=1) / tot
            row["win_boot_low"], row["win_boot_high"] = (100 * np.nanpercentile(win_b, q)).tolist()
            row["net_pct"] = 100 * (w - l) / n
            row["net_boot_low"], row["net_boot_high"] = (100 * np.nanpercentile(net_b, q)).tolist()
        row["sign_p_excl_ties"], row["sign_p_split_ties"] = sign_tests(w, t, l)
        row["duplicates"] = int(g["duplicate"].sum())
        rows.append(row)
    return pd.DataFrame(rows)


def _bt_fit(models: list[str], i: np.ndarray, j: np.ndarray, s: np.ndarray, weight: np.ndarray,
            pseudo: float = 0.01, iters: int = 500, tol: float = 1e-10) -> np.ndarray:
    """MM fit of BT log-strengths ``(M,)`` from judgments (i vs j, score s of i, weight)."""
    m = len(models)
    W = np.full((m, m), pseudo)
    np.fill_diagonal(W, 0.0)
    np.add.at(W, (i, j), weight * s)
    np.add.at(W, (j, i), weight * (1 - s))
    N = W + W.T
    wins = W.sum(axis=1)
    p = np.ones(m)
    for _ in range(iters):
        denom = (N / (p[:, None] + p[None, :])).sum(axis=1)
        new = wins / denom
        new /= np.exp(np.log(new).mean())
        if np.max(np.abs(new - p)) < tol:
            p = new
            break
        p = new
    return np.log(p)


def bradley_terry(df: pd.DataFrame, n_boot: int = 1000, seed: int = 0, alpha: float = 0.05,
                  include_checks: bool = False) -> pd.DataFrame:
    """Bradley-Terry log-strengths (mean 0) per model with two-way cluster-bootstrap intervals."""
    d = _ordinary(df, include_checks).reset_index(drop=True)
    models = sorted(set(d["model_a"]) | set(d["model_b"]))
    idx = {m: k for k, m in enumerate(models)}
    i = d["model_a"].map(idx).to_numpy()
    j = d["model_b"].map(idx).to_numpy()
    s = np.where(d["choice"] == "a", 1.0, np.where(d["choice"] == "tie", 0.5, 0.0))
    est = _bt_fit(models, i, j, s, np.ones(len(d)))
    out = pd.DataFrame({"model": models, "log_strength": est})
    if n_boot:
        wt = cluster_weights(d["rater"].to_numpy(), d["prompt"].to_numpy(), n_boot, seed)
        boots = np.stack([_bt_fit(models, i, j, s, w.astype(np.float64)) for w in wt])
        out["low"] = np.percentile(boots, 100 * alpha / 2, axis=0)
        out["high"] = np.percentile(boots, 100 * (1 - alpha / 2), axis=0)
    return out.sort_values("log_strength", ascending=False, ignore_index=True)


def position_bias(df: pd.DataFrame, alpha: float = 0.05, include_checks: bool = False) -> dict[str, float]:
    """How often the left video won among decisive judgments, with Wilson interval and sign test."""
    d = _ordinary(df, include_checks)
    decisive = d[d["choice"] != "tie"]
    k = int((decisive["winner"] == decisive["left"]).sum())
    n = len(decisive)
    lo, hi = wilson(k, n, alpha)
    p = binomtest(k, n, 0.5).pvalue if n else float("nan")
    return {"decisive": n, "left_wins": k, "left_win_pct": 100 * k / n if n else float("nan"),
            "wilson_low": 100 * lo, "wilson_high": 100 * hi, "p_value": float(p)}


def check_summary(df: pd.DataFrame) -> pd.DataFrame:
    """Per check type: rows, passed, failed, unknown."""
    c = df[df["is_check"]]
    rows = []
    for kind, g in c.groupby("check", sort=True):
        cp = g["check_passed"] if "check_passed" in g.columns else pd.Series(pd.NA, index=g.index)
        rows.append({"check": kind, "rows": len(g), "passed": int((cp == True).sum()),  # noqa: E712
                     "failed": int((cp == False).sum()), "unknown": int(cp.isna().sum())})  # noqa: E712
    return pd.DataFrame(rows, columns=["check", "rows", "passed", "failed", "unknown"])


def sign_test_power(n: int, win_rate: float, alpha: float = 0.05) -> float:
    """Power of the exact two-sided sign test with ``n`` decisive judgments at true win rate ``win_rate``."""
    k = np.arange(n + 1)
    # two-sided exact test at p=0.5 is symmetric: reject when min(k, n-k) <= c
    cdf = binom.cdf(k, n, 0.5)
    c = int(np.searchsorted(cdf, alpha / 2, side="right")) - 1  # largest c with P(X<=c) <= alpha/2
    if c < 0:
        return 0.0
    return float(binom.cdf(c, n, win_rate) + binom.sf(n - c - 1, n, win_rate))


def judgments_needed(win_rate: float, tie_rate: float = 0.0, alpha: float = 0.05, power: float = 0.8,
                     n_max: int = 100_000) -> dict[str, float]:
    """Judgments needed for the exact sign test (ties excluded) to detect ``win_rate`` with ``power``.

    ``win_rate`` is the share of decisive judgments the better model wins (> or < 0.5); ties, at
    ``tie_rate``, are excluded, so the total is ``ceil(decisive / (1 - tie_rate))``. The smallest
    ``n`` reaching the power is returned (exact power saw-tooths in n), beside the normal-approximation
    answer of statsmodels' ``NormalIndPower`` (one sample, Cohen's h).
    """
    from math import ceil

    from statsmodels.stats.power import NormalIndPower
    from statsmodels.stats.proportion import proportion_effectsize

    if not 0 < win_rate < 1 or win_rate == 0.5:
        raise StatsInputError(f"win_rate must be in (0, 1) and not 0.5 (nothing to detect); got {win_rate}. "
                              "Pass the decisive win rate to detect, e.g. 0.6.")
    if not 0 <= tie_rate < 1:
        raise StatsInputError(f"tie_rate must be in [0, 1); got {tie_rate}.")
    n = next((n for n in range(1, n_max + 1) if sign_test_power(n, win_rate, alpha) >= power), None)
    if n is None:
        raise StatsInputError(f"more than {n_max} decisive judgments needed for win_rate {win_rate}; "
                              "choose a win rate further from 0.5.")
    h = abs(proportion_effectsize(win_rate, 0.5))
    approx = NormalIndPower().solve_power(effect_size=h, alpha=alpha, power=power, ratio=0)
    return {"decisive": n, "total": ceil(n / (1 - tie_rate)), "decisive_normal_approx": float(np.ceil(approx))}


@dataclass
class Tally:
    """Everything the tally reports."""

    pairs: pd.DataFrame
    bradley_terry: pd.DataFrame
    position_bias: dict[str, float]
    checks: pd.DataFrame
    duplicates: pd.DataFrame

    def to_markdown(self) -> str:
        fmt = markdown_table
        pb = self.position_bias
        return "\n\n".join([
            "## Pairs (win/tie/loss from `model`'s side; intervals 95%)", fmt(self.pairs),
            "## Bradley-Terry log-strengths (ties = half wins; two-way cluster bootstrap)", fmt(self.bradley_terry),
            f"## Position bias\n\nleft won {pb['left_wins']} of {pb['decisive']} decisive judgments "
            f"({pb['left_win_pct']:.1f}%, Wilson {pb['wilson_low']:.1f}-{pb['wilson_high']:.1f}%, sign test p = {pb['p_value']:.3g})",
            "## Check rows (excluded above)", fmt(self.checks),
            "## Duplicate rater x pair judgments (kept, flagged)", fmt(self.duplicates),
        ]) + "\n"


def tally(df: pd.DataFrame, reference: str | None = None, n_boot: int = 2000, seed: int = 0,
          alpha: float = 0.05, include_checks: bool = False) -> Tally:
    """The full tally of a validated judgments frame."""
    dup = df[df["duplicate"]][["line", "rater", "prompt", "model_a", "model_b", "choice"]].reset_index(drop=True)
    return Tally(
        pair_table(df, reference, n_boot, seed, alpha, include_checks),
        bradley_terry(df, min(n_boot, 1000), seed, alpha, include_checks),
        position_bias(df, alpha, include_checks),
        check_summary(df),
        dup,
    )
