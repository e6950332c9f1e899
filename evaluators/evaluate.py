"""``evaluate(...)``: every registered metric on a folder (or list) of videos, as a tidy table.

Rows are ``(video, prompt, model, seed, metric, value, status)``: one per video x metric, plus one per
video x metric extra (named ``<metric>.<extra>``, e.g. ``dynamic_degree.magnitude_mean``). ``status``
is ``ok`` or ``unreadable: <reason>`` (the video's values are NaN and the run goes on) or
``error: <reason>`` for a metric that failed on a readable video. Aggregates are per model x metric
(means of the finite per-video values; for dynamic degree that is the fraction of dynamic videos).

The physics scorer needs the motion category: taken from ``categories[prompt_id]`` when given, else
from the prompt id's prefix when it names a physics category (``free_fall-02`` -> ``free_fall``);
videos with no known category get NaN for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from evaluators.errors import VideoReadError
from evaluators.io import read_video
from evaluators.metrics import get_metric, higher_is_better, metric_names
from evaluators.metrics.base import VideoInput
from evaluators.naming import collect_videos
from evaluators.physics import category_of

TIDY_COLUMNS = ["video", "prompt", "model", "seed", "metric", "value", "status"]


@dataclass
class Evaluation:
    """The tidy per-video table, the per-model aggregates, and the prompts' texts."""

    per_video: pd.DataFrame
    aggregates: pd.DataFrame
    prompts: dict[str, str]


def aggregate(per_video: pd.DataFrame) -> pd.DataFrame:
    """Per model x metric: mean of finite values, number of videos, and ``higher_is_better``."""
    ok = per_video[np.isfinite(per_video["value"].astype(float))]
    agg = ok.groupby(["model", "metric"], sort=True)["value"].agg(value="mean", n="count").reset_index()
    agg["higher_is_better"] = [higher_is_better(m) if m in metric_names() else None for m in agg["metric"]]
    return agg


def evaluate(source: str | Path | Iterable[str | Path], prompts: Mapping[str, str] | None = None,
             metrics: Iterable[str] | None = None, flow: str = "dis", model: str | None = None,
             categories: Mapping[str, str] | None = None, constants: Mapping[str, Any] | None = None,
             progress: bool = True) -> Evaluation:
    """Score every video of ``source`` with ``metrics`` (default: all registered).

    ``source``: a folder of ``<prompt_id>-<seed>.mp4`` files, a folder of model folders, or a list of
    files (see :func:`evaluators.naming.collect_videos`). ``prompts``: prompt id -> text (kept with the
    results). ``constants``: world constants passed to the physics scorer.
    """
    names = list(metrics) if metrics is not None else metric_names()
    scorers = [get_metric(n, flow=flow) for n in names]  # unknown names fail here, before any decoding
    table = collect_videos(source, model=model)
    rows: list[dict[str, Any]] = []
    for rec in tqdm(table.itertuples(index=False), total=len(table), desc="evaluate", disable=not progress):
        base = {"video": rec.path, "prompt": rec.prompt, "model": rec.model, "seed": rec.seed}
        try:
            v = read_video(rec.path)
        except VideoReadError as exc:
            rows += [{**base, "metric": n, "value": float("nan"), "status": f"unreadable: {exc}"} for n in names]
            continue
        cat = (categories or {}).get(rec.prompt) or category_of(rec.prompt)
        video = VideoInput(v.frames, v.fps, category=cat, constants=constants)
        for scorer in scorers:
            try:
                s = scorer.score(video)
            except (ValueError, np.linalg.LinAlgError) as exc:
                rows.append({**base, "metric": scorer.name, "value": float("nan"), "status": f"error: {exc}"})
                continue
            rows.append({**base, "metric": scorer.name, "value": float(s.value), "status": "ok"})
            rows += [{**base, "metric": f"{scorer.name}.{k}", "value": float(x), "status": "ok"} for k, x in s.extras.items()]
    per_video = pd.DataFrame(rows, columns=TIDY_COLUMNS)
    return Evaluation(per_video, aggregate(per_video), dict(prompts or {}))
