"""Selecting training clips from influence scores, and the record every selection is saved as.

Rules (all return a :class:`Selection`):

* :func:`majority_vote` (Motive): query ``j``'s cutoff is the ``percentile`` of its column of scores
  (NumPy's default linear interpolation); a clip gets a vote from each query where its score is *strictly*
  above that cutoff. Clips are ranked by votes (descending), ties by mean score over queries
  (descending), then by row index (ascending), and the top ``count`` (or ``fraction`` of N) are kept.
* :func:`category_vote`: scores are first averaged over each category's queries, then voted over
  categories as above.
* :func:`within_category_vote` (an option, not in the paper): each query votes only among the clips of
  its own category (the clip's category is metadata, e.g. the motion verb of its caption), with its
  cutoff the ``percentile`` of its scores over those clips; clips are ranked by these votes, ties by the
  mean score over their own category's queries, then by row.
* :func:`random_selection`: a seeded uniform random subset.
* :func:`top_by_value`: the top fraction by any per-clip value (motion magnitude baseline);
  :func:`above_threshold`: every clip whose value passes a threshold.

``fraction`` keeps ``max(1, floor(fraction * N + 0.5))`` clips (round half up); ``count`` overrides it.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from curation.errors import NonFiniteError, SelectionError, ShapeError
from curation.seeds import numpy_rng


@dataclass
class Selection:
    """A selection and what produced it.

    ``order``: int64 ``(N,)`` every row index from best to worst; ``selected``: the first ``count`` of
    them; ``score``: float ``(N,)`` the per-clip value the rule ranked on after votes (mean score, value,
    or NaN for random); ``votes``: int ``(N,)`` (zeros where the rule has none); ``ids``: optional clip ids;
    ``rule`` and ``params``: the rule's name and its parameters (cutoffs included).
    """

    order: np.ndarray
    count: int
    score: np.ndarray
    votes: np.ndarray
    rule: str
    params: dict[str, Any] = field(default_factory=dict)
    ids: Sequence[str] | None = None

    @property
    def selected(self) -> np.ndarray:
        """int64 ``(count,)`` row indices kept, best first."""
        return self.order[: self.count]

    @property
    def selected_ids(self) -> list[str] | None:
        return None if self.ids is None else [self.ids[i] for i in self.selected]

    @property
    def rank(self) -> np.ndarray:
        """int64 ``(N,)`` 1-based rank of every row (1 = best)."""
        r = np.empty(len(self.order), dtype=np.int64)
        r[self.order] = np.arange(1, len(self.order) + 1)
        return r

    def table(self) -> pd.DataFrame:
        """One row per clip: ``row, clip_id, votes, score, rank, selected``, in row order."""
        n = len(self.order)
        sel = np.zeros(n, dtype=bool)
        sel[self.selected] = True
        return pd.DataFrame({"row": np.arange(n), "clip_id": list(self.ids) if self.ids is not None else [""] * n,
                             "votes": self.votes, "score": self.score, "rank": self.rank, "selected": sel})

    def save(self, directory: str | Path) -> tuple[Path, Path]:
        """Write ``selection.csv`` (per-clip table) and ``selection.json`` (rule, params, selected rows/ids)."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        csv_path, json_path = directory / "selection.csv", directory / "selection.json"
        self.table().to_csv(csv_path, index=False)
        doc = {"rule": self.rule, "params": self.params, "n": int(len(self.order)), "count": int(self.count),
               "selected_rows": [int(i) for i in self.selected], "selected_ids": self.selected_ids}
        json_path.write_text(json.dumps(doc, indent=2, default=float))
        return csv_path, json_path


def keep_count(n: int, fraction: float | None, count: int | None) -> int:
    """How many of ``n`` to keep: ``count`` if given (1..n), else ``max(1, floor(fraction*n + 0.5))``."""
    if count is not None:
        if not 1 <= int(count) <= n:
            raise SelectionError(f"count={count} is outside 1..{n} (the number of clips); pass a count in range")
        return int(count)
    if fraction is None or not (0.0 < float(fraction) <= 1.0) or math.isnan(float(fraction)):
        raise SelectionError(f"fraction={fraction!r} is outside (0, 1]; e.g. 0.1 keeps 10% of the clips")
    return max(1, math.floor(float(fraction) * n + 0.5))


def _check_scores(scores: np.ndarray, what: str = "scores") -> np.ndarray:
    s = np.asarray(scores, dtype=np.float64)
    if s.ndim != 2:
        raise ShapeError(f"{what} must be (N clips, M queries), got shape {s.shape}")
    if s.shape[1] == 0:
        raise SelectionError("the query set is empty (scores have 0 columns); give at least one query")
    if s.shape[0] == 0:
        raise SelectionError("there are no clips to select from (scores have 0 rows)")
    if not np.isfinite(s).all():
        r, c = (int(v) for v in np.argwhere(~np.isfinite(s))[0])
        raise NonFiniteError(f"{what}[{r}, {c}] is {s[r, c]}; recompute that clip's or query's feature")
    return s


def _vote(s: np.ndarray, percentile: float) -> tuple[np.ndarray, np.ndarray]:
    if not 0.0 <= float(percentile) <= 100.0:
        raise SelectionError(f"percentile={percentile} is outside [0, 100]; the paper's natural choice is 90")
    cutoffs = np.percentile(np.ascontiguousarray(s.T), percentile, axis=1)  # per query, contiguous rows
    return (s > cutoffs).sum(axis=1).astype(np.int64), cutoffs


def _ranked(votes: np.ndarray, score: np.ndarray) -> np.ndarray:
    return np.lexsort((np.arange(len(votes)), -score, -votes)).astype(np.int64)


def majority_vote(scores: np.ndarray, percentile: float = 90.0, fraction: float | None = 0.1,
                  count: int | None = None, ids: Sequence[str] | None = None) -> Selection:
    """Motive's multi-query vote over ``scores`` float ``(N, M)`` (see the module docstring)."""
    s = _check_scores(scores)
    k = keep_count(s.shape[0], fraction, count)
    votes, cutoffs = _vote(s, percentile)
    mean = s.mean(axis=1)
    return Selection(order=_ranked(votes, mean), count=k, score=mean, votes=votes, rule="majority_vote",
                     params={"percentile": float(percentile), "fraction": fraction, "count": k,
                             "cutoff_rule": "score > per-query percentile (numpy linear)",
                             "tie_break": "votes desc, mean score desc, row asc",
                             "cutoffs": [float(c) for c in cutoffs]}, ids=ids)


def category_vote(scores: np.ndarray, query_categories: Sequence[str], percentile: float = 90.0,
                  fraction: float | None = 0.1, count: int | None = None,
                  ids: Sequence[str] | None = None) -> Selection:
    """Average ``scores`` ``(N, M)`` over each category's queries (``query_categories``: M labels), then
    vote over the categories as :func:`majority_vote` does."""
    s = _check_scores(scores)
    cats = list(query_categories)
    if len(cats) != s.shape[1]:
        raise ShapeError(f"{len(cats)} query categories for {s.shape[1]} query columns; give one per query")
    names = sorted(set(cats))
    per_cat = np.stack([s[:, [j for j, c in enumerate(cats) if c == name]].mean(axis=1) for name in names], 1)
    sel = majority_vote(per_cat, percentile, fraction, count, ids)
    sel.rule = "category_vote"
    sel.params["categories"] = names
    return sel


def within_category_vote(scores: np.ndarray, query_categories: Sequence[str], clip_categories: Sequence[str],
                         percentile: float = 90.0, fraction: float | None = 0.1, count: int | None = None,
                         ids: Sequence[str] | None = None) -> Selection:
    """Votes of each query among the clips of its own category only (see the module docstring).

    ``scores``: ``(N, M)``; ``query_categories``: M labels; ``clip_categories``: N labels. A clip whose
    category has no query is an error (nothing could vote for it).
    """
    s = _check_scores(scores)
    qc, cc = np.asarray(list(query_categories)), np.asarray(list(clip_categories))
    if len(qc) != s.shape[1]:
        raise ShapeError(f"{len(qc)} query categories for {s.shape[1]} query columns; give one per query")
    if len(cc) != s.shape[0]:
        raise ShapeError(f"{len(cc)} clip categories for {s.shape[0]} clip rows; give one per clip")
    missing = sorted(set(cc.tolist()) - set(qc.tolist()))
    if missing:
        raise SelectionError(f"clips of categor{'y' if len(missing) == 1 else 'ies'} {missing} have no query of "
                             "their own category; add one, or use vote='majority'")
    k = keep_count(s.shape[0], fraction, count)
    votes = np.zeros(s.shape[0], dtype=np.int64)
    own = np.zeros(s.shape[0])
    cutoffs = np.full(s.shape[1], np.nan)
    names = sorted(set(cc.tolist()))
    for name in names:
        rows, cols = np.nonzero(cc == name)[0], np.nonzero(qc == name)[0]
        sub = s[np.ix_(rows, cols)]
        votes[rows], cutoffs[cols] = _vote(sub, percentile)  # the majority vote's cutoff rule, on this category
        own[rows] = sub.mean(axis=1)
    return Selection(order=_ranked(votes, own), count=k, score=own, votes=votes, rule="within_category_vote",
                     params={"percentile": float(percentile), "fraction": fraction, "count": k,
                             "cutoff_rule": "score > the query's percentile over its own category's clips",
                             "tie_break": "votes desc, mean own-category score desc, row asc",
                             "categories": names, "cutoffs": [None if np.isnan(c) else float(c) for c in cutoffs]},
                     ids=ids)


def random_selection(n: int, fraction: float | None = 0.1, seed: int = 0, count: int | None = None,
                     ids: Sequence[str] | None = None) -> Selection:
    """A uniform random ``count`` (or ``fraction``) of ``n`` rows from ``derive_seed(seed, "random_selection")``."""
    if n < 1:
        raise SelectionError(f"there are no clips to select from (n={n})")
    k = keep_count(n, fraction, count)
    order = numpy_rng(seed, "random_selection").permutation(n).astype(np.int64)
    return Selection(order=order, count=k, score=np.full(n, np.nan), votes=np.zeros(n, dtype=np.int64),
                     rule="random", params={"seed": int(seed), "fraction": fraction, "count": k}, ids=ids)


def top_by_value(values: np.ndarray, fraction: float | None = 0.1, higher_is_better: bool = True,
                 count: int | None = None, ids: Sequence[str] | None = None, rule: str = "top_by_value") -> Selection:
    """Keep the best ``count`` (or ``fraction``) rows by ``values`` float ``(N,)``; ties by row index."""
    v = _check_scores(np.asarray(values, dtype=np.float64).reshape(-1, 1), "values")[:, 0]
    k = keep_count(len(v), fraction, count)
    key = -v if higher_is_better else v
    order = np.lexsort((np.arange(len(v)), key)).astype(np.int64)
    return Selection(order=order, count=k, score=v, votes=np.zeros(len(v), dtype=np.int64), rule=rule,
                     params={"fraction": fraction, "count": k, "higher_is_better": higher_is_better}, ids=ids)


def above_threshold(values: np.ndarray, threshold: float, higher_is_better: bool = True,
                    ids: Sequence[str] | None = None) -> Selection:
    """Keep every row whose value is strictly beyond ``threshold`` (at least one must pass)."""
    v = _check_scores(np.asarray(values, dtype=np.float64).reshape(-1, 1), "values")[:, 0]
    passing = int((v > threshold).sum() if higher_is_better else (v < threshold).sum())
    if passing == 0:
        raise SelectionError(f"no value is {'above' if higher_is_better else 'below'} the threshold {threshold} "
                             f"(values span {v.min():.4g}..{v.max():.4g}); lower the threshold")
    sel = top_by_value(v, None, higher_is_better, count=passing, ids=ids, rule="above_threshold")
    sel.params["threshold"] = float(threshold)
    return sel
