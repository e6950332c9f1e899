"""Temporal flicker: ``(255 - mean absolute difference of consecutive frames) / 255`` on uint8 RGB.

VBench applies it to static-prompt videos, where any change is flicker; on moving content it also
falls with motion, so read it beside dynamic degree. Higher is better (less flicker); in [0, 1].
"""

from __future__ import annotations

import numpy as np

from evaluators.metrics.base import Metric, VideoInput, VideoScore, check_frames


def temporal_flicker(frames: np.ndarray) -> float:
    """Flicker score in [0, 1] of uint8 RGB frames ``(F, H, W, 3)``; NaN for a single frame."""
    frames = check_frames(frames, minimum=1)
    if len(frames) < 2:
        return float("nan")
    diffs = [np.abs(frames[i + 1].astype(np.int16) - frames[i].astype(np.int16)).mean() for i in range(len(frames) - 1)]
    return float((255.0 - np.mean(diffs)) / 255.0)


class TemporalFlicker(Metric):
    name = "temporal_flicker"
    higher_is_better = True
    description = "(255 - mean |frame[t+1] - frame[t]|) / 255"

    def score(self, video: VideoInput) -> VideoScore:
        return VideoScore(temporal_flicker(video.frames))
