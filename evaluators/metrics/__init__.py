"""The metric registry: the one list of metric names (add a metric here and nowhere else).

``metric_names()`` lists them, ``get_metric(name)`` builds one (each with its own flow estimator) and
rejects an unknown name with :class:`UnknownMetricError` showing the list; ``higher_is_better(name)``
says which direction is better, for the results schema and the judge.
"""

from __future__ import annotations

from evaluators.errors import UnknownMetricError
from evaluators.flow import FlowEstimator
from evaluators.metrics.base import Metric, MetricResult, VideoInput, VideoScore
from evaluators.metrics.dynamic_degree import DynamicDegree
from evaluators.metrics.flow_dynamics import FlowAcceleration, FlowJerk
from evaluators.metrics.motion_smoothness import MotionSmoothness
from evaluators.metrics.physics_plausibility import PhysicsPlausibility
from evaluators.metrics.temporal_flicker import TemporalFlicker
from evaluators.metrics.warp_error import WarpError

REGISTRY: dict[str, type[Metric]] = {
    cls.name: cls
    for cls in (
        DynamicDegree,
        MotionSmoothness,
        WarpError,
        TemporalFlicker,
        FlowAcceleration,
        FlowJerk,
        PhysicsPlausibility,
    )
}

__all__ = ["REGISTRY", "Metric", "MetricResult", "VideoInput", "VideoScore", "get_metric", "metric_names", "higher_is_better"]


def metric_names() -> list[str]:
    """The registered metric names, in registry order."""
    return list(REGISTRY)


def _check(name: str) -> type[Metric]:
    if name not in REGISTRY:
        raise UnknownMetricError(f"unknown metric {name!r}; expected one of {metric_names()}.")
    return REGISTRY[name]


def get_metric(name: str, flow: str | FlowEstimator = "dis") -> Metric:
    """A new instance of metric ``name`` with its own flow estimator ``flow``."""
    return _check(name)(flow=flow)


def higher_is_better(name: str) -> bool:
    """Whether larger values of metric ``name`` are better."""
    return _check(name).higher_is_better
