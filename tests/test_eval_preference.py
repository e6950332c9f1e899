"""Known answers of the judgments reader, the preference tally and the claim check."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evaluators.claim import check_claim, check_paper, consistent_counts
from evaluators.errors import JudgmentsError
from evaluators.judgments import read_judgments, write_judgments
from evaluators.preference import (
    bradley_terry, judgments_needed, pair_table, position_bias, sign_test_power, tally,
)


def rows(choices, a="motive", b="base", raters=None, prompts=None, lefts=None):
    n = len(choices)
    return pd.DataFrame({
        "rater": raters if raters is not None else [f"r{i % 3}" for i in range(n)],
        "prompt": prompts if prompts is not None else [f"bounce-{i:02d}" for i in range(n)],
        "model_a": a, "model_b": b,
        "left": lefts if lefts is not None else [a if i % 2 else b for i in range(n)],
        "choice": choices,
    })


def test_counts_wilson_and_sign_tests():
    df = read_judgments(rows(["a"] * 6 + ["tie"] * 2 + ["b"] * 2))
    t = pair_table(df, reference="motive", n_boot=200, seed=0).iloc[0]
    assert (t.model, t.wins, t.ties, t.losses, t.n) == ("motive", 6, 2, 2, 10)
    assert (t.win_wilson_low, t.win_wilson_high) == pytest.approx((31.27, 83.18), abs=0.01)
    assert t.sign_p_excl_ties == pytest.approx(0.2890625)  # binomtest(6, 8)
    assert t.sign_p_split_ties == pytest.approx(0.34375)  # binomtest(7, 10)
    flipped = pair_table(df, reference="base", n_boot=0).iloc[0]
    assert (flipped.model, flipped.wins, flipped.losses) == ("base", 2, 6)


def test_cluster_bootstrap_widens_with_rater_effects_and_is_seeded():
    # 10 raters x 20 prompts; half the raters always pick a, half always b: judgments are not independent
    raters = [f"r{r}" for r in range(10) for _ in range(20)]
    prompts = [f"swing-{p:02d}" for _ in range(10) for p in range(20)]
    choices = ["a" if int(r[1:]) < 6 else "b" for r in raters]
    df = read_judgments(rows(choices, raters=raters, prompts=prompts))
    t = pair_table(df, n_boot=500, seed=3).iloc[0]
    assert t.win_boot_high - t.win_boot_low > 3 * (t.win_wilson_high - t.win_wilson_low)
    again = pair_table(df, n_boot=500, seed=3).iloc[0]
    assert (again.win_boot_low, again.win_boot_high) == (t.win_boot_low, t.win_boot_high)


def test_bradley_terry_ties_are_half_wins():
    df = read_judgments(rows(["a", "a", "a", "tie", "tie", "b"]))
    bt = bradley_terry(df, n_boot=0).set_index("model")["log_strength"]
    # motive: 3 + 1 = 4 wins, base 1 + 1 = 2 -> strength ratio 2 (pseudo-count 0.01 per direction)
    assert bt["motive"] - bt["base"] == pytest.approx(np.log(4.01 / 2.01), abs=1e-6)


def test_bradley_terry_recovers_order_of_three_models():
    rng = np.random.default_rng(0)
    strength = {"m1": 2.0, "m2": 1.0, "m3": 0.5}
    recs = []
    for i in range(600):
        a, b = rng.choice(list(strength), 2, replace=False)
        p = strength[a] / (strength[a] + strength[b])
        recs.append({"rater": f"r{i % 7}", "prompt": f"roll-{i % 30:02d}", "model_a": a, "model_b": b, "left": a,
                     "choice": "a" if rng.random() < p else "b"})
    bt = bradley_terry(read_judgments(pd.DataFrame(recs)), n_boot=100, seed=0)
    assert bt["model"].tolist() == ["m1", "m2", "m3"]
    assert (bt["low"] <= bt["log_strength"]).all() and (bt["log_strength"] <= bt["high"]).all()


def test_position_bias_detects_left_preference():
    n = 40
    left_always = rows(["a" if i % 2 else "b" for i in range(n)], lefts=["motive" if i % 2 else "base" for i in range(n)])
    pb = position_bias(read_judgments(left_always))
    assert pb["left_wins"] == n and pb["p_value"] < 1e-9
    balanced = rows(["a"] * n, lefts=["motive" if i % 2 else "base" for i in range(n)])
    assert position_bias(read_judgments(balanced))["p_value"] == pytest.approx(1.0)


def test_sample_size_for_win_rate():
    # two-sided exact sign test with n = 10: reject at k <= 1 or k >= 9, size 2 * 11/1024
    assert sign_test_power(10, 0.5) == pytest.approx(22 / 1024)
    need = judgments_needed(0.6, tie_rate=0.2)
    n = need["decisive"]
    assert sign_test_power(n, 0.6) >= 0.8 > max(sign_test_power(k, 0.6) for k in range(n - 5, n))
    assert need["total"] == int(np.ceil(n / 0.8))
    assert abs(need["decisive_normal_approx"] - n) < 0.1 * n


def test_bad_judgments_name_the_rows(tmp_path):
    good = rows(["a", "b", "tie", "a"])
    with pytest.raises(JudgmentsError, match=r"lacks required column\(s\) \['choice'\]"):
        read_judgments(good.drop(columns="choice"))
    bad = good.copy()
    bad.loc[2, "choice"] = "left"
    with pytest.raises(JudgmentsError, match=r"choice not in .* line\(s\) 4 "):
        read_judgments(bad)
    with pytest.raises(JudgmentsError, match=r"unknown model\(s\) \['base'\] on line\(s\) 2, 3, 4, 5"):
        read_judgments(good, models=["motive", "random"])
    bad = good.copy()
    bad.loc[0, "left"] = "other"
    with pytest.raises(JudgmentsError, match=r"'left' is neither .* line\(s\) 2\b"):
        read_judgments(bad)
    path = write_judgments(read_judgments(good), tmp_path / "j.csv")
    assert read_judgments(path)["choice"].tolist() == ["a", "b", "tie", "a"]


def test_duplicate_rater_pair_is_kept_and_flagged():
    df = rows(["a", "b", "a"], raters=["r1", "r1", "r2"], prompts=["float-01"] * 3)
    df.loc[1, ["model_a", "model_b"]] = ["base", "motive"]  # same pair, other order
    j = read_judgments(df)
    assert j["duplicate"].tolist() == [True, True, False]
    t = tally(j, reference="motive", n_boot=50)
    assert t.pairs.iloc[0].n == 3 and t.pairs.iloc[0].duplicates == 2 and len(t.duplicates) == 2


def test_check_rows_are_excluded_and_reported():
    df = rows(["a", "a", "b", "tie"])
    df["check"] = ["", "", "repeat", "identical"]
    df["check_passed"] = ["", "", "false", "true"]
    df.loc[3, ["model_a", "model_b", "left"]] = ["motive", "motive", "motive"]
    t = tally(read_judgments(df), n_boot=50)
    assert t.pairs.iloc[0].n == 2
    assert t.checks.set_index("check")[["passed", "failed"]].to_dict("index") == {
        "identical": {"passed": 1, "failed": 0}, "repeat": {"passed": 0, "failed": 1}}
    assert "Position bias" in t.to_markdown()


def test_claim_counts_consistent_with_rounding():
    assert consistent_counts(50.0, 0.0, 50.0, 10) == [(5, 0, 5)]
    assert consistent_counts(33.3, 33.3, 33.3, 3) == [(1, 1, 1)]
    assert consistent_counts(12.3, 0.0, 87.7, 850) == []  # 104/850 = 12.24%, 105/850 = 12.35%
    row = check_claim("x", 70.0, 10.0, 20.0, 10).iloc[0]
    assert (row.wins, row.ties, row.losses, row.consistent) == (7, 1, 2, True)
    assert row.sign_p_excl_ties == pytest.approx(0.1796875)  # binomtest(7, 9)
    assert not row.significant_gain


def test_claim_check_on_the_paper_rows():
    t = check_paper()
    assert t["consistent"].tolist() == [False, False, True, True]
    assert "tie 12.3%" in t.note[0] and "loss 29.0%" in t.note[1]
    assert t[["wins", "ties", "losses"]].iloc[2:].values.tolist() == [[451, 126, 273], [399, 170, 281]]
    assert t["significant_gain"].all()
