"""Warp error: how well each frame is predicted by warping the next one along the estimated flow.

For each consecutive pair, the forward flow ``F`` (t -> t+1) backward-warps frame t+1 onto frame t; the
error is the mean absolute difference on uint8 RGB over *moving* pixels (flow magnitude above
``moving_px``, default 0.5 px), divided by 255. Pairs with no moving pixel contribute the error over all
pixels. The video's value is the mean over pairs; lower is better (temporally consistent content).
Choice where the literature varies: no occlusion mask (a weight-free estimator gives no reliable one).
"""

from __future__ import annotations

import numpy as np

from evaluators.flow import warp
from evaluators.metrics.base import Metric, VideoInput, VideoScore, check_frames


def warp_error_from_flows(frames: np.ndarray, flows: np.ndarray, moving_px: float = 0.5) -> float:
    """Warp error in [0, 1] from uint8 RGB ``(F, H, W, 3)`` and forward flows ``(F-1, H, W, 2)``."""
    if len(flows) == 0:
        return float("nan")
    errors = []
    for t, flow in enumerate(flows):
        pred = warp(frames[t + 1], flow)
        diff = np.abs(pred - frames[t].astype(np.float32)).mean(axis=-1)
        moving = np.hypot(flow[..., 0], flow[..., 1]) > moving_px
        errors.append(diff[moving].mean() if moving.any() else diff.mean())
    return float(np.mean(errors) / 255.0)


class WarpError(Metric):
    name = "warp_error"
    higher_is_better = False
    description = "mean |frame[t] - warp(frame[t+1], flow)| / 255 on moving pixels"
    uses_flow = True

    def score(self, video: VideoInput) -> VideoScore:
        frames = check_frames(video.frames, minimum=1)
        return VideoScore(warp_error_from_flows(frames, video.flows(self.flow)))
