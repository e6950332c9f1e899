"""The evaluators' own dense optical-flow estimators (OpenCV, no weights).

Each estimator is a fresh instance owned by the evaluator that made it: the metrics never share a flow
estimator (or its code path) with ``curation``, so a curation method cannot game the metric through it.

``estimate(a, b)`` takes two uint8 RGB frames ``(H, W, 3)`` and returns the forward flow ``(H, W, 2)``
float32 in pixels, ``(dx, dy)``, such that ``a[y, x] ~ b[y + dy, x + dx]``.

Estimators: ``dis`` (default, OpenCV DIS, medium preset), ``farneback``; ``tvl1`` and ``deepflow``
only when ``opencv-contrib-python`` provides ``cv2.optflow`` (an optional extra: it conflicts with the
headless wheel this project depends on, so it is never required).
"""

from __future__ import annotations

from typing import Callable, Protocol

import cv2
import numpy as np

from evaluators.errors import UnknownFlowError


class FlowEstimator(Protocol):
    name: str

    def estimate(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Forward flow ``(H, W, 2)`` float32 from uint8 RGB ``a`` to ``b``, both ``(H, W, 3)``."""
        ...


def _gray(frame: np.ndarray) -> np.ndarray:
    frame = np.asarray(frame)
    if frame.ndim == 2:
        return np.ascontiguousarray(frame.astype(np.uint8, copy=False))
    return cv2.cvtColor(np.ascontiguousarray(frame.astype(np.uint8, copy=False)), cv2.COLOR_RGB2GRAY)


class DISFlow:
    """OpenCV Dense Inverse Search flow (Kroeger et al. 2016), medium preset."""

    name = "dis"

    def __init__(self, preset: int = cv2.DISOPTICAL_FLOW_PRESET_MEDIUM) -> None:
        self._dis = cv2.DISOpticalFlow_create(preset)

    def estimate(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return self._dis.calc(_gray(a), _gray(b), None).astype(np.float32, copy=False)


class FarnebackFlow:
    """OpenCV Farneback polynomial-expansion flow with OpenCV's documented example parameters."""

    name = "farneback"

    def estimate(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return cv2.calcOpticalFlowFarneback(_gray(a), _gray(b), None, 0.5, 3, 15, 3, 5, 1.2, 0).astype(np.float32)


class _ContribFlow:
    """A ``cv2.optflow`` estimator (TV-L1 or DeepFlow); needs opencv-contrib-python."""

    def __init__(self, name: str, factory: Callable[[], object]) -> None:
        self.name = name
        self._impl = factory()

    def estimate(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return self._impl.calc(_gray(a), _gray(b), None).astype(np.float32, copy=False)


def _contrib(name: str, attr: str) -> Callable[[], FlowEstimator]:
    def make() -> FlowEstimator:
        optflow = getattr(cv2, "optflow", None)
        if optflow is None or not hasattr(optflow, attr):
            raise UnknownFlowError(
                f"flow estimator {name!r} needs cv2.optflow.{attr} from opencv-contrib-python, which is not "
                f"installed; use one of {available_flows()} or install opencv-contrib-python in its own "
                "environment (it conflicts with opencv-python-headless)."
            )
        return _ContribFlow(name, getattr(optflow, attr))

    return make


FLOWS: dict[str, Callable[[], FlowEstimator]] = {
    "dis": DISFlow,
    "farneback": FarnebackFlow,
    "tvl1": _contrib("tvl1", "DualTVL1OpticalFlow_create"),
    "deepflow": _contrib("deepflow", "createOptFlow_DeepFlow"),
}


def available_flows() -> list[str]:
    """Names of the estimators usable in this environment."""
    has_contrib = getattr(cv2, "optflow", None) is not None
    return [n for n in FLOWS if n in ("dis", "farneback") or has_contrib]


def make_flow(name: str = "dis") -> FlowEstimator:
    """A new estimator instance by name; :class:`UnknownFlowError` lists the known names."""
    if name not in FLOWS:
        raise UnknownFlowError(f"unknown flow estimator {name!r}; expected one of {list(FLOWS)}.")
    return FLOWS[name]()


def flow_pairs(frames: np.ndarray, estimator: FlowEstimator) -> np.ndarray:
    """Forward flows of consecutive frames: uint8 ``(F, H, W, 3)`` -> float32 ``(F-1, H, W, 2)``."""
    frames = np.asarray(frames)
    h, w = frames.shape[1:3]
    out = np.zeros((max(len(frames) - 1, 0), h, w, 2), np.float32)
    for i in range(len(frames) - 1):
        out[i] = estimator.estimate(frames[i], frames[i + 1])
    return out


def warp(image: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """Backward-warp ``image`` ``(H, W, C)`` by ``flow`` ``(H, W, 2)``: ``out[y, x] = image[y+dy, x+dx]``.

    Bilinear (``cv2.remap``), border replicated; returns float32 ``(H, W, C)``.
    """
    h, w = flow.shape[:2]
    gx, gy = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    mx = gx + flow[..., 0]
    my = gy + flow[..., 1]
    out = cv2.remap(np.asarray(image, np.float32), mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return out.reshape(image.shape).astype(np.float32, copy=False)
