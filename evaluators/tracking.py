"""Object tracking for the physics scorer: a soft foreground mask and per-frame shape statistics.

The background is modelled as a small colour palette (k-means, k = 4, over the frame border of every
frame: the plain or two-tone background, the ground, a water tint); a pixel's foreground weight rises
from 0 to 1 as its colour distance to the nearest palette colour goes from ``lo`` to ``hi``. Gray
props (strings, plates, pins, outlines) are dropped by colour when the object is chromatic, and by a
3x3 morphological closing then opening (they are 1-2 px thin) when it is not.
This works for objects that stay in place (spin, compress), where a temporal-median background
would swallow the object. From the weights, each frame gets a weighted centroid, area, second-moment
sizes and orientation, and the number of connected blobs; :func:`rotation_between` estimates the
in-plane rotation between two frames by rigid alignment of the object's texture, and
:func:`camera_offsets` the camera's pan from the background's flow, so trajectories are fitted in
scene coordinates and a camera-only pan is not mistaken for the object's motion.

Pixel coordinates: x to the right, y downwards, pixel centres at integers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from evaluators.flow import DISFlow

LO, HI = 25.0, 60.0  # colour distance (0-255 RGB, L2) ramp from background to foreground
CHROMA_MIN = 40.0  # max - min channel above which a colour counts as chromatic
CHROMATIC_SHARE = 0.2  # an object is chromatic when this share of its strong pixels is


@dataclass
class Track:
    """Per-frame statistics of the tracked object; arrays are float64 ``(F,)`` (NaN where absent)."""

    weights: np.ndarray  # float32 (F, H, W) in [0, 1]
    area: np.ndarray  # foreground weight sum, px^2
    cx: np.ndarray
    cy: np.ndarray
    sx: np.ndarray  # weighted std along x, px
    sy: np.ndarray  # weighted std along y, px
    angle: np.ndarray  # principal-axis orientation, rad
    blobs: np.ndarray  # int (F,): connected components with more than 1 px of weight
    spread: np.ndarray  # weighted mean distance from the centroid, px
    major: np.ndarray  # std along the principal axis, px
    minor: np.ndarray  # std across it, px
    cam: np.ndarray  # float64 (F, 2): camera offset (x, y) from frame 0, from the background's flow

    @property
    def wx(self) -> np.ndarray:
        """Centroid x in scene coordinates (screen x plus the camera offset)."""
        return self.cx + self.cam[:, 0]

    @property
    def wy(self) -> np.ndarray:
        """Centroid y in scene coordinates."""
        return self.cy + self.cam[:, 1]

    @property
    def present(self) -> np.ndarray:
        return np.isfinite(self.cx)


def background_palette(frames: np.ndarray, k: int = 4) -> np.ndarray:
    """k-means colours float32 ``(k, 3)`` of the border pixels of uint8 RGB ``(F, H, W, 3)`` frames."""
    border = np.concatenate([frames[:, 0], frames[:, -1], frames[:, :, 0], frames[:, :, -1]], axis=1)
    data = border.reshape(-1, 3).astype(np.float32)
    k = min(k, len(np.unique(data, axis=0)))
    crit = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 30, 0.5)
    cv2.setRNGSeed(0)
    _, labels, centres = cv2.kmeans(data, k, None, crit, 3, cv2.KMEANS_PP_CENTERS)
    counts = np.bincount(labels.ravel(), minlength=k)
    return centres[counts >= 0.03 * len(data)]  # drop clusters made of the object crossing the border


def foreground_weights(frames: np.ndarray, palette: np.ndarray | None = None) -> np.ndarray:
    """Soft foreground float32 ``(F, H, W)`` in [0, 1] of uint8 RGB frames ``(F, H, W, 3)``."""
    pal = background_palette(frames) if palette is None else palette
    f = frames.astype(np.float32)
    dist = np.min(np.linalg.norm(f[..., None, :] - pal[None, None, None], axis=-1), axis=-1)
    w = np.clip((dist - LO) / (HI - LO), 0.0, 1.0)
    chroma = f.max(axis=-1) - f.min(axis=-1)
    strong = w > 0.5
    if strong.any() and np.mean(chroma[strong] > CHROMA_MIN) > CHROMATIC_SHARE:
        w = w * np.clip((chroma - 0.85 * CHROMA_MIN) / (0.5 * CHROMA_MIN), 0.0, 1.0)  # chromatic object: drop gray props
    else:  # an achromatic (white) object: close texture gaps, then drop thin props by a 3x3 opening
        kernel = np.ones((3, 3), np.uint8)
        w = np.stack([cv2.morphologyEx(cv2.morphologyEx(x, cv2.MORPH_CLOSE, kernel), cv2.MORPH_OPEN, kernel)
                      for x in w.astype(np.float32)])
    return w.astype(np.float32)


def _moments(w: np.ndarray) -> tuple[float, ...]:
    a = float(w.sum())
    if a < 1.0:
        return (a,) + (float("nan"),) * 8
    ys, xs = np.mgrid[: w.shape[0], : w.shape[1]]
    cx, cy = float((w * xs).sum() / a), float((w * ys).sum() / a)
    dx, dy = xs - cx, ys - cy
    mxx, myy, mxy = (w * dx * dx).sum() / a, (w * dy * dy).sum() / a, (w * dx * dy).sum() / a
    angle = 0.5 * np.arctan2(2 * mxy, mxx - myy)
    spread = float((w * np.hypot(dx, dy)).sum() / a)
    half, diff = 0.5 * (mxx + myy), math.sqrt(0.25 * (mxx - myy) ** 2 + mxy**2)
    major, minor = math.sqrt(half + diff), math.sqrt(max(half - diff, 0.0))
    return a, cx, cy, float(np.sqrt(mxx)), float(np.sqrt(myy)), float(angle), spread, major, minor


def _blob_count(w: np.ndarray) -> int:
    """Connected components (8-connected) of ``w > 0.5`` larger than one pixel."""
    _, _, stats, _ = cv2.connectedComponentsWithStats((w > 0.5).astype(np.uint8), connectivity=8)
    return int((stats[1:, cv2.CC_STAT_AREA] > 1).sum())


def camera_offsets(frames: np.ndarray, weights: np.ndarray, min_px: int = 20) -> np.ndarray:
    """Camera offset float64 ``(F, 2)`` relative to frame 0 from the background's motion.

    Per consecutive pair, the median DIS flow over textured background pixels (at least 3 px from any
    foreground weight above 0.05, gradient above 10 grey levels) is the background's screen motion; the camera moved the other
    way. A plain background (its upper border nearly one colour) and pairs with fewer than ``min_px``
    such pixels count as a still camera: a pan is invisible there, and the flow along single edges
    (the ground line) would only echo the object's motion. Consecutive pairs keep the shift below a pattern's period.
    """
    cam = np.zeros((len(frames), 2))
    h = frames.shape[1]
    upper = np.concatenate([frames[:, 0], frames[:, : int(0.75 * h), 0], frames[:, : int(0.75 * h), -1]], axis=1)
    upper = upper.reshape(-1, 3).astype(np.float32)
    if np.mean(np.linalg.norm(upper - np.median(upper, axis=0), axis=1) > 15) < 0.1:
        return cam  # a plain background: a pan is invisible, and edges alone would only leak the object's motion
    est = DISFlow()  # an instance of the scorer's own
    for t in range(len(frames) - 1):
        gray = cv2.cvtColor(frames[t], cv2.COLOR_RGB2GRAY).astype(np.float32)
        grad = np.hypot(cv2.Sobel(gray, cv2.CV_32F, 1, 0), cv2.Sobel(gray, cv2.CV_32F, 0, 1))
        near = cv2.dilate(((weights[t] > 0.05) | (weights[t + 1] > 0.05)).astype(np.uint8), np.ones((7, 7), np.uint8))
        mask = (near == 0) & (grad > 10)  # textured background at least 3 px away from the object
        step = np.zeros(2)
        if mask.sum() >= min_px:
            step = -np.median(est.estimate(frames[t], frames[t + 1])[mask], axis=0)
        cam[t + 1] = cam[t] + step
    return cam


def track(frames: np.ndarray) -> Track:
    """Track the object in uint8 RGB frames ``(F, H, W, 3)``."""
    w = foreground_weights(frames)
    stats = np.array([_moments(x) for x in w])
    blobs = np.array([_blob_count(x) for x in w])
    return Track(w, stats[:, 0], stats[:, 1], stats[:, 2], stats[:, 3], stats[:, 4], stats[:, 5], blobs, stats[:, 6],
                 stats[:, 7], stats[:, 8], camera_offsets(frames, w))


def rotation_between(a: np.ndarray, b: np.ndarray, wa: np.ndarray, ca: tuple[float, float], cb: tuple[float, float],
                     candidates: np.ndarray, upsample: int = 4, reach: float | None = None) -> tuple[float, np.ndarray]:
    """In-plane rotation (rad, clockwise on screen positive) carrying object ``a`` onto ``b``.

    ``a``, ``b``: uint8 RGB ``(H, W, 3)``; ``wa``: ``a``'s foreground weights ``(H, W)``; ``ca``/``cb``:
    centroids ``(x, y)``. Each candidate angle rotates ``a`` about ``ca``, moves it to ``cb`` and is
    scored by the weighted mean absolute difference to ``b`` over ``a``'s moved object pixels, in a
    window of half-size ``reach`` px around ``cb`` (default: from the object's extent) resampled
    ``upsample`` times finer. Returns the best angle and the error of every candidate.
    """
    s = float(upsample)
    if reach is None:
        ys, xs = np.nonzero(wa > 0.1)
        reach = float(np.hypot(xs - ca[0], ys - ca[1]).max()) + 2.0 if xs.size else 6.0
    x0, y0 = cb[0] - reach, cb[1] - reach
    n = int(round(2 * reach * s))
    # b's window: output pixel (u, v) samples b at ((u + 0.5)/s - 0.5 + x0, ...)
    to_b = np.array([[1 / s, 0, (0.5 / s - 0.5) + x0], [0, 1 / s, (0.5 / s - 0.5) + y0]], np.float64)
    B = cv2.warpAffine(b.astype(np.float32), to_b, (n, n), flags=cv2.INTER_CUBIC | cv2.WARP_INVERSE_MAP,
                       borderMode=cv2.BORDER_REPLICATE)
    A32, W32 = a.astype(np.float32), wa.astype(np.float32)
    errs = np.empty(len(candidates))
    for i, th in enumerate(candidates):
        # window pixel -> b coords -> (undo the move and rotation) -> a coords
        cos, sin = math.cos(th), math.sin(th)
        R = np.array([[cos, sin], [-sin, cos]])  # inverse of a clockwise-on-screen rotation by th
        lin = R @ to_b[:, :2]
        off = R @ (to_b[:, 2] - np.asarray(cb)) + np.asarray(ca)
        M = np.hstack([lin, off[:, None]])
        Ar = cv2.warpAffine(A32, M, (n, n), flags=cv2.INTER_CUBIC | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REPLICATE)
        Wr = cv2.warpAffine(W32, M, (n, n), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderValue=0)
        errs[i] = float((Wr * np.abs(Ar - B).mean(axis=-1)).sum() / max(Wr.sum(), 1e-6))
    return float(candidates[int(np.argmin(errs))]), errs


def best_rotation(a: np.ndarray, b: np.ndarray, wa: np.ndarray, ca: tuple[float, float], cb: tuple[float, float],
                  limit: float, coarse: float = 0.05, fine: float = 0.01) -> float:
    """Coarse-to-fine :func:`rotation_between` over ``[-limit, limit]`` rad; returns the angle."""
    th, _ = rotation_between(a, b, wa, ca, cb, np.arange(-limit, limit + 1e-9, coarse))
    th, _ = rotation_between(a, b, wa, ca, cb, np.arange(th - coarse, th + coarse + 1e-9, fine))
    return th
