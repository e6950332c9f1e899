"""The one metric contract: a pure function per metric plus a thin class around it.

A metric class declares ``name``, ``higher_is_better`` and ``description``; ``score(video)`` returns a
:class:`VideoScore` (one float plus named scalar extras such as the raw magnitudes behind a binary
decision) and calling it on a mapping of videos returns a :class:`MetricResult` with per-video values and
the aggregate (the mean over videos, NaNs skipped). The registry in :mod:`evaluators.metrics` is the one
list of metric names.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Mapping

import numpy as np

from evaluators.errors import FramesError
from evaluators.flow import FlowEstimator, flow_pairs, make_flow


@dataclass
class VideoInput:
    """One video as the metrics see it.

    ``frames`` uint8 RGB ``(F, H, W, 3)``; ``fps`` its frame rate; ``category`` (a world motion category
    such as ``"bounce"``) and ``constants`` (world constants, a plain dict) are used by the physics
    scorer only. Flows are cached per (estimator name, frame step) so metrics sharing a video share work.
    """

    frames: np.ndarray
    fps: float
    category: str | None = None
    constants: Mapping[str, Any] | None = None
    _flows: dict = field(default_factory=dict, repr=False, compare=False)

    def flows(self, estimator: FlowEstimator, step: int = 1) -> np.ndarray:
        """Forward flows float32 ``(F', H, W, 2)`` between frames ``0, step, 2*step, ...``."""
        key = (estimator.name, step)
        if key not in self._flows:
            self._flows[key] = flow_pairs(self.frames[::step], estimator)
        return self._flows[key]


@dataclass(frozen=True)
class VideoScore:
    """A metric's value on one video plus named scalar extras (reported as ``<metric>.<extra>``)."""

    value: float
    extras: Mapping[str, float] = field(default_factory=dict)


@dataclass
class MetricResult:
    """Per-video values, extras and the aggregate (mean of finite values) of one metric."""

    name: str
    higher_is_better: bool
    values: dict[str, float]
    extras: dict[str, dict[str, float]]
    aggregate: float


class Metric:
    """Base of the thin metric classes; subclasses implement :meth:`score`."""

    name: ClassVar[str]
    higher_is_better: ClassVar[bool]
    description: ClassVar[str]
    uses_flow: ClassVar[bool] = False

    def __init__(self, flow: str | FlowEstimator = "dis") -> None:
        # each metric instance owns its estimator: never shared with curation
        self.flow = make_flow(flow) if isinstance(flow, str) else flow

    def score(self, video: VideoInput) -> VideoScore:
        raise NotImplementedError

    @staticmethod
    def aggregate(values: list[float]) -> float:
        """Mean of the finite per-video values (NaN when there is none)."""
        arr = np.asarray([v for v in values if np.isfinite(v)], dtype=np.float64)
        return float(arr.mean()) if arr.size else float("nan")

    def __call__(self, videos: Mapping[str, VideoInput]) -> MetricResult:
        values: dict[str, float] = {}
        extras: dict[str, dict[str, float]] = {}
        for key, video in videos.items():
            s = self.score(video)
            values[key] = float(s.value)
            extras[key] = {k: float(v) for k, v in s.extras.items()}
        return MetricResult(self.name, self.higher_is_better, values, extras, self.aggregate(list(values.values())))


def check_frames(frames: np.ndarray, minimum: int = 2) -> np.ndarray:
    """Validate uint8 RGB ``(F, H, W, 3)`` frames with at least ``minimum`` frames; return them."""
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3:
        raise FramesError(f"expected RGB frames of shape (F, H, W, 3); got shape {frames.shape}. "
                          "Decode with evaluators.io.read_video or stack frames along axis 0.")
    if frames.dtype != np.uint8:
        raise FramesError(f"expected uint8 frames in [0, 255]; got {frames.dtype}. Convert with "
                          "np.clip(np.rint(x), 0, 255).astype(np.uint8) (scale [0, 1] or [-1, 1] data first).")
    if len(frames) < minimum:
        raise FramesError(f"expected at least {minimum} frames; got {len(frames)}.")
    return frames
