"""Motion smoothness, following VBench's ``motion_smoothness.py`` protocol with flow-warp interpolation.

VBench keeps the even-indexed frames, reconstructs every odd frame at t = 0.5 with the AMT
interpolation network, and scores ``(255 - MAE) / 255`` where MAE is the mean absolute error between
the original and reconstructed odd frames on uint8 RGB. AMT needs weights; here the middle frame is
interpolated by bidirectional flow warping (the linear flow approximation of Super SloMo, Jiang et al.
2018, at t = 0.5):

    F_t->0 = -1/4 F_0->1 + 1/4 F_1->0,   F_t->1 = 1/4 F_0->1 - 1/4 F_1->0,
    I_t = (warp(I_0, F_t->0) + warp(I_1, F_t->1)) / 2, rounded to uint8.

A smoothly moving object is interpolated well and scores near 1; shuffled frames score lower.
Videos with fewer than three frames have no odd frame to reconstruct and score NaN.
"""

from __future__ import annotations

import numpy as np

from evaluators.flow import FlowEstimator, warp
from evaluators.metrics.base import Metric, VideoInput, VideoScore, check_frames


def interpolate_middle(a: np.ndarray, b: np.ndarray, estimator: FlowEstimator) -> np.ndarray:
    """The frame halfway between uint8 RGB ``a`` and ``b`` ``(H, W, 3)``, as uint8 ``(H, W, 3)``."""
    f01 = estimator.estimate(a, b)
    f10 = estimator.estimate(b, a)
    ft0 = -0.25 * f01 + 0.25 * f10
    ft1 = 0.25 * f01 - 0.25 * f10
    mid = 0.5 * (warp(a, ft0) + warp(b, ft1))
    return np.clip(np.rint(mid), 0, 255).astype(np.uint8)


def motion_smoothness(frames: np.ndarray, estimator: FlowEstimator) -> float:
    """VBench motion smoothness in [0, 1] of uint8 RGB frames ``(F, H, W, 3)``; NaN when F < 3."""
    frames = check_frames(frames, minimum=1)
    even = frames[0::2]
    odd = frames[1::2]
    n = min(len(even) - 1, len(odd))  # odd frames with both neighbours kept
    if n < 1:
        return float("nan")
    errors = []
    for i in range(n):
        mid = interpolate_middle(even[i], even[i + 1], estimator)
        errors.append(np.abs(odd[i].astype(np.int16) - mid.astype(np.int16)).mean())
    return float((255.0 - np.mean(errors)) / 255.0)


class MotionSmoothness(Metric):
    name = "motion_smoothness"
    higher_is_better = True
    description = "(255 - MAE of odd frames rebuilt from even frames by flow warping) / 255 (VBench protocol)"
    uses_flow = True

    def score(self, video: VideoInput) -> VideoScore:
        return VideoScore(motion_smoothness(video.frames, self.flow))
