"""The physics plausibility scorer for the ten categories of the synthetic world.

:func:`score_video` tracks the object (:mod:`evaluators.tracking`), fits the category's motion model
(:mod:`evaluators.physics_models`) with the world's constants, and returns a score in [0, 1]: the
product of the model's checks (residual fits and physical ranges), so every check must hold. It takes
the category and the constants as plain inputs and never imports the renderer.

Constants: a plain mapping as returned by the world's ``world_constants(config)``; the keys used are
``height``, ``fps``, ``gravity_px_per_frame2``, ``floor_y_px``, ``water_y_px``, ``pivot_y_px``, ``slide_friction``,
``pendulum_period_frames_per_sqrt_px``, ``spin_decel_rad_per_frame2`` and ``volume_exponent``. Lengths
are rescaled by the video's height over ``height`` and per-frame rates by ``(fps / video fps)``
powers, so a video at another size or frame rate is scored against the same physics.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np

from evaluators.errors import PhysicsInputError
from evaluators.physics_models import MODELS, SIGMA_PX
from evaluators.tracking import track

CATEGORIES: tuple[str, ...] = (
    "bounce", "compress", "explode", "float", "free_fall", "roll", "slide", "spin", "stretch", "swing",
)
REQUIRED_CONSTANTS = (
    "height", "fps", "gravity_px_per_frame2", "floor_y_px", "water_y_px", "pivot_y_px", "slide_friction",
    "pendulum_period_frames_per_sqrt_px", "spin_decel_rad_per_frame2", "volume_exponent",
)
assert set(MODELS) == set(CATEGORIES)


@dataclass
class PhysicsResult:
    """The score in [0, 1] and the named checks it is the product of."""

    category: str
    score: float
    checks: dict[str, float] = field(default_factory=dict)


def category_of(prompt_id: str) -> str | None:
    """The world category a prompt id names by its prefix (``free_fall-02`` -> ``free_fall``), else None."""
    head = str(prompt_id).rsplit("-", 1)[0].replace("-", "_").replace(" ", "_").lower()
    return head if head in CATEGORIES else None


def scaled_constants(constants: Mapping[str, Any], height: int, fps: float) -> dict[str, Any]:
    """The constants in this video's pixels and frames (see the module docstring)."""
    missing = [k for k in REQUIRED_CONSTANTS if k not in constants]
    if missing:
        raise PhysicsInputError(
            f"world constants lack {missing}; got keys {sorted(constants)}. Pass the world's constants, "
            "e.g. bench.world.world_constants(config), as a plain dict."
        )
    ls = height / float(constants["height"])  # length scale
    ts = float(constants["fps"]) / float(fps)  # video frames per world frame is 1/ts
    return {
        "height": height,
        "g": constants["gravity_px_per_frame2"] * ls * ts**2,
        "floor_y": constants["floor_y_px"] * ls,
        "water_y": constants["water_y_px"] * ls,
        "pivot_y": constants["pivot_y_px"] * ls,
        "slide_friction": list(constants["slide_friction"]),
        "pendulum_c": constants["pendulum_period_frames_per_sqrt_px"] / ts / math.sqrt(ls),
        "spin_decel": [v * ts**2 for v in constants["spin_decel_rad_per_frame2"]],
        "volume_exponent": constants["volume_exponent"],
        "sigma": SIGMA_PX * height / 32.0,
    }


def score_video(frames: np.ndarray, category: str, constants: Mapping[str, Any] | None, fps: float | None = None) -> PhysicsResult:
    """Physics plausibility in [0, 1] of uint8 RGB frames ``(F, H, W, 3)`` for ``category``.

    ``fps`` defaults to the constants' fps. Raises :class:`PhysicsInputError` for an unknown category
    or missing constants.
    """
    if category not in CATEGORIES:
        raise PhysicsInputError(f"unknown category {category!r}; expected one of {list(CATEGORIES)}.")
    if constants is None:
        raise PhysicsInputError(
            "the physics scorer needs the world constants (gravity, floor, pivot, ...); got none. "
            "Pass bench.world.world_constants(config) as `constants`."
        )
    frames = np.asarray(frames)
    c = scaled_constants(constants, frames.shape[1], float(fps or constants.get("fps") or 0) or 1.0)
    tr = track(frames)
    if category != "explode" and tr.present.sum() < max(4, len(frames) // 2):
        return PhysicsResult(category, 0.0, {"tracked": 0.0})
    checks = MODELS[category](tr, frames, c)
    score = float(np.prod(list(checks.values()))) if checks else 0.0
    return PhysicsResult(category, float(np.clip(score, 0.0, 1.0)), checks)
