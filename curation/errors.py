"""Named errors of the curation core. Messages say what was received, what was expected, and the fix.

Every error a user can hit derives from :class:`MotiveError`; ``assert`` is kept for internal invariants.
"""

from __future__ import annotations


class MotiveError(Exception):
    """Base class of every user-facing error raised by :mod:`curation`."""


class StoreMismatchError(MotiveError):
    """A feature store was reopened with a spec (projection, model, t_fix, noise seed, mask) that differs
    from the one it was built with. ``field`` names the first differing manifest field."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


class BadVideoError(MotiveError):
    """A video file is missing, empty, corrupt, unreadable, or too short for the requested standard."""

    def __init__(self, message: str, path: str | None = None):
        super().__init__(message)
        self.path = path


class NonFiniteError(MotiveError, FloatingPointError):
    """A gradient, feature or projection input holds NaN or Inf."""


class ShapeError(MotiveError, ValueError):
    """An array or tensor has the wrong number of dimensions or the wrong size."""


class SelectionError(MotiveError, ValueError):
    """A selection was asked for with invalid arguments (fraction outside (0, 1], empty query set, ...)."""


class StoreError(MotiveError, OSError):
    """A feature store cannot be created, opened or written (exists already, read-only, disk full, ...)."""
