"""Dynamic degree, following VBench's ``dynamic_degree.py`` protocol with a pluggable weight-free flow.

VBench's protocol (RAFT there; OpenCV DIS here by default):

1. frames are subsampled with interval ``max(1, round(fps / 8))`` (Python's round, as VBench);
2. per consecutive pair of sampled frames, the score is the mean of the top 5% per-pixel flow
   magnitudes (``int(H*W*0.05)`` pixels, as VBench);
3. a pair moves if that score is strictly greater than ``max(1, 8/fps) * 6.0 * min(H, W) / 256`` (the
   factor is VBench's; it is 1 for every fps >= 8);
4. the video is dynamic once ``round(4 * N / 16)`` pairs move, ``N`` the number of *sampled* frames.

One deviation, on purpose: VBench's count is 0 for ``N <= 2`` (``round(0.5) == 0``), which calls every
two-frame video dynamic even when nothing moves; here the count is at least 1.
The metric value is 1.0 (dynamic) or 0.0; the aggregate is the fraction of dynamic videos. The
per-video magnitudes (mean and max of the per-pair scores, and the threshold) are reported as extras,
which are more informative than the binary decision.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from evaluators.flow import FlowEstimator, flow_pairs
from evaluators.metrics.base import Metric, VideoInput, VideoScore, check_frames


@dataclass(frozen=True)
class DynamicDegreeResult:
    dynamic: bool
    pair_scores: np.ndarray  # float64 (N-1,): mean of top-5% flow magnitudes per sampled pair
    threshold: float
    count_needed: int
    interval: int


def sample_interval(fps: float) -> int:
    """VBench's frame interval ``max(1, round(fps / 8))``."""
    return max(1, round(fps / 8))


def top5_mean_magnitude(flow: np.ndarray) -> float:
    """Mean of the top 5% per-pixel L2 magnitudes of one flow field ``(H, W, 2)`` (VBench ``get_score``)."""
    h, w = flow.shape[:2]
    rad = np.sqrt(np.square(flow[..., 0], dtype=np.float64) + np.square(flow[..., 1], dtype=np.float64)).ravel()
    cut = max(int(h * w * 0.05), 1)
    return float(np.partition(rad, rad.size - cut)[rad.size - cut:].mean())


def dynamic_degree_from_flows(flows: np.ndarray, height: int, width: int, fps: float, n_sampled: int) -> DynamicDegreeResult:
    """Decide dynamic/static from the flows ``(N-1, H, W, 2)`` of ``n_sampled`` sampled frames."""
    scores = np.array([top5_mean_magnitude(f) for f in flows], dtype=np.float64)
    threshold = max(1.0, 8.0 / fps) * 6.0 * (min(height, width) / 256.0)
    needed = max(1, round(4 * (n_sampled / 16.0)))
    moving = int((scores > threshold).sum())
    return DynamicDegreeResult(moving >= needed, scores, threshold, needed, sample_interval(fps))


def dynamic_degree(frames: np.ndarray, fps: float, estimator: FlowEstimator) -> DynamicDegreeResult:
    """VBench dynamic degree of uint8 RGB frames ``(F, H, W, 3)`` at ``fps``."""
    frames = check_frames(frames, minimum=1)
    step = sample_interval(fps)
    sampled = frames[::step]
    return dynamic_degree_from_flows(flow_pairs(sampled, estimator), *frames.shape[1:3], fps, len(sampled))


class DynamicDegree(Metric):
    name = "dynamic_degree"
    higher_is_better = True
    description = "fraction of videos whose flow moves in enough frame pairs (VBench protocol)"
    uses_flow = True

    def score(self, video: VideoInput) -> VideoScore:
        frames = check_frames(video.frames, minimum=1)
        step = sample_interval(video.fps)
        n = len(frames[::step])
        r = dynamic_degree_from_flows(video.flows(self.flow, step), *frames.shape[1:3], video.fps, n)
        s = r.pair_scores
        return VideoScore(
            float(r.dynamic),
            {
                "magnitude_mean": float(s.mean()) if s.size else 0.0,
                "magnitude_max": float(s.max()) if s.size else 0.0,
                "moving_pairs": float((s > r.threshold).sum()),
                "threshold": r.threshold,
            },
        )
