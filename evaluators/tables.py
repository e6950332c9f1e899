"""Markdown tables from DataFrames without the optional ``tabulate`` dependency."""

from __future__ import annotations

import math

import pandas as pd


def _cell(v: object, digits: int) -> str:
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        return f"{v:.{digits}g}"
    return str(v)


def markdown_table(df: pd.DataFrame, digits: int = 4) -> str:
    """A GitHub-flavoured markdown table of ``df`` (floats to ``digits`` significant digits)."""
    if df.empty:
        return "(none)"
    head = "| " + " | ".join(map(str, df.columns)) + " |"
    sep = "|" + "|".join("---" for _ in df.columns) + "|"
    body = ["| " + " | ".join(_cell(v, digits) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join([head, sep, *body])
