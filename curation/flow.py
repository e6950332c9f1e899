"""Dense motion estimators behind one interface.

A :class:`FlowEstimator` maps a clip ``uint8 (F, H, W, 3)`` RGB to the forward flow between consecutive
frames, ``float32 (F-1, H, W, 2)`` in pixels, ``(dx, dy)`` order (OpenCV's convention: frame ``i`` pixel
``p`` moves to ``p + flow[i, p]`` in frame ``i+1``). Implementations:

* :class:`DISFlow` (the default): OpenCV's Dense Inverse Search;
* :class:`FarnebackFlow`: OpenCV's polynomial-expansion flow;
* :class:`RAFTFlow`: torchvision's RAFT, with weights read only from a local file (never downloaded);
  torchvision is imported lazily, so the rest of the package works without it.

Small frames (the synthetic world renders 32-48 px) are too small for the coarse-to-fine pyramids of
DIS/Farneback, so both classical estimators upsample each frame pair so that its shorter side is at
least ``min_side`` pixels, estimate there, and scale the flow back down (flow vectors divided by the
same factor). This is a documented choice; it does not change the flow of large frames.
"""

from __future__ import annotations

import os
from typing import Any, Protocol, runtime_checkable

import cv2
import numpy as np

from curation.errors import MotiveError, ShapeError


@runtime_checkable
class FlowEstimator(Protocol):
    name: str

    def __call__(self, frames: np.ndarray) -> np.ndarray:
        """``uint8 (F, H, W, 3)`` RGB -> ``float32 (F-1, H, W, 2)`` forward flow in pixels."""
        ...

    def config(self) -> dict[str, Any]:
        """The settings that determine the flow (recorded in manifests and mask caches)."""
        ...


def _check_frames(frames: np.ndarray) -> None:
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.shape[0] < 2:
        raise ShapeError(f"frames of shape {tuple(frames.shape)}; expected uint8 (F, H, W, 3) with F >= 2.")
    if frames.dtype != np.uint8:
        raise ShapeError(f"frames of dtype {frames.dtype}; expected uint8 (use curation.video.to_uint8_frames).")


class _PairwiseCV:
    """Shared loop of the OpenCV estimators: grey, upsample small frames, flow per pair, scale back."""

    name = "base"
    min_side = 128

    def _pair(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def __call__(self, frames: np.ndarray) -> np.ndarray:
        _check_frames(frames)
        f, h, w, _ = frames.shape
        scale = max(1.0, self.min_side / min(h, w))
        size = (int(round(w * scale)), int(round(h * scale)))
        grey = [cv2.cvtColor(fr, cv2.COLOR_RGB2GRAY) for fr in frames]
        if scale > 1.0:
            grey = [cv2.resize(g, size, interpolation=cv2.INTER_CUBIC) for g in grey]
        out = np.empty((f - 1, h, w, 2), np.float32)
        for i in range(f - 1):
            flow = self._pair(grey[i], grey[i + 1])
            if scale > 1.0:
                flow = cv2.resize(flow, (w, h), interpolation=cv2.INTER_AREA) / scale
            out[i] = flow
        return out


class DISFlow(_PairwiseCV):
    """OpenCV DIS optical flow (``cv2.DISOpticalFlow``), preset ``"medium"`` by default."""

    name = "dis"
    _PRESETS = {"ultrafast": 0, "fast": 1, "medium": 2}

    def __init__(self, preset: str = "medium", min_side: int = 128):
        if preset not in self._PRESETS:
            raise MotiveError(f"DIS preset {preset!r}; expected one of {sorted(self._PRESETS)}.")
        self.preset, self.min_side = preset, int(min_side)
        self._dis = cv2.DISOpticalFlow_create(self._PRESETS[preset])

    def _pair(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return self._dis.calc(a, b, None)

    def config(self) -> dict[str, Any]:
        return {"estimator": self.name, "preset": self.preset, "min_side": self.min_side,
                "opencv": cv2.__version__}


class FarnebackFlow(_PairwiseCV):
    """OpenCV Farneback dense flow with OpenCV's commonly used parameters."""

    name = "farneback"

    def __init__(self, levels: int = 3, winsize: int = 15, iterations: int = 3, poly_n: int = 5,
                 poly_sigma: float = 1.2, min_side: int = 128):
        self.params = dict(pyr_scale=0.5, levels=levels, winsize=winsize, iterations=iterations,
                           poly_n=poly_n, poly_sigma=poly_sigma, flags=0)
        self.min_side = int(min_side)

    def _pair(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return cv2.calcOpticalFlowFarneback(a, b, None, **self.params)

    def config(self) -> dict[str, Any]:
        return {"estimator": self.name, **self.params, "min_side": self.min_side, "opencv": cv2.__version__}


class RAFTFlow:
    """torchvision's RAFT (``raft_small`` or ``raft_large``) with weights from a local ``.pth`` file.

    Nothing is downloaded: without ``weights_path`` the constructor raises. torchvision is imported
    here, lazily; if it is absent the error says how to install it. Frames are padded to a multiple
    of 8 and enlarged to at least 128 px on the shorter side, as RAFT's feature pyramid needs.
    """

    name = "raft"

    def __init__(self, weights_path: str | os.PathLike | None, variant: str = "small",
                 device: str = "cpu", iters: int = 12):
        try:
            from torchvision.models import optical_flow as tv_flow
        except ImportError as exc:  # torchvision is optional
            raise MotiveError(
                "RAFTFlow needs torchvision, which is not installed; install the torchvision build that "
                "matches your torch (pip install torchvision==<matching version>), or use DISFlow."
            ) from exc
        except RuntimeError as exc:  # e.g. a PyPI (CUDA) torchvision on a CPU torch: "operator torchvision::nms does not exist"
            import torch

            raise MotiveError(
                f"RAFTFlow could not import torchvision ({exc}); the installed torchvision was built for another "
                f"torch than this one ({torch.__version__}). Install the torchvision wheel from the same index as "
                "your torch (for a CPU torch: pip install torchvision --index-url "
                "https://download.pytorch.org/whl/cpu), or use DISFlow."
            ) from exc
        if weights_path is None or not os.path.isfile(weights_path):
            raise MotiveError(
                f"RAFTFlow got weights_path={weights_path!r}; expected a local RAFT state-dict file "
                "(nothing is downloaded). Save torchvision's Raft_Small_Weights/Raft_Large_Weights once "
                "on a machine with network access and pass its path.")
        import torch

        if variant not in ("small", "large"):
            raise MotiveError(f"RAFT variant {variant!r}; expected 'small' or 'large'.")
        builder = tv_flow.raft_small if variant == "small" else tv_flow.raft_large
        self.model = builder(weights=None, progress=False)
        self.model.load_state_dict(torch.load(weights_path, map_location="cpu", weights_only=True))
        self.model.eval().to(device)
        self.weights_path, self.variant, self.device, self.iters = str(weights_path), variant, device, iters

    def __call__(self, frames: np.ndarray) -> np.ndarray:
        import torch
        import torch.nn.functional as F

        _check_frames(frames)
        f, h, w, _ = frames.shape
        scale = max(1.0, 128 / min(h, w))
        hh, ww = (int(np.ceil(h * scale / 8) * 8), int(np.ceil(w * scale / 8) * 8))
        x = torch.from_numpy(frames).permute(0, 3, 1, 2).float().to(self.device) / 127.5 - 1.0
        x = F.interpolate(x, size=(hh, ww), mode="bilinear", align_corners=False)
        with torch.no_grad():
            flow = self.model(x[:-1], x[1:], num_flow_updates=self.iters)[-1]
        flow = F.interpolate(flow, size=(h, w), mode="bilinear", align_corners=False)
        flow[:, 0] *= w / ww
        flow[:, 1] *= h / hh
        return flow.permute(0, 2, 3, 1).cpu().numpy().astype(np.float32)

    def config(self) -> dict[str, Any]:
        return {"estimator": self.name, "variant": self.variant, "weights_path": self.weights_path,
                "iters": self.iters}


def make_flow(name: str = "dis", **kwargs: Any) -> FlowEstimator:
    """The estimator called ``name`` (``"dis"``, ``"farneback"`` or ``"raft"``) built with ``kwargs``."""
    table = {"dis": DISFlow, "farneback": FarnebackFlow, "raft": RAFTFlow}
    if name not in table:
        raise MotiveError(f"flow estimator {name!r}; expected one of {sorted(table)}.")
    return table[name](**kwargs)


def flow_magnitude(flow: np.ndarray) -> np.ndarray:
    """``(..., 2)`` flow -> ``(...)`` Euclidean magnitude in pixels, float32."""
    return np.sqrt((flow.astype(np.float32) ** 2).sum(-1))
