"""Named errors of the harness. Each message says what was received, what was expected, and how to fix it.

:class:`UserError` is the base of every mistake a user can make; the CLI prints it without a traceback.
Errors raised by ``curation`` and ``evaluators`` that a user can hit subclass their own packages'
``MotiveError`` / ``EvaluatorError``, which the CLI maps here (see :func:`bench.cli.main`).
"""

from __future__ import annotations


class UserError(Exception):
    """Bad input or configuration that the user can fix; the message says how."""


class ConfigError(UserError, ValueError):
    """A configuration value is out of range or inconsistent."""


class WorldError(UserError, ValueError):
    """An unknown category or label, a bad frame count, or another bad world setting."""


class BackendError(UserError):
    """A model directory or prompt the backend cannot use (missing files, out-of-vocabulary words)."""


class StudyError(UserError, ValueError):
    """A preference study that cannot be created, served or exported as asked (bad plan, bad option)."""


class MissingVideosError(StudyError):
    """Video folders of a study that do not hold the same ``<prompt_id>-<seed>.mp4`` files; lists what is missing."""
