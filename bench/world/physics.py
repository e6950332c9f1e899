"""The world's physical constants and the random draw of each clip's physical parameters.

Units are resolution-free (see :mod:`bench.world.spec`): lengths in scene heights, times in clip
durations ``s`` in [0, 1]. One gravity ``G`` holds for every category. :func:`world_constants`
converts everything to pixels and frames for a given :class:`WorldConfig` (``g_px = G * H / (F-1)^2``),
as plain numbers the physics scorer (``evaluators``, which may not import ``bench``) takes as inputs.

Choices where the brief is silent (recorded here, and in every clip's ``params``):

* ``G = 4`` scene heights per clip^2 (0.5 px/frame^2 at 17 x 32 x 32): an object dropped from the top
  lands about half-way through the clip, and a bounce shows two peaks in 17 frames.
* Squash and stretch preserve the volume of an axially symmetric body: ``sx = sy ** -0.5``.
* Floating bodies bob at ``omega^2 = G / d`` (``d`` = submerged depth, a prism's law; added mass ignored),
  with damping ratio ``zeta``.
* The pendulum is integrated exactly (nonlinear, RK4); its small-angle period is ``2 pi sqrt(L / G)``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from bench.world.spec import SIZES, Appearance, WorldConfig, check_category, check_label

G = 4.0  # gravity, scene heights per clip duration squared
FLOOR_Y = 0.88  # top of the ground, scene heights from the top
WATER_Y = 0.55  # water surface (float)
PIVOT_Y = 0.07  # pendulum pivot and hanger bar (swing, stretch)
SHAPE_EXTENT = {"ball": 1.0, "box": 0.9, "diamond": 1.2}  # half-height / radius

RESTITUTION_PLAUSIBLE = (0.55, 0.85)
RESTITUTION_VIOLATING = (1.25, 1.4)
SLIDE_DISTANCE = (0.25, 0.42)
SLIDE_STOP = (0.6, 0.9)
ROLL_SPEED = (0.35, 0.55)
ROLL_DECEL_FRACTION = (0.0, 0.2)  # rolling resistance as a fraction of v0 per clip
SPIN_OMEGA = (4.5, 7.5)  # rad per clip
SPIN_STOP = (1.1, 2.0)  # clips until friction would stop it
FLOAT_DAMPING = (0.12, 0.25)
FLOAT_SUBMERGED = (0.35, 0.65)
SWING_LENGTH = (0.32, 0.58)
SWING_AMPLITUDE = (0.35, 0.55)
SQUASH_MIN = (0.4, 0.6)
STRETCH_MAX = (1.4, 1.8)
VOLUME_EXPONENT = -0.5
EXPLODE_SPEED = (0.45, 0.8)
EXPLODE_FRAGMENTS = (6, 9)
FRAGMENT_SCALE = 0.45  # fragment radius / object radius
PAN_AMPLITUDE = (0.15, 0.28)  # camera travel over the clip, scene heights

VIOLATIONS: dict[str, tuple[str, ...]] = {
    "bounce": ("gains_height", "gains_height_linear"),
    "compress": ("rubbery",),
    "explode": ("no_gravity", "reassemble"),
    "float": ("growing", "rises_out"),
    "free_fall": ("hover", "constant_speed"),
    "roll": ("no_rotation",),
    "slide": ("abrupt_stop", "speeds_up"),
    "spin": ("constant", "speeds_up"),
    "stretch": ("rubbery",),
    "swing": ("constant_speed", "stuck"),
}


def _u(rng: np.random.Generator, lo_hi: tuple[float, float]) -> float:
    return float(rng.uniform(*lo_hi))


def _rounded(params: dict[str, Any]) -> dict[str, Any]:
    return {k: (round(v, 6) if isinstance(v, float) else v) for k, v in params.items()}


def sample_params(
    category: str, label: str, appearance: Appearance, rng: np.random.Generator, aspect: float = 1.0
) -> dict[str, Any]:
    """Draw the physical parameters of one clip (world units, JSON-safe).

    ``static`` and ``camera_only`` clips get the plausible parameters (their pose is the plausible
    clip's first frame, or the rest position for float) and ``camera_only`` adds a pan ``pan_dx/pan_dy``.
    Violating clips carry a ``variant`` naming the cartoon rule (see :data:`VIOLATIONS`).
    """
    check_category(category)
    check_label(label)
    r = appearance.radius
    h = r * SHAPE_EXTENT[appearance.shape]
    violating = label == "violating"
    p: dict[str, Any] = {"phase": float(rng.uniform(0, 2 * math.pi))}  # texture angle at s = 0
    direction = float(rng.choice([-1.0, 1.0]))

    def start_x(travel: float) -> float:
        lo, hi = h + 0.04, aspect - h - 0.04 - abs(travel)
        x = float(rng.uniform(lo, max(lo, hi)))
        return x if direction > 0 else aspect - x

    if category == "bounce":
        p["restitution"] = _u(rng, RESTITUTION_VIOLATING if violating else RESTITUTION_PLAUSIBLE)
        p["apex_height"] = _u(rng, (0.08, 0.13) if violating else (0.3, 0.45))
        p["start_time"] = _u(rng, (0.0, 0.3)) * math.sqrt(2 * p["apex_height"] / G)
        p["vx"] = direction * _u(rng, (0.12, 0.28))
        p["x0"] = start_x(p["vx"])
    elif category in ("compress", "stretch"):
        key, rng_range = ("squash_min", SQUASH_MIN) if category == "compress" else ("stretch_max", STRETCH_MAX)
        p[key] = _u(rng, rng_range)
        p["start"] = _u(rng, (0.1, 0.3))
        p["duration"] = _u(rng, (0.35, 0.55))
        p["x0"] = _u(rng, (0.3 * aspect, 0.7 * aspect))
        if violating:
            p["damping"] = _u(rng, (0.1, 0.2))
            p["omega"] = _u(rng, (11.0, 16.0))
    elif category == "explode":
        k = int(rng.integers(EXPLODE_FRAGMENTS[0], EXPLODE_FRAGMENTS[1] + 1))
        offset = float(rng.uniform(0, 2 * math.pi))
        p["x0"] = _u(rng, (0.38 * aspect, 0.62 * aspect))
        p["y0"] = _u(rng, (0.35, 0.5))
        p["explode_at"] = _u(rng, (0.15, 0.3))
        p["angles"] = [round(offset + 2 * math.pi * (i + rng.uniform(-0.3, 0.3)) / k, 6) for i in range(k)]
        p["speeds"] = [round(float(rng.uniform(*EXPLODE_SPEED)), 6) for _ in range(k)]
        p["spins"] = [round(float(rng.uniform(-8, 8)), 6) for _ in range(k)]
    elif category == "float":
        p["x0"] = _u(rng, (0.3 * aspect, 0.7 * aspect))
        p["vx"] = _u(rng, (-0.08, 0.08))
        p["submerged"] = _u(rng, FLOAT_SUBMERGED)
        p["damping"] = -_u(rng, (0.1, 0.2)) if violating else _u(rng, FLOAT_DAMPING)
        p["amplitude"] = _u(rng, (0.04, 0.07)) if violating else _u(rng, (0.08, 0.12))
        p["rise_at"] = _u(rng, (0.2, 0.4))
        p["rise_speed"] = _u(rng, (0.5, 0.8))
    elif category == "free_fall":
        p["x0"] = _u(rng, (h + 0.05, aspect - h - 0.05))
        p["y0"] = h + _u(rng, (0.03, 0.08))
        p["hover_until"] = _u(rng, (0.25, 0.45))
        p["fall_speed"] = _u(rng, (1.6, 2.4))
        p["constant_speed"] = _u(rng, (0.7, 1.0))
    elif category == "roll":
        p["v0"] = direction * _u(rng, ROLL_SPEED)
        p["decel"] = abs(p["v0"]) * _u(rng, ROLL_DECEL_FRACTION)
        p["x0"] = start_x(p["v0"])
    elif category == "slide":
        distance, stop = _u(rng, SLIDE_DISTANCE), _u(rng, SLIDE_STOP)
        p["friction"] = 2 * distance / (G * stop**2)
        p["stop_time"] = stop
        p["distance"] = direction * distance
        p["x0"] = start_x(distance)
    elif category == "spin":
        p["x0"] = _u(rng, (0.35 * aspect, 0.65 * aspect))
        p["y0"] = _u(rng, (0.35, 0.6))
        p["omega0"] = direction * _u(rng, SPIN_OMEGA)
        p["angular_decel"] = abs(p["omega0"]) / _u(rng, SPIN_STOP)
    elif category == "swing":
        p["pivot_x"] = _u(rng, (0.4 * aspect, 0.6 * aspect))
        p["length"] = _u(rng, SWING_LENGTH)
        p["amplitude"] = direction * _u(rng, SWING_AMPLITUDE)
        p["start_time"] = _u(rng, (0.0, 0.15)) * 2 * math.pi * math.sqrt(p["length"] / G)
        p["stuck_at"] = _u(rng, (0.3, 0.5))
    if violating:
        options = VIOLATIONS[category]
        p["variant"] = options[int(rng.integers(len(options)))]
    if label == "camera_only":
        angle, amp = float(rng.uniform(0, 2 * math.pi)), _u(rng, PAN_AMPLITUDE)
        p["pan_dx"], p["pan_dy"] = amp * math.cos(angle), 0.5 * amp * math.sin(angle)
    return _rounded(p)


def world_constants(config: WorldConfig) -> dict[str, Any]:
    """The world's physics in pixels and frames for ``config``: plain numbers for the physics scorer.

    Keys: ``gravity_px_per_frame2``; ``floor_y_px`` / ``water_y_px`` / ``pivot_y_px`` (rows from the top);
    ``restitution_plausible`` / ``restitution_violating`` ([lo, hi]); ``slide_friction`` (mu range: the
    deceleration is ``mu * g``); ``roll_rad_per_px`` (rolling without slipping: angle = travel / radius,
    so this is ``1 / radius_px`` per size); ``pendulum_period_frames_per_sqrt_px`` (small-angle period
    ``T = c * sqrt(L_px)``); ``float_omega2_times_depth_px`` (``omega^2 * d = g``, omega in rad/frame);
    ``float_damping`` (zeta range); ``spin_decel_rad_per_frame2`` (range); ``volume_exponent``
    (``sx = sy ** e``); radii per size in px; frames, fps, height, width.

    The world's clock is the frame (a clip spans ``frames - 1`` steps of world time whatever its fps),
    so per-frame rates hold for every clip of this config; ``fps`` only sets playback speed. A video at
    another fps showing the same motion scales them by ``(fps / video_fps) ** k``.
    """
    frames, height = config.frames, config.height
    span = frames - 1
    g_px = G * height / span**2
    spin = [SPIN_OMEGA[0] / SPIN_STOP[1] / span**2, SPIN_OMEGA[1] / SPIN_STOP[0] / span**2]
    mu = [2 * SLIDE_DISTANCE[0] / (G * SLIDE_STOP[1] ** 2), 2 * SLIDE_DISTANCE[1] / (G * SLIDE_STOP[0] ** 2)]
    return {
        "frames": frames,
        "fps": config.fps,
        "height": height,
        "width": config.width,
        "px_per_scene_height": float(height),
        "gravity_px_per_frame2": g_px,
        "floor_y_px": FLOOR_Y * height,
        "water_y_px": WATER_Y * height,
        "pivot_y_px": PIVOT_Y * height,
        "radius_px": {size: r * height for size, r in SIZES.items()},
        "restitution_plausible": list(RESTITUTION_PLAUSIBLE),
        "restitution_violating": list(RESTITUTION_VIOLATING),
        "slide_friction": mu,
        "roll_rad_per_px": {size: 1.0 / (r * height) for size, r in SIZES.items()},
        "pendulum_period_frames_per_sqrt_px": 2 * math.pi / math.sqrt(g_px),
        "float_omega2_times_depth_px": g_px,
        "float_damping": list(FLOAT_DAMPING),
        "spin_decel_rad_per_frame2": spin,
        "volume_exponent": VOLUME_EXPONENT,
        "squash_min": list(SQUASH_MIN),
        "stretch_max": list(STRETCH_MAX),
    }
