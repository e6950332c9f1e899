"""Motion masks: geometry, normalisation, camera compensation, camera-only flag, zero fallback, cache."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from curation.flow import DISFlow
from curation.masks import MaskBuilder, MaskConfig, build_mask
from curation.protocols import LatentGeometry

GEOM = LatentGeometry(temporal_stride=4, spatial_stride=4, channels=3)
N, S = 9, 32


def _scene(obj_dx: int, cam_dx: int) -> np.ndarray:
    """A textured background panned by ``cam_dx`` px/frame and a gradient square that moves by ``obj_dx``
    px/frame in the world, so on screen it moves by ``obj_dx - cam_dx`` (a still object pans with the frame)."""
    rng = np.random.default_rng(1)
    bg = (rng.random((S // 2, S * 2, 3)) * 255).astype(np.uint8)
    bg = np.repeat(np.repeat(bg, 2, 0), 2, 1)  # 2-px texture, smooth enough for flow
    square = (np.arange(64).reshape(8, 8, 1) * 4).astype(np.uint8)
    rel = obj_dx - cam_dx
    frames = []
    for i in range(N):
        f = bg[:, i * cam_dx: i * cam_dx + S].copy()
        x0 = 12 - 4 * rel + i * rel
        f[10:18, x0:x0 + 8] = square
        frames.append(f)
    return np.stack(frames)


def _mask(frames, **cfg):
    return build_mask(frames, DISFlow()(frames), GEOM, MaskConfig(**cfg))


def test_shape_range_and_object_location():
    m = _mask(_scene(obj_dx=2, cam_dx=0))
    assert m.mask.shape == (3, 8, 8) and m.mask.dtype == np.float32
    assert m.mask.min() >= 0 and m.mask.max() <= 1 and m.mask.max() > 0.5
    rows = m.mask[1:].mean(axis=(0, 2))  # the square moves along rows 10..17 -> latent rows 2..4
    assert rows[2:5].mean() > 5 * rows[[0, 7]].mean()
    assert not m.camera_only and not m.zero_mask and m.weight == 1.0


def test_min_max_over_whole_clip_with_zeta():
    frames = np.zeros((5, 8, 8, 3), np.uint8)
    flow = np.zeros((4, 8, 8, 2), np.float32)
    flow[1, 2, 3] = [3.25, 0.0]  # one moving pixel in one pair
    geom = LatentGeometry(temporal_stride=1, spatial_stride=1, channels=1)
    m = build_mask(frames, flow, geom, MaskConfig(camera="none", noise_floor_px=0.25))
    # frames 1 and 2 touch pair 1: 0.5 * (3.0 - 0) each; max over clip = 1.5 -> 1.5 / (1.5 + 1e-6)
    assert m.mask[1, 2, 3] == pytest.approx(1.5 / (1.5 + 1e-6))
    assert m.mask[0].max() == 0 and m.mask[3].max() == 0


@pytest.mark.parametrize("reduce,expected", [("max", 1.0), ("mean", 0.375)])
def test_temporal_reduction(reduce, expected):
    frames = np.zeros((5, 4, 4, 3), np.uint8)
    flow = np.zeros((4, 4, 4, 2), np.float32)
    flow[3] = 2.0  # only pair 3->4 moves
    geom = LatentGeometry(temporal_stride=4, spatial_stride=1, channels=1)
    m = build_mask(frames, flow, geom, MaskConfig(camera="none", noise_floor_px=0.0, temporal_reduce=reduce))
    # per frame: 0, 0, 0, 1 (half of pair 2->3 and 3->4), 2 (the last pair); normalised 0, 0, 0, .5, 1
    # latent frame 1 covers frames 1..4 -> max 1, mean (0 + 0 + .5 + 1) / 4
    assert m.mask.shape == (2, 4, 4)
    assert m.mask[1].mean() == pytest.approx(expected, rel=1e-5)
    assert m.mask[0].max() == 0


def test_camera_pan_is_compensated_and_object_still_found():
    pan_only = _mask(_scene(obj_dx=0, cam_dx=2))
    assert pan_only.camera_only and pan_only.camera_magnitude == pytest.approx(2.0, abs=0.3)
    uncompensated = _mask(_scene(obj_dx=0, cam_dx=2), camera="none")
    assert not uncompensated.camera_only and uncompensated.coverage > 3 * pan_only.coverage
    both = _mask(_scene(obj_dx=2, cam_dx=2))  # flagged (most pixels pan), but the mask shows the object
    assert both.uniformity > 0.5
    rows = both.mask[1:].mean(axis=(0, 2))
    assert rows[2:5].mean() > 3 * rows[[0, 7]].mean()  # the object, not the pan, lights up


def test_object_motion_on_still_background_is_not_camera_only():
    m = _mask(_scene(obj_dx=2, cam_dx=0))
    assert not m.camera_only and m.uniformity < 0.2 and m.camera_magnitude < 0.1


def test_camera_only_downweight_recorded():
    m = _mask(_scene(obj_dx=0, cam_dx=2), camera_weight=0.25)
    assert m.camera_only and m.weight == 0.25


def test_static_clip_all_zero_mask_fallback():
    frames = _scene(obj_dx=0, cam_dx=0)
    excluded = _mask(frames)
    assert excluded.zero_mask and excluded.mask.max() == 0
    uniform = _mask(frames, zero_fallback="uniform")
    assert uniform.zero_mask and np.all(uniform.mask == 1)


def test_cache_hit_returns_same_mask(tmp_path):
    video = torch.from_numpy(_scene(2, 0)).permute(3, 0, 1, 2).float() / 127.5 - 1
    builder = MaskBuilder(DISFlow(), GEOM, cache_dir=tmp_path)
    first = builder.build("clip0", video)
    second = builder.build("clip0", video)
    assert builder.hits == 1 and np.array_equal(first.mask, second.mask)
    assert second.raw_magnitude == first.raw_magnitude
    other = MaskBuilder(DISFlow(), GEOM, MaskConfig(temporal_reduce="mean"), cache_dir=tmp_path)
    other.build("clip0", video)
    assert other.hits == 0 and len(list(tmp_path.glob("clip0.*.npz"))) == 2
