"""Label semantics of the world with known answers, measured on rendered frames and on the kinematics."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from bench.world import Appearance, ClipSpec, WorldConfig, make_spec, object_coverage, render, world_constants
from bench.world.motion import motion
from bench.world.physics import FLOOR_Y, G, SHAPE_EXTENT, WATER_Y

CFG = WorldConfig()
PLAIN = Appearance("ball", "white", "large", "plain", "plain", "black")
STRIPED = Appearance("ball", "yellow", "large", "striped", "plain", "black")


def with_label(spec: ClipSpec, label: str, **params) -> ClipSpec:
    """The same clip under another label (params kept), e.g. to compare plausible and violating rolls."""
    return ClipSpec(spec.clip_id, spec.category, label, spec.appearance, spec.seed, {**spec.params, **params})


def object_centroid(frames: np.ndarray, bg_rgb, floor_row: float) -> np.ndarray:
    """Per-frame (x, y) centroid in px of the pixels far from the background colour above the floor."""
    dist = np.abs(frames.astype(np.float32) - np.asarray(bg_rgb, np.float32)).sum(-1)
    mask = dist > 0.5 * dist.max()
    mask[:, int(math.floor(floor_row)):] = False
    ys, xs = np.mgrid[: frames.shape[1], : frames.shape[2]] + 0.5
    n = mask.sum(axis=(1, 2))
    return np.stack([(mask * xs).sum(axis=(1, 2)) / n, (mask * ys).sum(axis=(1, 2)) / n], axis=-1)


def test_world_constants_are_in_pixels_and_frames():
    wc = world_constants(CFG)
    assert wc["gravity_px_per_frame2"] == pytest.approx(G * 32 / 16**2) == pytest.approx(0.5)
    assert wc["floor_y_px"] == pytest.approx(FLOOR_Y * 32)
    assert wc["restitution_plausible"][1] <= 1.0 < wc["restitution_violating"][0]
    assert wc["pendulum_period_frames_per_sqrt_px"] == pytest.approx(2 * math.pi / math.sqrt(0.5))
    assert all(isinstance(v, (int, float, list, dict)) for v in wc.values())


def test_static_clip_has_identical_frames():
    for category in ("bounce", "explode", "swing", "float"):
        clip = render(make_spec("s", category, "static", STRIPED, 2, CFG), CFG)
        assert (clip == clip[:1]).all(), category


def test_camera_only_is_a_global_shift_of_a_still_scene():
    spec = make_spec("c", "free_fall", "camera_only", Appearance("box", "red", "large", "spotted", "checkered", "gray"),
                     4, CFG)
    clip = render(spec, CFG)
    shift = -np.array([spec.params["pan_dx"], spec.params["pan_dy"]]) * CFG.height  # px from frame 0 to the last
    assert np.hypot(*shift) > 4  # the pan is visible
    warp = cv2.warpAffine(clip[0].astype(np.float32), np.float32([[1, 0, shift[0]], [0, 1, shift[1]]]), (32, 32))
    m = int(np.ceil(np.abs(shift).max())) + 1
    residual = np.abs(warp - clip[-1])[m:-m, m:-m].mean()
    moved = np.abs(clip[0].astype(np.float32) - clip[-1])[m:-m, m:-m].mean()
    assert residual < 4.0 and moved > 5 * residual
    m_ = motion(spec, CFG.frames)
    assert np.ptp(m_.cx) == 0 and np.ptp(m_.cy) == 0  # the object does not move in the world


def test_plausible_free_fall_follows_half_g_t_squared_within_a_pixel():
    spec = make_spec("f", "free_fall", "plausible", PLAIN, 7, CFG)
    g = world_constants(CFG)["gravity_px_per_frame2"]
    clip = render(spec, CFG)
    y = object_centroid(clip, PLAIN.background_rgb, world_constants(CFG)["floor_y_px"])[:, 1]
    t = np.arange(CFG.frames)
    y0 = spec.params["y0"] * CFG.height
    rest = (FLOOR_Y - PLAIN.radius * SHAPE_EXTENT["ball"]) * CFG.height
    falling = y0 + 0.5 * g * t**2 < rest
    assert falling.sum() >= 7
    np.testing.assert_allclose(y[falling], (y0 + 0.5 * g * t**2)[falling], atol=1.0)
    assert y[-1] == pytest.approx(rest, abs=1.0)  # it lands and stays


def test_violating_free_fall_hovers_first():
    spec = make_spec("f", "free_fall", "violating", PLAIN, 7, CFG)
    spec = with_label(spec, "violating", variant="hover")
    y = motion(spec, CFG.frames).cy
    still = np.linspace(0, 1, CFG.frames) < spec.params["hover_until"]
    assert still.sum() >= 4 and np.ptp(y[still]) == 0 and y[-1] > y[0] + 0.3


def _apexes(y: np.ndarray) -> list[float]:
    """Heights (rows) of local maxima of height (minima of y), including the first frame."""
    return [y[0]] + [y[i] for i in range(1, len(y) - 1) if y[i] <= y[i - 1] and y[i] < y[i + 1]]


@pytest.mark.parametrize("seed", range(4))
def test_bounce_plausible_never_gains_height_violating_does(seed):
    spec = make_spec("b", "bounce", "plausible", PLAIN, seed, CFG)
    floor = world_constants(CFG)["floor_y_px"]
    y = object_centroid(render(spec, CFG), PLAIN.background_rgb, floor)[:, 1]
    apexes = _apexes(y)
    assert len(apexes) >= 2 and all(b >= a - 0.5 for a, b in zip(apexes, apexes[1:]))  # never higher
    assert spec.params["restitution"] <= 1.0
    bad = make_spec("b", "bounce", "violating", PLAIN, seed, CFG)
    yb = object_centroid(render(bad, CFG), PLAIN.background_rgb, floor)[:, 1]
    assert min(_apexes(yb)[1:]) < yb[0] - 1.0  # a later peak is over a pixel higher than the start


def _texture_change(spec: ClipSpec, cfg: WorldConfig) -> float:
    """Mean abs difference inside the ball between the first and last frame after undoing the translation."""
    clip = render(spec, cfg).astype(np.float32)
    m = motion(spec, cfg.frames, cfg.aspect)
    dx, dy = (m.cx[-1] - m.cx[0]) * cfg.height, (m.cy[-1] - m.cy[0]) * cfg.height
    back = cv2.warpAffine(clip[-1], np.float32([[1, 0, -dx], [0, 1, -dy]]), (cfg.width, cfg.height))
    ys, xs = np.mgrid[: cfg.height, : cfg.width] + 0.5
    inner = np.hypot(xs - m.cx[0] * cfg.height, ys - m.cy[0] * cfg.height) < 0.7 * spec.appearance.radius * cfg.height
    return float(np.abs(back - clip[0])[inner].mean())


def test_plausible_roll_turns_its_texture_violating_does_not():
    cfg = WorldConfig(height=96, width=96)
    spec = make_spec("r", "roll", "plausible", STRIPED, 3, cfg)
    m = motion(spec, cfg.frames)
    travel = m.cx[-1] - m.cx[0]
    np.testing.assert_allclose(m.angle - m.angle[0], (m.cx - m.cx[0]) / STRIPED.radius)  # no slipping
    assert abs(travel) * cfg.height > 8
    slipping = with_label(spec, "violating", variant="no_rotation")
    assert _texture_change(spec, cfg) > 5 * _texture_change(slipping, cfg)
    assert _texture_change(spec, cfg) > 20


def test_pendulum_period_grows_with_the_square_root_of_length():
    cfg = WorldConfig(frames=401)
    quarter = []
    for length in (0.32, 0.58):
        spec = make_spec("w", "swing", "plausible", PLAIN, 1, cfg)
        spec = with_label(spec, "plausible", length=length, amplitude=0.2, start_time=0.0)
        theta = np.arcsin((motion(spec, cfg.frames).cx - spec.params["pivot_x"]) / length)
        crossing = np.flatnonzero(np.diff(np.sign(theta)) != 0)[0]
        quarter.append(crossing / (cfg.frames - 1))
        assert quarter[-1] == pytest.approx(0.5 * math.pi * math.sqrt(length / G), rel=0.02)
    assert quarter[1] / quarter[0] == pytest.approx(math.sqrt(0.58 / 0.32), rel=0.02)


def test_violating_swing_has_constant_angular_speed():
    spec = with_label(make_spec("w", "swing", "violating", PLAIN, 1, CFG), "violating", variant="constant_speed",
                      start_time=0.05)
    m = motion(spec, CFG.frames)
    theta = np.arcsin((m.cx - spec.params["pivot_x"]) / spec.params["length"])
    speeds = np.abs(np.diff(theta))
    turning = speeds < 0.9 * np.median(speeds)  # the frame with the turnaround
    assert turning.sum() <= 1 and np.ptp(speeds[~turning]) < 1e-6


def test_slide_decelerates_by_friction_and_stops():
    spec = make_spec("s", "slide", "plausible", Appearance("box", "red", "large", "plain", "plain", "gray"), 2,
                     WorldConfig(frames=101))
    x = motion(spec, 101).cx
    acc = np.diff(x, 2) * 100**2  # scene heights per clip^2
    moving = np.arange(1, 100) / 100 < spec.params["stop_time"] - 0.02
    mu = spec.params["friction"]
    np.testing.assert_allclose(acc[moving], -np.sign(spec.params["distance"]) * mu * G, rtol=1e-5)
    assert np.ptp(x[-5:]) == 0


def test_squash_and_stretch_preserve_volume_and_cartoon_versions_overshoot():
    for category in ("compress", "stretch"):
        spec = make_spec("c", category, "plausible", PLAIN, 5, CFG)
        m = motion(spec, CFG.frames)
        np.testing.assert_allclose(m.sx**2 * m.sy, 1.0)  # axisymmetric volume sx * sz * sy with sz = sx
        assert np.ptp(m.sy) > 0.3
        bad = motion(make_spec("c", category, "violating", PLAIN, 5, CFG), CFG.frames)
        assert np.all(bad.sx == 1.0)  # width kept: volume not preserved
        bad_params = make_spec("c", category, "violating", PLAIN, 5, CFG).params
        target = bad_params.get("squash_min", bad_params.get("stretch_max"))
        overshoot = bad.sy.min() < target if category == "compress" else bad.sy.max() > target
        assert overshoot


def test_explode_fragments_fly_radially_under_gravity():
    cfg = WorldConfig(frames=101)
    spec = make_spec("e", "explode", "plausible", PLAIN, 8, cfg)
    m = motion(spec, cfg.frames)
    s = np.linspace(0, 1, cfg.frames)
    after = s > spec.params["explode_at"] + 0.01
    for k, (angle, speed) in enumerate(zip(spec.params["angles"], spec.params["speeds"])):
        fx, fy = m.frags[k, :, 0], m.frags[k, :, 1]
        airborne = after & (fy < fy.max() - 1e-9)
        acc = np.diff(fy, 2)[airborne[:-2] & airborne[1:-1] & airborne[2:]] * 100**2
        assert acc.size >= 10
        np.testing.assert_allclose(acc, G, rtol=1e-4)
        vx = np.diff(fx)[airborne[:-1] & airborne[1:]] * 100
        np.testing.assert_allclose(vx, speed * math.cos(angle), rtol=1e-4)
    assert not m.visible[after].any() and m.frag_visible[after].all()


def test_float_bobbing_is_damped_plausible_and_grows_when_violating():
    cfg = WorldConfig(frames=101)
    for label, grows in (("plausible", False), ("violating", True)):
        spec = make_spec("f", "float", label, PLAIN, 3, cfg)
        if label == "violating":
            spec = with_label(spec, label, variant="growing")
        y = motion(spec, cfg.frames).cy
        h = PLAIN.radius * SHAPE_EXTENT[PLAIN.shape]
        d = 2 * h * spec.params["submerged"]
        off = np.abs(y - (WATER_Y + d - h))  # distance from the floating equilibrium (the prism law's rest depth)
        half = len(y) // 2
        first, second = off[:half].max(), off[half:].max()  # envelope, whatever part of a period each half holds
        assert (second > first) == grows, label


def test_spin_slows_when_plausible():
    m = motion(make_spec("s", "spin", "plausible", STRIPED, 9, CFG), CFG.frames)
    speed = np.abs(np.diff(m.angle))
    assert np.all(np.diff(speed) < 0) and speed[0] > 0.25


def test_object_coverage_is_the_rendered_object():
    spec = make_spec("o", "roll", "plausible", STRIPED, 3, CFG)
    cover = object_coverage(spec, CFG)
    assert cover.shape == (17, 32, 32) and cover.dtype == np.float32 and 0 <= cover.min() and cover.max() <= 1
    r_px = STRIPED.radius * CFG.height
    np.testing.assert_allclose(cover.sum(axis=(1, 2)), math.pi * r_px**2, rtol=0.03)  # a disc's area
    m = motion(spec, CFG.frames)
    ys, xs = np.mgrid[:32, :32] + 0.5
    cx = (cover * xs).sum(axis=(1, 2)) / cover.sum(axis=(1, 2))
    np.testing.assert_allclose(cx, m.cx * CFG.height, atol=0.1)
    clip = render(spec, CFG).astype(int)
    far = np.abs(clip - np.array(STRIPED.background_rgb)).sum(-1) > 60  # pixels unlike the background
    sky = np.arange(32) < 26  # above the ground
    assert ((cover > 0.5) == far)[:, sky].mean() > 0.98
    fragments = object_coverage(make_spec("e", "explode", "plausible", PLAIN, 8, CFG), CFG)
    spread = [np.sqrt((f * ((xs - (f * xs).sum() / f.sum()) ** 2)).sum() / f.sum()) for f in fragments[[0, -1]]]
    assert spread[1] > 2 * spread[0]  # the fragments' coverage spreads out from the intact body
