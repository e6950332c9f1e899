"""The tiny backend's sample checks (colour and motion) against known answers: the world's own clips and
hand-drawn frames."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from bench.backends.tiny import sample_check as sc
from bench.world import WorldConfig, build_queries, make_spec, render_many
from bench.world.spec import COLOURS

RED = COLOURS["red"]
GRAY = (128, 128, 128)


def _frames(n: int = 17, size: int = 32) -> np.ndarray:
    return np.broadcast_to(np.array(GRAY, np.uint8), (n, size, size, 3)).copy()


def _square(frames: np.ndarray, i: int, y: int, x: int, r: int = 2) -> None:
    frames[i, y - r : y + r + 1, x - r : x + r + 1] = RED


@pytest.fixture(scope="module")
def queries():
    """The 50 plausible query clips (5 per category), rendered, with their specs."""
    world = WorldConfig()
    specs = build_queries(world)
    return specs, render_many(specs, world)


def test_plausible_world_clips_pass_both_checks(queries):
    specs, videos = queries
    one, moves = sc.check_prompts(videos, specs)
    assert one.mean() >= 0.9 and moves.mean() >= 0.9, (one.mean(), moves.mean())


def test_static_world_clips_fail_the_motion_check(queries):
    specs, _ = queries
    world = WorldConfig()
    static = [make_spec(s.clip_id + "-static", s.category, "static", s.appearance, s.seed, world) for s in specs]
    one, moves = sc.check_prompts(render_many(static, world), static)
    assert one.mean() >= 0.9  # the object is there ...
    assert moves.mean() <= 0.2, moves.mean()  # ... and does not move as its caption says


def test_one_object_failure_names_each_way_to_fail():
    empty = _frames()
    assert sc.one_object_failure(sc.track(empty, RED), "roll") == "no object in frame 0"

    two = _frames()
    for i in range(17):
        _square(two, i, 8, 6)
        _square(two, i, 24, 24)
    assert sc.one_object_failure(sc.track(two, RED), "roll") == "several objects in frame 0"

    fading = _frames()
    for i in range(4):  # one object in 4 of 17 frames, then gone
        _square(fading, i, 16, 16)
    assert sc.one_object_failure(sc.track(fading, RED), "roll") == "one object in too few frames"

    falling = _frames()
    for i in range(17):
        _square(falling, i, 4 + i, 16)
    t = sc.track(falling, RED)
    assert sc.one_object_failure(t, "free_fall") == "" and sc.has_one_object(t, "free_fall")
    assert sc.moves_as_category(t, "free_fall") and not sc.moves_as_category(t, "roll")


def test_explode_may_split_after_frame_0():
    video = _frames()
    _square(video, 0, 16, 16)
    for i in range(1, 17):
        _square(video, i, 16 - i // 2, 16 - i // 2, r=1)
        _square(video, i, 16 + i // 2, 16 + i // 2, r=1)
    t = sc.track(video, RED)
    assert sc.has_one_object(t, "explode") and not sc.has_one_object(t, "spin")
    assert sc.moves_as_category(t, "explode")


def test_check_prompts_reports_a_reason_per_video(queries):
    specs, videos = queries
    prompts = specs[:2]
    gray = np.stack([_frames(), _frames()])
    reasons: list[str] = []
    one, _ = sc.check_prompts(np.concatenate([videos[:2], gray]), prompts + prompts, reasons=reasons)
    assert len(reasons) == 4
    assert [r == "" for r in reasons] == list(one)
    assert reasons[2:] == ["no object in frame 0"] * 2
    assert set(reasons) <= {""} | set(sc.ONE_OBJECT_FAILURES)


def test_unknown_category_is_an_error():
    t = sc.track(_frames(), RED)
    with pytest.raises(ValueError, match="unknown category"):
        sc.moves_as_category(dataclasses.replace(t, cx=np.arange(17.0), cy=np.arange(17.0)), "hover")


def test_share_interval_matches_wilson_on_independent_videos():
    """One seed set of independent videos: the bootstrap interval agrees with statsmodels' Wilson interval."""
    from statsmodels.stats.proportion import proportion_confint

    passes = np.random.default_rng(3).random((1, 400)) < 0.78
    lo, hi = sc.share_interval(passes)
    w_lo, w_hi = proportion_confint(int(passes.sum()), passes.size, alpha=0.05, method="wilson")
    assert lo < passes.mean() < hi
    assert abs(lo - w_lo) < 0.01 and abs(hi - w_hi) < 0.01, ((lo, hi), (w_lo, w_hi))


def test_share_interval_counts_prompts_not_videos():
    """Seed sets that repeat each prompt's outcome add no information: the interval of 3 identical sets is
    that of one set (a pooled interval over 150 videos would be narrower), and it is seeded."""
    one = np.random.default_rng(4).random((1, 50)) < 0.7
    three = np.repeat(one, 3, axis=0)
    assert sc.share_interval(three) == sc.share_interval(one) == sc.share_interval(one)
    lo, hi = sc.share_interval(one)
    assert hi - lo > 0.2  # 50 prompts: about +-0.13
    independent = np.random.default_rng(5).random((3, 50)) < 0.7
    lo3, hi3 = sc.share_interval(independent)
    assert hi3 - lo3 < hi - lo  # independent seed sets do narrow it


def test_share_interval_degenerate_and_bad_input():
    assert sc.share_interval(np.ones((3, 50), bool)) == (1.0, 1.0)
    with pytest.raises(ValueError, match="seed_sets, prompts"):
        sc.share_interval(np.ones(50, bool))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        sc.share_interval(np.full((2, 5), 2.0))


def test_check_seed_sets_draws_each_set_at_the_pinned_seed_plus_its_index(queries):
    specs, videos = queries
    prompts = specs[:3]
    calls: list[list[int]] = []

    def generate(seeds):  # set 0: the renders themselves; set 1: empty frames
        calls.append(list(seeds))
        return videos[:3] if len(calls) == 1 else np.stack([_frames()] * 3)

    reasons: list[str] = []
    one, moves = sc.check_seed_sets(generate, prompts, 2, reasons=reasons)
    assert calls == [[p.seed for p in prompts], [p.seed + 1 for p in prompts]]
    assert one.shape == moves.shape == (2, 3)
    first = sc.check_prompts(videos[:3], prompts)
    assert (one[0] == first[0]).all() and (moves[0] == first[1]).all() and not one[1].any()
    assert reasons[3:] == ["no object in frame 0"] * 3
