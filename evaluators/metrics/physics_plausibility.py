"""Physics plausibility as a registered metric: the physics scorer of :mod:`evaluators.physics`.

Needs the video's motion category (``VideoInput.category``) and, optionally, the world constants
(``VideoInput.constants``); a video without a known category scores NaN (the metric abstains).
"""

from __future__ import annotations

from evaluators.metrics.base import Metric, VideoInput, VideoScore, check_frames
from evaluators.physics import CATEGORIES, score_video


class PhysicsPlausibility(Metric):
    name = "physics_plausibility"
    higher_is_better = True
    description = "fit of the tracked object's motion to its category's physical model, in [0, 1]"

    def score(self, video: VideoInput) -> VideoScore:
        frames = check_frames(video.frames, minimum=1)
        if video.category not in CATEGORIES:
            return VideoScore(float("nan"))
        r = score_video(frames, video.category, video.constants, fps=video.fps)
        return VideoScore(r.score, {k: float(v) for k, v in r.checks.items()})
