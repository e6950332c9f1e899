"""Throughput of dynamic degree and motion smoothness (frames per second) at 32x32 and 480x832.

Run: ``python -m pytest tests/benchmarks/test_bench_metrics.py --benchmark-only --benchmark-json=OUT``;
frames/s = frames per clip / mean seconds per clip (``extra_info["frames"]`` holds the frame count).
The clip is a seeded random texture translating 2 px per frame, 17 frames at 8 fps (the world's format).
"""

from __future__ import annotations

import numpy as np
import pytest

from evaluators.metrics import get_metric
from evaluators.metrics.base import VideoInput

FRAMES = 17


def moving_texture(h: int, w: int, frames: int = FRAMES, seed: int = 0) -> np.ndarray:
    """uint8 (frames, h, w, 3): a smooth random texture shifted right by 2 px per frame."""
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 255, (h // 4 + 1, (w + 2 * frames) // 4 + 1, 3)).astype(np.uint8)
    import cv2

    big = cv2.resize(base, (w + 2 * frames + 4, h), interpolation=cv2.INTER_CUBIC)
    return np.stack([big[:, 2 * t: 2 * t + w] for t in range(frames)])


@pytest.mark.parametrize("size", [(32, 32), (480, 832)], ids=["32x32", "480x832"])
@pytest.mark.parametrize("name", ["dynamic_degree", "motion_smoothness"])
def test_metric_throughput(benchmark, name, size):
    clip = moving_texture(*size)
    metric = get_metric(name)
    benchmark.extra_info["frames"] = FRAMES
    # a fresh VideoInput per call, so cached flows never flatter the figure
    value = benchmark.pedantic(lambda: metric.score(VideoInput(clip, 8.0)).value, rounds=3 if size[0] > 100 else 20,
                               iterations=1, warmup_rounds=1)
    assert np.isfinite(value)
