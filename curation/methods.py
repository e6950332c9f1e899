"""The five selection methods of the benchmark, each producing the same artifact: a :class:`Selection`.

* ``motive``: cosine scores (after removing the corpus's common direction, ``centre`` below) of flow-masked
  gradient features against the queries' masked features,
  Motive's majority vote (a vote per query where the score is above that query's 90th percentile; rank
  by votes, ties by mean score, then row), top ``fraction``;
* ``whole_video``: the same with whole-video features (mask of ones) for clips and queries;
* ``motion_magnitude``: the top ``fraction`` by mean raw flow magnitude (the paper's baseline);
* ``random``: a seeded uniform ``fraction``;
* ``full``: every clip.

Choices recorded in each selection's ``params``:

* rows whose features failed (non-finite gradient; all-zero mask under the ``"exclude"`` fallback) take
  no part in the vote - the cutoffs are percentiles over the valid rows only - and are ranked last, in
  row order; the kept count is still ``fraction`` of *all* clips;
* ``weights`` (camera-only down-weight, 1.0 elsewhere) multiply a clip's votes before ranking, and a
  down-weighted clip loses ties of weighted votes (rank key: weighted votes, weight, mean score, row);
  scaling a mask by a constant could not do this, because a cosine ignores the gradient's scale;
* ``centre`` (:func:`curation.influence.remove_common_component`): ``"mean"`` (the default, **a departure
  from the paper**) subtracts the mean of the valid corpus rows' unit features from every unit clip and
  query feature before the cosine; ``"project"`` projects that mean's direction out; ``"none"`` scores the
  plain cosine of the projected gradients, as the paper does. The norm of the removed mean is recorded
  as ``params["common_norm"]``. Why: on the shipped checkpoint the corpus's unit gradients share a mean
  of norm ~0.25, a clip's mean score over the queries follows its alignment with it (Pearson 0.96-0.98),
  and the vote then keeps the clips aligned with every query, a third of them violating; centring lifts
  the top 10% from 0.667 to 0.850 plausible on 3 seeds, and from 0.861 to 0.894 on the 250-step
  checkpoint (reports/selection-study/README.md);
* ``vote="category"`` averages each category's queries first (:func:`curation.select.category_vote`);
  ``vote="within_category"`` lets each query vote only among the clips of its own category
  (:func:`curation.select.within_category_vote`; needs ``clip_categories``, one per clip, e.g. the motion
  verb of each caption - metadata the paper's pool does not have).
  With ``categories`` given, a category that has no query is an error (its clips could never be voted
  for by a query of their own kind).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from curation.errors import SelectionError, ShapeError
from curation.influence import cosine_scores, remove_common_component
from curation.select import (Selection, category_vote, keep_count, majority_vote, random_selection, top_by_value,
                             within_category_vote)

METHODS = ("motive", "whole_video", "motion_magnitude", "random", "full")
VOTE_RULES = ("majority", "category", "within_category")  # the ``vote`` of attribution_selection


def check_query_categories(query_categories: Sequence[str], categories: Sequence[str]) -> None:
    """Raise :class:`SelectionError` naming every category in ``categories`` with no query."""
    missing = sorted(set(categories) - set(query_categories))
    if missing:
        have = sorted(set(query_categories))
        raise SelectionError(
            f"no query clip for categor{'y' if len(missing) == 1 else 'ies'} {missing}; the query set covers "
            f"{have}. Add at least one query per category, or drop those categories from the corpus.")


def attribution_selection(
    features: np.ndarray,
    valid: np.ndarray,
    query_features: np.ndarray,
    query_valid: np.ndarray | None = None,
    weights: np.ndarray | None = None,
    fraction: float = 0.1,
    percentile: float = 90.0,
    vote: str = "majority",
    query_categories: Sequence[str] | None = None,
    categories: Sequence[str] | None = None,
    ids: Sequence[str] | None = None,
    rule: str = "motive",
    centre: str = "mean",
    clip_categories: Sequence[str] | None = None,
) -> Selection:
    """Vote-based selection from projected features.

    ``features``: float ``(N, k)`` clip features; ``valid``: bool ``(N,)`` rows that were computed;
    ``query_features``: ``(M, k)``; ``query_valid``: bool ``(M,)`` (failed queries are dropped);
    ``weights``: float ``(N,)`` vote multipliers in ``[0, 1]``; ``centre``: ``"none"`` (the paper),
    ``"mean"`` or ``"project"`` (see the module docstring); ``clip_categories``: ``(N,)`` categories, needed
    by ``vote="within_category"``. Returns a :class:`Selection` over all
    ``N`` rows whose ``votes`` are the weighted votes rounded down to integers for the table (the exact
    weighted votes are in ``params["weighted_votes"]`` when any weight differs from 1).
    """
    features = np.asarray(features, dtype=np.float32)
    n = features.shape[0]
    valid = np.asarray(valid, dtype=bool)
    if valid.shape != (n,):
        raise ShapeError(f"valid has shape {valid.shape}; expected ({n},), one flag per clip row")
    q = np.asarray(query_features, dtype=np.float32)
    qv = np.ones(len(q), bool) if query_valid is None else np.asarray(query_valid, dtype=bool)
    cats = None if query_categories is None else [c for c, ok in zip(query_categories, qv) if ok]
    if categories is not None:
        check_query_categories(cats if cats is not None else [], categories)
    q = q[qv]
    if len(q) == 0:
        raise SelectionError("every query feature failed or the query set is empty; featurise the queries first")
    k = keep_count(n, fraction, None)
    idx = np.nonzero(valid)[0]
    if len(idx) < k:
        raise SelectionError(f"only {len(idx)} of {n} clips have features but {k} are to be kept; "
                             "check the featurisation summary for failed rows")
    train, q, centring = remove_common_component(features[idx], q, centre)
    scores = cosine_scores(train, q)
    if vote in ("category", "within_category") and cats is None:
        raise SelectionError(f"vote={vote!r} needs query_categories, one per query")
    if vote == "category":
        sub = category_vote(scores, cats, percentile, count=k)
    elif vote == "within_category":
        if clip_categories is None or len(clip_categories) != n:
            raise SelectionError(f"vote='within_category' needs clip_categories, one per clip ({n})")
        sub = within_category_vote(scores, cats, [clip_categories[i] for i in idx], percentile, count=k)
    elif vote == "majority":
        sub = majority_vote(scores, percentile, count=k)
    else:
        raise SelectionError(f"vote={vote!r}; expected one of {VOTE_RULES}")
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=np.float64)
    wv = sub.votes * w[idx]
    order_sub = np.lexsort((np.arange(len(idx)), -sub.score, -w[idx], -wv))
    order = np.concatenate([idx[order_sub], np.nonzero(~valid)[0]]).astype(np.int64)
    score = np.full(n, np.nan)
    score[idx] = sub.score
    votes = np.zeros(n, dtype=np.int64)
    votes[idx] = np.floor(wv).astype(np.int64)
    params = {**sub.params, "vote": vote, "fraction": fraction, "excluded_rows": int(n - len(idx)),
              "excluded_rule": "failed rows (non-finite gradient, all-zero mask) take no part and rank last",
              "queries_used": int(len(q)), "centre": centre, "common_norm": centring["common_norm"]}
    if np.any(w != 1.0):
        full_wv = np.full(n, np.nan)
        full_wv[idx] = wv
        params["weighted_votes"] = [None if np.isnan(x) else float(x) for x in full_wv]
        params["downweighted_rows"] = int((w[idx] != 1.0).sum())
    return Selection(order=order, count=k, score=score, votes=votes, rule=rule, params=params, ids=ids)


def magnitude_selection(magnitudes: np.ndarray, fraction: float = 0.1, ids: Sequence[str] | None = None) -> Selection:
    """Top ``fraction`` by mean flow magnitude ``(N,)`` (pixels per frame)."""
    return top_by_value(np.asarray(magnitudes, dtype=np.float64), fraction, ids=ids, rule="motion_magnitude")


def full_selection(n: int, ids: Sequence[str] | None = None) -> Selection:
    """Every clip, in row order."""
    if n < 1:
        raise SelectionError(f"there are no clips to select from (n={n})")
    return Selection(order=np.arange(n, dtype=np.int64), count=n, score=np.full(n, np.nan),
                     votes=np.zeros(n, dtype=np.int64), rule="full", params={"fraction": 1.0}, ids=ids)


def random_subset(n: int, fraction: float = 0.1, seed: int = 0, ids: Sequence[str] | None = None) -> Selection:
    """A seeded random ``fraction`` of ``n`` (see :func:`curation.select.random_selection`)."""
    return random_selection(n, fraction, seed=seed, ids=ids)
