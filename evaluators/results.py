"""The results schema, in one place: ``results.json`` plus ``per_video.csv``.

``results.json``::

    {"schema": "motive-bench/results", "version": 1,
     "metrics": {<name>: {"higher_is_better": bool | null, "description": str}},
     "models": {<model>: {<metric>: {"value": float | null, "n": int}}},
     "prompts": {<prompt_id>: <text>},
     "videos": int, "unreadable": [<video path>, ...], "meta": {...}}

``per_video.csv`` is the tidy table of :mod:`evaluators.evaluate` (columns ``TIDY_COLUMNS``). Metric
extras (``<metric>.<extra>``) have ``higher_is_better`` null. A report is a pure function of these two.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Mapping

import pandas as pd

from evaluators.errors import EvaluatorError
from evaluators.evaluate import TIDY_COLUMNS, Evaluation, aggregate
from evaluators.metrics import REGISTRY

SCHEMA = "motive-bench/results"
VERSION = 1
RESULTS_JSON = "results.json"
PER_VIDEO_CSV = "per_video.csv"


def _finite(x: float) -> float | None:
    return float(x) if x is not None and math.isfinite(float(x)) else None


def results_dict(ev: Evaluation, meta: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The ``results.json`` content of an evaluation."""
    metrics: dict[str, dict[str, Any]] = {}
    for name in ev.aggregates["metric"].unique().tolist() + sorted(set(ev.per_video["metric"])):
        base = name.split(".")[0]
        cls = REGISTRY.get(name)
        metrics[name] = {
            "higher_is_better": cls.higher_is_better if cls else None,
            "description": cls.description if cls else f"extra reported by {base}",
        }
    models: dict[str, dict[str, Any]] = {}
    for rec in ev.aggregates.itertuples(index=False):
        models.setdefault(rec.model, {})[rec.metric] = {"value": _finite(rec.value), "n": int(rec.n)}
    unreadable = sorted(set(ev.per_video.loc[ev.per_video["status"].str.startswith("unreadable"), "video"]))
    return {"schema": SCHEMA, "version": VERSION, "metrics": metrics, "models": models, "prompts": ev.prompts,
            "videos": int(ev.per_video["video"].nunique()), "unreadable": unreadable, "meta": dict(meta or {})}


def write_results(ev: Evaluation, out_dir: str | Path, meta: Mapping[str, Any] | None = None) -> dict[str, Path]:
    """Write ``results.json`` and ``per_video.csv`` into ``out_dir``; return their paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / RESULTS_JSON).write_text(json.dumps(results_dict(ev, meta), indent=2, sort_keys=False) + "\n")
    ev.per_video.to_csv(out / PER_VIDEO_CSV, index=False)
    return {"results": out / RESULTS_JSON, "per_video": out / PER_VIDEO_CSV}


def read_results(out_dir: str | Path) -> tuple[dict[str, Any], Evaluation]:
    """Read ``results.json`` and ``per_video.csv`` back; :class:`EvaluatorError` on a wrong schema."""
    out = Path(out_dir)
    path = out / RESULTS_JSON
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise EvaluatorError(f"could not read {str(path)!r}: {exc}; expected the output of `motive-bench evaluate`.") from exc
    if data.get("schema") != SCHEMA or data.get("version") != VERSION:
        raise EvaluatorError(
            f"{str(path)!r} has schema {data.get('schema')!r} version {data.get('version')!r}; expected "
            f"{SCHEMA!r} version {VERSION}. Re-run `motive-bench evaluate` with this version."
        )
    per_video = pd.read_csv(out / PER_VIDEO_CSV, keep_default_na=True)
    missing = [c for c in TIDY_COLUMNS if c not in per_video.columns]
    if missing:
        raise EvaluatorError(f"{str(out / PER_VIDEO_CSV)!r} lacks columns {missing}; expected {TIDY_COLUMNS}.")
    return data, Evaluation(per_video, aggregate(per_video), data.get("prompts", {}))
