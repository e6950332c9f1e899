"""Statistics of flow acceleration and jerk: how abruptly the motion field changes over time.

From consecutive forward flows ``F_t`` (t -> t+1, pixels per frame), the Eulerian acceleration is
``F_{t+1} - F_t`` and the jerk ``F_{t+2} - 2 F_{t+1} + F_t`` per pixel. Each is summarised as the mean
per-pixel L2 magnitude over the pixels that move in either flow (magnitude above 0.5 px; all pixels when
none moves), averaged over time, and expressed in units of ``min(H, W) / 256`` pixels per frame^k so
values are comparable across resolutions (the same normalisation as dynamic degree's threshold). Frame
units, not seconds, so the values do not depend on a stated fps. Lower is better (smoother motion);
physically correct accelerations (a bounce) are not zero, so compare models on the same prompts.
"""

from __future__ import annotations

import numpy as np

from evaluators.metrics.base import Metric, VideoInput, VideoScore, check_frames


def _moving_mean(diff: np.ndarray, a: np.ndarray, b: np.ndarray, moving_px: float) -> float:
    mag = np.hypot(diff[..., 0], diff[..., 1])
    moving = (np.hypot(a[..., 0], a[..., 1]) > moving_px) | (np.hypot(b[..., 0], b[..., 1]) > moving_px)
    return float(mag[moving].mean() if moving.any() else mag.mean())


def flow_dynamics(flows: np.ndarray, moving_px: float = 0.5) -> dict[str, float]:
    """Mean acceleration and jerk magnitudes from forward flows float32 ``(T, H, W, 2)``.

    Returns ``{"acceleration": ..., "jerk": ...}`` in ``min(H, W)/256``-pixel units; NaN where the
    clip has too few flows (acceleration needs 2, jerk 3).
    """
    flows = np.asarray(flows, np.float32)
    scale = min(flows.shape[1:3]) / 256.0 if flows.ndim == 4 else 1.0
    acc = [_moving_mean(flows[t + 1] - flows[t], flows[t], flows[t + 1], moving_px) for t in range(len(flows) - 1)]
    jerk = [
        _moving_mean(flows[t + 2] - 2 * flows[t + 1] + flows[t], flows[t], flows[t + 2], moving_px)
        for t in range(len(flows) - 2)
    ]
    return {
        "acceleration": float(np.mean(acc) / scale) if acc else float("nan"),
        "jerk": float(np.mean(jerk) / scale) if jerk else float("nan"),
    }


class FlowAcceleration(Metric):
    name = "flow_acceleration"
    higher_is_better = False
    description = "mean |F[t+1] - F[t]| on moving pixels, in min(H,W)/256 px per frame^2"
    uses_flow = True

    def score(self, video: VideoInput) -> VideoScore:
        check_frames(video.frames, minimum=1)
        return VideoScore(flow_dynamics(video.flows(self.flow))["acceleration"])


class FlowJerk(Metric):
    name = "flow_jerk"
    higher_is_better = False
    description = "mean |F[t+2] - 2F[t+1] + F[t]| on moving pixels, in min(H,W)/256 px per frame^3"
    uses_flow = True

    def score(self, video: VideoInput) -> VideoScore:
        check_frames(video.frames, minimum=1)
        return VideoScore(flow_dynamics(video.flows(self.flow))["jerk"])
