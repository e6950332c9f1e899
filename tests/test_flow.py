"""Flow estimators: known displacement of a translating textured square, zero on a static clip."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from curation.errors import MotiveError, ShapeError
from curation.flow import DISFlow, FarnebackFlow, make_flow

H = W = 48


def _square_clip(dx: float, dy: float, n: int = 4) -> np.ndarray:
    rng = np.random.default_rng(0)
    tex = (rng.random((12, 12, 3)) * 255).astype(np.uint8)
    frames = []
    for i in range(n):
        f = np.full((H, W, 3), 60, np.uint8)
        x0, y0 = 10 + int(i * dx), 12 + int(i * dy)
        f[y0:y0 + 12, x0:x0 + 12] = tex
        frames.append(f)
    return np.stack(frames)


@pytest.mark.parametrize("name", ["dis", "farneback"])
def test_translating_square_displacement_within_half_pixel(name):
    flow = make_flow(name)(_square_clip(2, 1))
    assert flow.shape == (3, H, W, 2) and flow.dtype == np.float32
    inside = flow[:, 15:21, 13:19].reshape(-1, 2)  # interior of the square in frames 0..2
    np.testing.assert_allclose(inside.mean(0), [2.0, 1.0], atol=0.5)
    assert np.abs(inside - [2.0, 1.0]).max() < 0.5


@pytest.mark.parametrize("estimator", [DISFlow(), FarnebackFlow()])
def test_static_clip_has_about_zero_flow(estimator):
    assert np.abs(estimator(_square_clip(0, 0))).max() < 0.05


def test_bad_input_and_unknown_estimator():
    with pytest.raises(ShapeError, match="uint8"):
        DISFlow()(_square_clip(1, 0).astype(np.float32))
    with pytest.raises(ShapeError, match="F >= 2"):
        DISFlow()(_square_clip(1, 0)[:1])
    with pytest.raises(MotiveError, match="expected one of"):
        make_flow("tvl1")


def test_raft_adapter_needs_torchvision_and_local_weights(tmp_path):
    if importlib.util.find_spec("torchvision") is None:
        with pytest.raises(MotiveError, match="needs torchvision"):
            make_flow("raft", weights_path=tmp_path / "raft.pth")
        pytest.skip("torchvision not installed: only the clear error is checked")
    with pytest.raises(MotiveError, match="nothing is downloaded"):
        make_flow("raft", weights_path=tmp_path / "missing.pth")


def test_raft_adapter_explains_a_torchvision_built_for_another_torch(monkeypatch, tmp_path):
    import builtins

    real_import = builtins.__import__

    def broken(name, *args, **kwargs):  # what a CUDA torchvision wheel does on a CPU torch
        if name.startswith("torchvision"):
            raise RuntimeError("operator torchvision::nms does not exist")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", broken)
    with pytest.raises(MotiveError, match="built for another torch.*index-url"):
        make_flow("raft", weights_path=tmp_path / "raft.pth")
