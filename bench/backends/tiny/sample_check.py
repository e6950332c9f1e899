"""A simple, transparent check of generated videos against their prompts: colour and motion direction.

For a video and the (colour, category) its prompt names:

* **colour**: a pixel belongs to the object when it has the prompt colour's hue and saturation
  (``bench.world.spec.COLOURS``; see :func:`colour_mask`); 8-connected components of at least
  ``MIN_AREA`` pixels are "objects". The video passes when frame 0 shows exactly one object and at
  least ``FRAME_SHARE`` of the frames show one (for ``explode``, any number after frame 0: the pieces).
* **motion**: the largest object's centroid, bounding box and pixels are tracked (frames without an
  object are skipped), and the category's rule is applied (sizes in pixels of a 32-pixel-high frame,
  scaled with the frame height):

  ========== ==============================================================================
  free_fall  net downward move >= 3 px and more than twice the sideways move
  roll/slide net sideways move >= 3 px and more than twice the vertical move
  bounce     vertical range >= 3 px and the object both descends and rises by >= 1 px
  float      vertical range >= 1 px (bobbing)
  swing      sideways range >= 3 px
  spin       centroid range <= 3 px while the object's pixels change (mean |diff| >= 0.015)
  compress   box height shrinks to <= 90% of the first frame's
  stretch    box height grows to >= 110% of the first frame's
  explode    the colour's pixels spread: their spatial std grows by >= 1.5x, or >= 2 objects appear
  ========== ==============================================================================

These are coarse on purpose (a sanity check on samples, not the physics scorer of ``evaluators/``).
Known answers: rendered ``plausible`` world clips pass both checks (see the tests), and ``static``
clips fail the motion check (measured on the 2,000 world-v3 corpus clips: plausible 0.88-0.97 colour,
0.92-1.00 motion per category; static 0.00-0.08 motion; world-v2's were 0.92-0.99, 0.92-1.00 and 0.00-0.12).

A share over a few seed sets of the same 50 prompts is not a share over 150 independent videos: a prompt
the model cannot draw fails in every set. :func:`share_interval` therefore resamples prompts (each with all
its seed sets), a cluster bootstrap, so the interval says how far the share could move on another draw of
prompts like these.

``python -m bench.backends.tiny.report`` generates the 50 test prompts with the embedded model, applies
these checks and writes both fractions to ``reports/tiny/``.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

HUE_TOLERANCE = 8  # of OpenCV's 180 hue steps
MIN_SATURATION = 140  # of 255; the world's brown background has 114, its object colours >= 178
MIN_VALUE = 50
WHITE_VALUE = 210  # the world's light props are 200
MIN_AREA = 4
FRAME_SHARE = 0.75
SPIN_CHANGE = 0.015  # world spin clips: 0.02-0.1 (a few near 0); static clips: 0.0


@dataclass(frozen=True)
class Track:
    """Per-frame measurements of the largest object of the prompt colour (NaN where none)."""

    cx: np.ndarray  # (F,) centroid x, px
    cy: np.ndarray  # (F,) centroid y, px
    height: np.ndarray  # (F,) bounding-box height, px
    objects: np.ndarray  # (F,) int, number of components >= MIN_AREA
    spread: np.ndarray  # (F,) spatial std of all colour pixels, px
    change: float  # mean |frame difference| inside the object's region, in [0, 1]


def colour_mask(frames: np.ndarray, rgb: tuple[int, int, int]) -> np.ndarray:
    """``frames`` ``(F, H, W, 3)`` uint8 -> bool ``(F, H, W)``: pixels of colour ``rgb`` under any shading.

    Shading, stripes and spots scale RGB, which keeps hue and saturation, so chromatic colours match on
    OpenCV hue (within ``HUE_TOLERANCE`` of 180) with saturation >= ``MIN_SATURATION`` and value >=
    ``MIN_VALUE``; white (unsaturated) matches bright unsaturated pixels (value >= ``WHITE_VALUE``, above
    the world's grey props), and a 3x3 closing joins the pieces a striped texture leaves.
    """
    hsv = cv2.cvtColor(frames.reshape(-1, frames.shape[2], 3), cv2.COLOR_RGB2HSV).reshape(frames.shape).astype(np.int16)
    target = cv2.cvtColor(np.asarray(rgb, np.uint8).reshape(1, 1, 3), cv2.COLOR_RGB2HSV)[0, 0].astype(np.int16)
    if target[1] < 64:  # white
        mask = (hsv[..., 1] < 40) & (hsv[..., 2] >= WHITE_VALUE)
    else:
        dh = np.abs(hsv[..., 0] - target[0])
        dh = np.minimum(dh, 180 - dh)
        mask = (dh <= HUE_TOLERANCE) & (hsv[..., 1] >= MIN_SATURATION) & (hsv[..., 2] >= MIN_VALUE)
    kernel = np.ones((3, 3), np.uint8)
    return np.stack([cv2.morphologyEx(m.astype(np.uint8), cv2.MORPH_CLOSE, kernel) for m in mask]).astype(bool)


def track(frames: np.ndarray, rgb: tuple[int, int, int]) -> Track:
    """Measure the object of colour ``rgb`` in ``frames`` ``(F, H, W, 3)`` uint8."""
    mask = colour_mask(frames, rgb)
    f = frames.shape[0]
    cx, cy, hgt, spread = (np.full(f, np.nan) for _ in range(4))
    objects = np.zeros(f, int)
    region = np.zeros(mask.shape[1:], bool)
    for i in range(f):
        n, labels, stats, cents = cv2.connectedComponentsWithStats(mask[i].astype(np.uint8), connectivity=8)
        big = [j for j in range(1, n) if stats[j, cv2.CC_STAT_AREA] >= MIN_AREA]
        objects[i] = len(big)
        if big:
            j = max(big, key=lambda k: stats[k, cv2.CC_STAT_AREA])
            cx[i], cy[i] = cents[j]
            hgt[i] = stats[j, cv2.CC_STAT_HEIGHT]
            region |= labels == j
            ys, xs = np.nonzero(mask[i])
            spread[i] = np.sqrt(xs.var() + ys.var())
    if region.any():
        grey = frames.astype(np.float32).mean(-1) / 255.0
        change = float(np.abs(np.diff(grey, axis=0))[:, region].mean())
    else:
        change = 0.0
    return Track(cx, cy, hgt, objects, spread, change)


ONE_OBJECT_FAILURES = ("no object in frame 0", "several objects in frame 0", "one object in too few frames")


def one_object_failure(t: Track, category: str) -> str:
    """Why ``t`` fails the colour rule of the module docstring: one of :data:`ONE_OBJECT_FAILURES`, or
    ``""`` when it passes. (On generated videos the first two separate a missing or faint object from one
    broken into pieces or drawn twice.)"""
    if t.objects[0] == 0:
        return ONE_OBJECT_FAILURES[0]
    if t.objects[0] > 1:
        return ONE_OBJECT_FAILURES[1]
    ok = t.objects >= 1 if category == "explode" else t.objects == 1
    return "" if ok.mean() >= FRAME_SHARE else ONE_OBJECT_FAILURES[2]


def has_one_object(t: Track, category: str) -> bool:
    """The colour rule of the module docstring."""
    return one_object_failure(t, category) == ""


def check_prompts(videos, prompts, height: int = 32, reasons: list[str] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Both checks for each video ``(F, H, W, 3)`` uint8 of ``videos`` and its test prompt (anything with
    ``.category`` and ``.appearance.colour``): bool arrays ``(one_object, moves_as_category)``.

    ``reasons``, if given, is extended with each video's :func:`one_object_failure` (``""`` where it passes).
    """
    from bench.world.spec import COLOURS

    one, moves = [], []
    for video, tp in zip(videos, prompts, strict=True):
        t = track(video, COLOURS[tp.appearance.colour])
        why = one_object_failure(t, tp.category)
        one.append(why == "")
        moves.append(moves_as_category(t, tp.category, height=height))
        if reasons is not None:
            reasons.append(why)
    return np.asarray(one, bool), np.asarray(moves, bool)


def moves_as_category(t: Track, category: str, height: int = 32) -> bool:
    """The motion rule of the module docstring (``height``: frame height in px, scales the thresholds)."""
    k = height / 32.0
    seen = ~np.isnan(t.cx)
    if seen.sum() < 2:
        return False
    cx, cy, h = t.cx[seen], t.cy[seen], t.height[seen]
    dx, dy = cx[-1] - cx[0], cy[-1] - cy[0]
    rx, ry = np.ptp(cx), np.ptp(cy)
    if category == "free_fall":
        return bool(dy >= 3 * k and dy > 2 * abs(dx))
    if category in ("roll", "slide"):
        return bool(abs(dx) >= 3 * k and abs(dx) > 2 * abs(dy))
    if category == "bounce":
        steps = np.diff(cy)
        return bool(ry >= 3 * k and steps.max() >= 1 * k and -steps.min() >= 1 * k)
    if category == "float":
        return bool(ry >= 1 * k)
    if category == "swing":
        return bool(rx >= 3 * k)
    if category == "spin":
        return bool(max(rx, ry) <= 3 * k and t.change >= SPIN_CHANGE)
    if category == "compress":
        return bool(h.min() <= 0.9 * h[0])
    if category == "stretch":
        return bool(h.max() >= 1.1 * h[0])
    if category == "explode":
        sp = t.spread[seen]
        return bool(sp.max() >= 1.5 * max(sp[0], 0.5) or t.objects.max() >= 2)
    raise ValueError(f"unknown category {category!r}")


def check_seed_sets(generate, prompts, seed_sets: int, height: int = 32,
                    reasons: list[str] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Both checks over ``seed_sets`` draws of ``prompts``: set ``j`` is ``generate(seeds)`` with each prompt's
    pinned seed + ``j`` (videos ``(N, F, H, W, 3)`` uint8). Returns bool arrays ``(seed_sets, prompts)``
    ``(one_object, moves_as_category)``, the shape :func:`share_interval` takes; ``reasons`` as in
    :func:`check_prompts`, set after set."""
    one, moves = [], []
    for j in range(seed_sets):
        o, m = check_prompts(generate([p.seed + j for p in prompts]), prompts, height=height, reasons=reasons)
        one.append(o), moves.append(m)
    return np.stack(one), np.stack(moves)


def share_interval(passes, confidence: float = 0.95, n_resamples: int = 9999, seed: int = 0) -> tuple[float, float]:
    """Bootstrap interval of a pass share over prompts: ``passes`` ``(seed_sets, prompts)`` bool or 0/1.

    Each prompt's mean over its seed sets is one observation, and ``scipy.stats.bootstrap`` (percentile
    method) resamples prompts, so a prompt's seed sets move together. The draws come from
    ``numpy_rng(seed, "sample-check", "share-interval")``. When every prompt has the same mean the interval
    is that mean on both sides.

    Raises:
        ValueError: ``passes`` is not 2-D with at least 2 prompts, or holds values outside [0, 1].
    """
    from scipy.stats import bootstrap

    from curation.seeds import numpy_rng

    a = np.asarray(passes, dtype=float)
    if a.ndim != 2 or a.shape[1] < 2 or a.shape[0] < 1:
        raise ValueError(f"share_interval needs passes of shape (seed_sets, prompts) with >= 2 prompts; got {a.shape}.")
    if not np.all((a >= 0) & (a <= 1)):
        raise ValueError("share_interval needs passes in [0, 1] (one bool per video); got values outside it.")
    per_prompt = a.mean(axis=0)
    if np.all(per_prompt == per_prompt[0]):
        return float(per_prompt[0]), float(per_prompt[0])
    res = bootstrap((per_prompt,), np.mean, confidence_level=confidence, n_resamples=n_resamples, method="percentile",
                    rng=numpy_rng(seed, "sample-check", "share-interval"))
    return float(res.confidence_interval.low), float(res.confidence_interval.high)
