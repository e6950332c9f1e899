"""Motion masks: flow -> camera compensation -> magnitude -> min-max -> latent grid, cached per clip.

:class:`MaskBuilder` turns a standardised clip ``(3, F, H, W)`` into a :class:`MotionMask` whose
``mask`` is ``float32 (F', H', W')`` on the backend's latent grid (``LatentGeometry``), in ``[0, 1]``.

Steps and the choices where the paper is silent (all recorded by :meth:`MaskConfig.to_dict`):

1. **Flow** between consecutive frames by any :class:`~curation.flow.FlowEstimator` (DIS by default).
2. **Camera compensation** (``camera``): the dominant global motion of each frame pair is estimated and
   subtracted, so a pan does not light up the whole frame. ``"affine"`` (default) fits a 4-DoF
   similarity (rotation, uniform scale, translation) with RANSAC (``cv2.estimateAffinePartial2D``) to a
   regular grid of flow vectors over the *whole* frame, and accepts it only if its inliers cover at
   least ``camera_min_inliers`` of the grid - a motion supported by most of the frame is the camera;
   a moving object on a still background leaves the still background as the dominant (zero) motion.
   ``"median"`` subtracts the per-pair median flow vector (translation only); ``"none"`` skips it.
3. **Magnitude** of the residual flow, minus a noise floor ``noise_floor_px`` (soft threshold
   ``max(|r| - floor, 0)``): motion below the estimator's noise is not motion. Without the floor, the
   min-max step would stretch pure estimator noise of a static or camera-only clip to ``[0, 1]``.
4. **Per frame**: frame ``j`` gets the mean of the pairs touching it (``j-1 -> j`` and ``j -> j+1``;
   the end frames take their single pair).
5. **Min-max over the whole clip**: ``(m - min) / (max - min + zeta)``, ``zeta = 1e-6``.
6. **Spatial**: bilinear resize to ``H // s x W // s`` (``antialias=True``, so shrinking by ``s``
   averages the covered pixels rather than sampling them).
7. **Temporal** (``temporal_reduce``): latent frame 0 covers frame 0, latent frame ``k >= 1`` covers
   frames ``s_t (k-1) + 1 .. s_t k`` (the causal video-VAE layout); the covered frames are reduced by
   ``"max"`` (default: a brief motion inside a latent frame still counts) or ``"mean"``.

Pixels whose global-motion partner (forward or backward) falls outside the frame get zero residual:
there content enters or leaves the view and no flow estimator can match it (without this, the entering
strip of a pan reads as 1-2 px of "object motion").

Camera-only clips: ``uniformity = 1 - sum|residual| / sum|raw flow|`` over the in-view pixels that move
(raw flow above the noise floor): the share of the clip's motion that the one global motion explains,
i.e. how spatially uniform the flow is. A clip is flagged ``camera_only`` when its mean global motion is
at least ``camera_min_px`` and ``uniformity >= camera_uniformity`` (0.5: most of what moves, moves
with the camera). On the world's default corpus (120 clips, seed 0) this share is 0.53-0.85 for
camera-only clips and at most 0.42 for every other label. A pan *with* a moving object is flagged too
(most pixels move with the camera); its mask still shows the object, because compensation removes the
pan - the flag says "dominated by camera motion", the mask says where the object moves. The flag carries ``weight =
camera_weight`` (1.0 = flag only); selection applies the weight to the clip's votes, because scaling a
mask by a constant cannot change a cosine score.

All-zero masks (no residual motion above the floor: a static clip, or a compensated pan): counted
via ``zero_mask``; ``zero_fallback="exclude"`` (default) makes featurisation mark the clip's row
failed with the reason "all-zero mask", so it never enters Motive's selection (a clip with no motion
has no motion to attribute); ``"uniform"`` uses a mask of ones instead (the whole-video loss).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from curation.errors import MotiveError, ShapeError
from curation.flow import FlowEstimator, flow_magnitude
from curation.protocols import LatentGeometry
from curation.video import to_uint8_frames

MASK_VERSION = 1


@dataclass(frozen=True)
class MaskConfig:
    zeta: float = 1e-6
    temporal_reduce: str = "max"  # "max" | "mean" over the frames each latent frame covers
    camera: str = "affine"  # "affine" | "median" | "none"
    camera_min_inliers: float = 0.5  # share of the grid the global motion must explain
    ransac_px: float = 0.5  # RANSAC inlier threshold (pixels)
    noise_floor_px: float = 0.25  # residual magnitude below this is estimator noise
    camera_min_px: float = 0.1  # least mean global motion (px/frame) to call a clip a pan
    camera_uniformity: float = 0.5  # flag when the global model explains most of the moving pixels' motion
    camera_weight: float = 1.0  # vote weight of flagged clips (1.0 = flag only)
    zero_fallback: str = "exclude"  # "exclude" | "uniform"

    def __post_init__(self) -> None:
        if self.temporal_reduce not in ("max", "mean"):
            raise MotiveError(f"temporal_reduce={self.temporal_reduce!r}; expected 'max' or 'mean'.")
        if self.camera not in ("affine", "median", "none"):
            raise MotiveError(f"camera={self.camera!r}; expected 'affine', 'median' or 'none'.")
        if self.zero_fallback not in ("exclude", "uniform"):
            raise MotiveError(f"zero_fallback={self.zero_fallback!r}; expected 'exclude' or 'uniform'.")
        if not 0.0 <= self.camera_weight <= 1.0:
            raise MotiveError(f"camera_weight={self.camera_weight}; expected a weight in [0, 1].")

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "version": MASK_VERSION}


@dataclass
class MotionMask:
    """One clip's mask and the statistics selection and reports use."""

    mask: np.ndarray  # float32 (F', H', W') in [0, 1] on the latent grid
    raw_magnitude: float  # mean raw flow magnitude, px/frame (the motion-magnitude baseline)
    object_magnitude: float  # mean residual magnitude after compensation, px/frame
    camera_magnitude: float  # mean magnitude of the global (camera) motion, px/frame
    uniformity: float  # share of the moving pixels' motion explained by the global model, in [0, 1]
    camera_only: bool
    zero_mask: bool
    weight: float  # vote weight (camera_weight when camera_only, else 1.0)

    @property
    def coverage(self) -> float:
        return float(self.mask.mean())


def _global_motion(flow: np.ndarray, cfg: MaskConfig) -> np.ndarray:
    """``(H, W, 2)`` flow of one pair -> ``(H, W, 2)`` dominant (camera) motion field."""
    h, w, _ = flow.shape
    if cfg.camera == "none":
        return np.zeros_like(flow)
    if cfg.camera == "median":
        return np.broadcast_to(np.median(flow.reshape(-1, 2), axis=0), flow.shape).astype(np.float32)
    step = max(1, min(h, w) // 24)
    ys, xs = np.mgrid[step // 2: h: step, step // 2: w: step]
    src = np.stack([xs.ravel(), ys.ravel()], 1).astype(np.float32)
    dst = src + flow[ys.ravel(), xs.ravel()]
    model, inliers = cv2.estimateAffinePartial2D(
        src, dst, method=cv2.RANSAC, ransacReprojThreshold=cfg.ransac_px, maxIters=500, confidence=0.99,
        refineIters=10)
    if model is None or inliers is None or inliers.mean() < cfg.camera_min_inliers:
        return np.zeros_like(flow)
    gy, gx = np.mgrid[0:h, 0:w].astype(np.float32)
    px = model[0, 0] * gx + model[0, 1] * gy + model[0, 2] - gx
    py = model[1, 0] * gx + model[1, 1] * gy + model[1, 2] - gy
    return np.stack([px, py], -1).astype(np.float32)


def _in_view(glob: np.ndarray, margin: float = 1.0) -> np.ndarray:
    """``(H, W, 2)`` global motion -> ``bool (H, W)``: pixels whose global-motion partner, forward and
    backward, lies inside the frame (``margin`` px from its edge). Outside it, content enters or leaves
    the view and the flow has nothing to match, so its residual is not object motion."""
    h, w, _ = glob.shape
    gy, gx = np.mgrid[0:h, 0:w].astype(np.float32)
    ok = np.ones((h, w), bool)
    for sign in (1.0, -1.0):
        x, y = gx + sign * glob[..., 0], gy + sign * glob[..., 1]
        ok &= (x >= margin) & (x <= w - 1 - margin) & (y >= margin) & (y <= h - 1 - margin)
    return ok


def _to_latent_grid(per_frame: np.ndarray, geometry: LatentGeometry, reduce: str) -> np.ndarray:
    """``(F, H, W)`` -> ``(F', H', W')``: bilinear (antialiased) in space, ``reduce`` over each stride."""
    f, h, w = per_frame.shape
    _, f_lat, h_lat, w_lat = geometry.latent_shape(f, h, w)
    x = torch.from_numpy(np.ascontiguousarray(per_frame, dtype=np.float32))[:, None]
    if (h_lat, w_lat) != (h, w):
        x = F.interpolate(x, size=(h_lat, w_lat), mode="bilinear", antialias=True, align_corners=False)
    x = x[:, 0].clamp_(0.0, 1.0)
    s = geometry.temporal_stride
    groups = [x[0:1]] + [x[s * (k - 1) + 1: s * k + 1] for k in range(1, f_lat)]
    red = [g.amax(0) if reduce == "max" else g.mean(0) for g in groups]
    return torch.stack(red).numpy().astype(np.float32)


def build_mask(frames: np.ndarray, flow: np.ndarray, geometry: LatentGeometry, cfg: MaskConfig) -> MotionMask:
    """Mask from a clip's flow. ``frames``: ``uint8 (F, H, W, 3)``; ``flow``: ``float32 (F-1, H, W, 2)``."""
    if flow.ndim != 4 or flow.shape[0] != frames.shape[0] - 1 or flow.shape[1:3] != frames.shape[1:3]:
        raise ShapeError(f"flow of shape {tuple(flow.shape)} for frames {tuple(frames.shape)}; "
                         "expected (F-1, H, W, 2) matching the frames.")
    glob = np.stack([_global_motion(fl, cfg) for fl in flow])
    raw_mag, glob_mag = flow_magnitude(flow), flow_magnitude(glob)
    in_view = np.stack([_in_view(g) for g in glob]) if cfg.camera != "none" else np.ones(raw_mag.shape, bool)
    res_mag = flow_magnitude(flow - glob) * in_view
    pair = np.maximum(res_mag - cfg.noise_floor_px, 0.0)
    moving = (raw_mag > cfg.noise_floor_px) & in_view
    raw_moving = float(raw_mag[moving].sum())
    uniformity = float(np.clip(1.0 - res_mag[moving].sum() / raw_moving, 0.0, 1.0)) if raw_moving > 0 else 0.0
    camera_only = bool(glob_mag.mean() >= cfg.camera_min_px and uniformity >= cfg.camera_uniformity)
    per_frame = np.empty((frames.shape[0],) + pair.shape[1:], np.float32)
    per_frame[0], per_frame[-1] = pair[0], pair[-1]
    if len(pair) > 1:
        per_frame[1:-1] = 0.5 * (pair[:-1] + pair[1:])
    lo, hi = float(per_frame.min()), float(per_frame.max())
    zero = hi - lo <= 0.0
    norm = (per_frame - lo) / (hi - lo + cfg.zeta)
    mask = _to_latent_grid(norm, geometry, cfg.temporal_reduce)
    if zero and cfg.zero_fallback == "uniform":
        mask = np.ones_like(mask)
    return MotionMask(mask=mask, raw_magnitude=float(raw_mag.mean()), object_magnitude=float(res_mag.mean()),
                      camera_magnitude=float(glob_mag.mean()), uniformity=uniformity, camera_only=camera_only,
                      zero_mask=bool(zero), weight=cfg.camera_weight if camera_only else 1.0)


class MaskBuilder:
    """Builds masks for clips and caches each one as ``<cache_dir>/<clip_id>.<key>.npz``.

    The cache key hashes the mask config, the flow estimator's config, the latent geometry and the
    clip's pixels, so a changed setting or clip never reuses a stale mask.
    """

    def __init__(self, flow: FlowEstimator, geometry: LatentGeometry, config: MaskConfig | None = None,
                 cache_dir: str | Path | None = None):
        self.flow, self.geometry, self.config = flow, geometry, config or MaskConfig()
        self.cache_dir = Path(cache_dir) if cache_dir else None
        if self.cache_dir:
            self.cache_dir.mkdir(parents=True, exist_ok=True)
        self.hits = 0
        self._settings = json.dumps({"mask": self.config.to_dict(), "flow": flow.config(),
                                     "geometry": asdict(geometry)}, sort_keys=True, default=str)

    def describe(self) -> dict[str, Any]:
        """The settings for a manifest."""
        return json.loads(self._settings)

    def build(self, clip_id: str, video: torch.Tensor) -> MotionMask:
        """``video``: ``float32 (3, F, H, W)`` in ``[-1, 1]`` -> its :class:`MotionMask` (cached)."""
        frames = to_uint8_frames(video)
        path = None
        if self.cache_dir:
            key = hashlib.sha256(self._settings.encode() + frames.tobytes()).hexdigest()[:16]
            path = self.cache_dir / f"{clip_id}.{key}.npz"
            if path.exists():
                with np.load(path) as z:
                    stats = json.loads(str(z["stats"]))
                    self.hits += 1
                    return MotionMask(mask=z["mask"], **stats)
        result = build_mask(frames, self.flow(frames), self.geometry, self.config)
        if path is not None:
            stats = {k: v for k, v in asdict(result).items() if k != "mask"}
            tmp = path.with_name(path.name + ".tmp.npz")
            np.savez(tmp, mask=result.mask, stats=json.dumps(stats))
            tmp.replace(path)
        return result
