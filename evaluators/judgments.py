"""The judgments CSV format shared by the study app, the automatic judge and the tally, and its reader.

One row per judgment. Required columns ``rater, prompt, model_a, model_b, left, choice``; optional
``seed, time_ms, check, check_passed, judged_at, study``. ``left`` names the model shown on the left
(``model_a`` or ``model_b``); ``choice`` is ``a``, ``b`` or ``tie`` and refers to model_a/model_b, never to
the sides. ``check`` is empty for an ordinary judgment, ``repeat`` for a side-swapped repeat of an earlier
pair, ``identical`` for a pair of identical videos; ``check_passed`` is true/false on check rows.

:func:`read_judgments` validates a file or frame and raises :class:`JudgmentsError` naming the offending
CSV lines (header = line 1). A rater judging the same pair (prompt, seed, models in either order) more
than once is kept and flagged in the ``duplicate`` column, not dropped.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

import pandas as pd

from evaluators.errors import JudgmentsError

REQUIRED = ("rater", "prompt", "model_a", "model_b", "left", "choice")
OPTIONAL = ("seed", "time_ms", "check", "check_passed", "judged_at", "study")
COLUMNS = REQUIRED + OPTIONAL
CHOICES = ("a", "b", "tie")
CHECKS = ("", "repeat", "identical")
_TRUE = {"true", "1", "yes", "t"}
_FALSE = {"false", "0", "no", "f"}


def _lines(mask: pd.Series, limit: int = 20) -> str:
    lines = (mask[mask].index + 2).tolist()  # header is line 1, first data row line 2
    more = f" (and {len(lines) - limit} more)" if len(lines) > limit else ""
    return ", ".join(map(str, lines[:limit])) + more


def read_judgments(source: str | Path | pd.DataFrame, models: Iterable[str] | None = None) -> pd.DataFrame:
    """Read and validate judgments; return a frame with the schema's columns plus derived ones.

    ``models``: the known model names; when given, a row naming another model is an error.
    Added columns: ``line`` (CSV line), ``winner`` (a model name or ``"tie"``), ``pair``
    (sorted ``"x|y"``), ``is_check`` (bool), ``duplicate`` (bool).
    Raises :class:`JudgmentsError` for a missing column, an unknown model, a bad choice, a ``left`` that
    is neither model, a model judged against itself, an empty rater/prompt, or a bad check value.
    """
    name = "the judgments frame" if isinstance(source, pd.DataFrame) else repr(str(source))
    if isinstance(source, pd.DataFrame):
        df = source.copy().reset_index(drop=True)
        df = df.astype({c: "string" for c in df.columns if c in REQUIRED + ("check", "check_passed")})
    else:
        try:
            df = pd.read_csv(source, dtype=str, keep_default_na=False)
        except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
            raise JudgmentsError(f"could not read judgments file {name}: {exc}. Expected a CSV with columns {list(REQUIRED)}.") from exc
    df.columns = [str(c).strip() for c in df.columns]
    missing = [c for c in REQUIRED if c not in df.columns]
    if missing:
        raise JudgmentsError(
            f"{name} lacks required column(s) {missing}; it has {list(df.columns)}. "
            f"Expected {list(REQUIRED)} plus optional {list(OPTIONAL)}."
        )
    for c in REQUIRED + ("check", "check_passed", "study"):
        if c in df.columns:
            df[c] = df[c].fillna("").astype(str).str.strip()
    df["choice"] = df["choice"].str.lower()
    if "check" not in df.columns:
        df["check"] = ""
    df["check"] = df["check"].str.lower()

    problems = []
    empty = (df["rater"] == "") | (df["prompt"] == "") | (df["model_a"] == "") | (df["model_b"] == "")
    if empty.any():
        problems.append(f"empty rater/prompt/model_a/model_b on line(s) {_lines(empty)}")
    bad_choice = ~df["choice"].isin(CHOICES)
    if bad_choice.any():
        seen = sorted(set(df.loc[bad_choice, "choice"]))[:5]
        problems.append(f"choice not in {list(CHOICES)} on line(s) {_lines(bad_choice)} (got {seen})")
    bad_left = ~((df["left"] == df["model_a"]) | (df["left"] == df["model_b"]))
    if bad_left.any():
        problems.append(f"'left' is neither model_a nor model_b on line(s) {_lines(bad_left)}")
    same = (df["model_a"] == df["model_b"]) & (df["check"] != "identical")
    if same.any():
        problems.append(f"model_a equals model_b outside an 'identical' check on line(s) {_lines(same)}")
    bad_check = ~df["check"].isin(CHECKS)
    if bad_check.any():
        problems.append(f"check not in {list(CHECKS)} on line(s) {_lines(bad_check)}")
    if models is not None:
        known = set(models)
        unknown = ~(df["model_a"].isin(known) & df["model_b"].isin(known))
        if unknown.any():
            names = sorted((set(df.loc[unknown, "model_a"]) | set(df.loc[unknown, "model_b"])) - known)
            problems.append(f"unknown model(s) {names} on line(s) {_lines(unknown)}; known models are {sorted(known)}")
    if problems:
        raise JudgmentsError(f"{name} has invalid judgments: " + "; ".join(problems) + ". Fix those rows and re-run.")

    if "check_passed" in df.columns:
        cp = df["check_passed"].str.lower()
        df["check_passed"] = cp.map(lambda v: True if v in _TRUE else (False if v in _FALSE else pd.NA))
    df["line"] = df.index + 2
    df["winner"] = df["model_a"].where(df["choice"] == "a", df["model_b"].where(df["choice"] == "b", "tie"))
    df["pair"] = [("|".join(sorted((a, b)))) for a, b in zip(df["model_a"], df["model_b"])]
    df["is_check"] = df["check"] != ""
    seed = df["seed"].astype(str) if "seed" in df.columns else pd.Series("", index=df.index)
    key = df["rater"] + "\x1f" + df["prompt"] + "\x1f" + seed + "\x1f" + df["pair"]
    # a duplicate is a repeated ordinary judgment of the same rater x pair (check rows repeat by design)
    ordinary = ~df["is_check"]
    df["duplicate"] = False
    df.loc[ordinary, "duplicate"] = key[ordinary].duplicated(keep=False)
    return df


def write_judgments(df: pd.DataFrame, path: str | Path) -> Path:
    """Write judgments in the schema's column order (optional columns only when present)."""
    cols = [c for c in COLUMNS if c in df.columns]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    df[cols].to_csv(path, index=False)
    return path
