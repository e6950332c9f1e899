"""Selection rules: majority vote with its tie rule, category vote, random, by value; saving; bad input."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from curation.errors import NonFiniteError, SelectionError
from curation.select import (above_threshold, category_vote, keep_count, majority_vote, random_selection,
                             top_by_value)


def _scores() -> np.ndarray:
    # 10 clips x 2 queries; 50th-percentile cutoffs: q0 -> 4.5, q1 -> 4.5 (linear interpolation)
    q0 = np.array([9, 8, 7, 6, 5, 4, 3, 2, 1, 0], dtype=float)
    q1 = np.array([0, 9, 1, 8, 2, 7, 3, 6, 4, 5], dtype=float)
    return np.stack([q0, q1], 1)


def test_majority_vote_counts_strictly_above_cutoff_and_breaks_ties_by_mean_then_index():
    sel = majority_vote(_scores(), percentile=50.0, count=4)
    np.testing.assert_allclose(sel.params["cutoffs"], [4.5, 4.5])
    assert sel.votes.tolist() == [1, 2, 1, 2, 1, 1, 0, 1, 0, 1]
    # two votes: clips 1 (mean 8.5) and 3 (7.0); then one vote ranked by mean: 5 (5.5), then 0/2/7/9 at 4.5/4/4/2.5
    assert sel.selected.tolist() == [1, 3, 5, 0]
    # clips 2 and 7 tie on votes (1) and mean (4.0): the lower index comes first
    assert sel.order.tolist() == [1, 3, 5, 0, 2, 7, 4, 9, 6, 8]
    assert sel.rank[1] == 1 and sel.rank[5] == 3


def test_tie_on_votes_and_mean_falls_back_to_index():
    s = np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0], [0.0, 0.0]])
    sel = majority_vote(s, percentile=50.0, count=2)
    assert sel.votes.tolist() == [1, 1, 0, 0]
    assert sel.selected.tolist() == [0, 1]


def test_value_exactly_at_cutoff_gets_no_vote():
    s = np.array([[1.0], [1.0], [1.0], [2.0]])  # 50th percentile is 1.0
    sel = majority_vote(s, percentile=50.0, count=1)
    assert sel.votes.tolist() == [0, 0, 0, 1]


def test_default_keeps_top_ten_percent_at_ninetieth_percentile():
    rng = np.random.default_rng(0)
    s = rng.normal(size=(1000, 50))
    s[:30] += 3.0  # thirty clips that every query likes
    sel = majority_vote(s)
    assert sel.count == 100 and set(range(30)) <= set(sel.selected.tolist())
    assert sel.votes[:30].min() >= 40
    assert sel.params["percentile"] == 90.0


def test_category_vote_averages_within_categories_first():
    # queries a1, a2 (category a) and b1; clip 0 is liked by one 'a' query only, clip 1 by both
    s = np.array([[10.0, -10.0, 0.0], [3.0, 3.0, 0.0], [0.0, 0.0, 5.0], [0.0, 0.0, 0.0]])
    sel = category_vote(s, ["a", "a", "b"], percentile=50.0, count=2)
    assert sel.params["categories"] == ["a", "b"] and sel.rule == "category_vote"
    # category means: a -> [0, 3, 0, 0], b -> [0, 0, 5, 0]; cutoffs 0 and 0
    assert sel.votes.tolist() == [0, 1, 1, 0]
    assert sel.selected.tolist() == [2, 1]  # one vote each; mean over categories 2.5 beats 1.5


def test_random_selection_is_seeded_and_sized():
    a, b, c = random_selection(200, 0.1, seed=3), random_selection(200, 0.1, seed=3), random_selection(200, 0.1, seed=4)
    assert a.count == 20 and np.array_equal(a.selected, b.selected) and not np.array_equal(a.selected, c.selected)
    assert len(set(a.selected.tolist())) == 20 and a.rule == "random" and a.params["seed"] == 3


def test_top_by_value_and_threshold():
    v = np.array([0.1, 0.9, 0.5, 0.9, 0.3])
    assert top_by_value(v, count=3).selected.tolist() == [1, 3, 2]
    assert top_by_value(v, count=2, higher_is_better=False).selected.tolist() == [0, 4]
    assert top_by_value(v, fraction=0.4).selected.tolist() == [1, 3]
    sel = above_threshold(v, 0.4)
    assert sel.selected.tolist() == [1, 3, 2] and sel.params["threshold"] == 0.4
    with pytest.raises(SelectionError, match="threshold"):
        above_threshold(v, 2.0)


def test_keep_count_rounding():
    assert keep_count(10000, 0.1, None) == 1000
    assert keep_count(15, 0.1, None) == 2  # 1.5 rounds half up
    assert keep_count(5, 0.01, None) == 1
    assert keep_count(5, 1.0, None) == 5
    assert keep_count(5, 0.1, 3) == 3


@pytest.mark.parametrize("fraction", [0.0, -0.1, 1.5, float("nan")])
def test_fraction_outside_unit_interval_is_refused(fraction):
    with pytest.raises(SelectionError, match="fraction"):
        majority_vote(_scores(), fraction=fraction)
    with pytest.raises(SelectionError, match="fraction"):
        random_selection(10, fraction)


def test_bad_scores_are_named():
    with pytest.raises(SelectionError, match="query set is empty"):
        majority_vote(np.zeros((5, 0)))
    bad = _scores()
    bad[3, 1] = np.nan
    with pytest.raises(NonFiniteError, match=r"scores\[3, 1\]"):
        majority_vote(bad)
    with pytest.raises(SelectionError, match="count"):
        majority_vote(_scores(), count=11)
    with pytest.raises(SelectionError, match="percentile"):
        majority_vote(_scores(), percentile=150)


def test_save_writes_scores_and_rule(tmp_path):
    ids = [f"clip{i:02d}" for i in range(10)]
    sel = majority_vote(_scores(), percentile=50.0, count=3, ids=ids)
    csv_path, json_path = sel.save(tmp_path / "sel")
    table = pd.read_csv(csv_path)
    assert table.columns.tolist() == ["row", "clip_id", "votes", "score", "rank", "selected"]
    assert table["selected"].sum() == 3 and table.loc[1, "clip_id"] == "clip01" and table.loc[1, "rank"] == 1
    doc = json.loads(json_path.read_text())
    assert doc["rule"] == "majority_vote" and doc["selected_ids"] == ["clip01", "clip03", "clip05"]
    assert doc["params"]["percentile"] == 50.0 and "tie_break" in doc["params"]


def test_within_category_vote_lets_queries_vote_only_among_their_own_category():
    from curation.select import within_category_vote

    # queries a0, a1, b0; clips 0-3 are category a, 4-7 category b. Clip 4 (b) scores highest for the 'a'
    # queries, but they may not vote for it; within b only query b0 votes.
    s = np.array([[5, 4, 0], [1, 1, 0], [0, 0, 0], [2, 3, 0],
                  [9, 9, 1], [0, 0, 4], [0, 0, 2], [0, 0, 3]], dtype=float)
    sel = within_category_vote(s, ["a", "a", "b"], list("aaaabbbb"), percentile=50.0, count=3)
    assert sel.rule == "within_category_vote" and sel.params["categories"] == ["a", "b"]
    # a: cutoffs over clips 0-3: q0 median(5,1,0,2)=1.5, q1 median(4,1,0,3)=2 -> votes 2,0,0,2
    # b: cutoff over clips 4-7: q2 median(1,4,2,3)=2.5 -> votes 0,1,0,1
    assert sel.votes.tolist() == [2, 0, 0, 2, 0, 1, 0, 1]
    assert sel.selected.tolist() == [0, 3, 5]  # 2 votes: 0 (mean 4.5) then 3 (2.5); 1 vote: 5 (4) before 7 (3)
    with pytest.raises(SelectionError, match="no query"):
        within_category_vote(s, ["a", "a", "a"], list("aaaabbbb"), percentile=50.0, count=3)
