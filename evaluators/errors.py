"""Named errors of the evaluators. Messages say what was received, what was expected, and the fix."""

from __future__ import annotations


class EvaluatorError(Exception):
    """Base class of every user-facing error raised by :mod:`evaluators`."""


class UnknownMetricError(EvaluatorError, KeyError):
    """A metric name that is not in the registry; the message lists the known names."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class UnknownFlowError(EvaluatorError, KeyError):
    """A flow estimator name that is unknown or unavailable here; the message lists the usable ones."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class VideoReadError(EvaluatorError):
    """A video the evaluators could not read (missing, empty, corrupt)."""


class FramesError(EvaluatorError, ValueError):
    """Frames that are not uint8 RGB ``(F, H, W, 3)`` or too few for a metric."""


class PhysicsInputError(EvaluatorError, ValueError):
    """Missing world constants or an unknown category for the physics scorer."""


class StatsInputError(EvaluatorError, ValueError):
    """An out-of-range input to a statistic (a win rate of 0.5 to detect, a non-positive n)."""


class JudgmentsError(EvaluatorError, ValueError):
    """A judgments file with unknown models, missing columns, or bad choices; names the rows."""


class NamingError(EvaluatorError, ValueError):
    """A video file that does not follow the ``<prompt_id>-<seed>.mp4`` naming protocol."""
