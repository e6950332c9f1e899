"""Selection quality against the world's hidden labels, the spread over seeds, and the curate report.

This is the only place the labels are read, after every selection is made. Metrics per seed and method
(``quality.csv``, one row per seed x method x metric x category):

* ``plausible_share``: share of plausible clips in the selection, overall (``category="all"``) and within
  each category's selected clips (higher is better; the corpus base rate is the ``full`` method's value);
* ``drop_precision_<L>`` / ``drop_recall_<L>`` for ``L`` in violating, static, camera_only and
  ``not_plausible`` (their union): of the clips a method drops, the share with label ``L``; of the clips
  with label ``L``, the share dropped (higher is better for ``not_plausible``; the per-label precisions
  sum over labels to the union's);
* ``selected_<L>``: count of label ``L`` in the selection; ``mean_magnitude``: mean raw flow magnitude of
  the selection (px/frame; the paper notes Motive does not simply pick more motion).

Spread over seeds: ``summary.csv`` holds mean, std, min, max. Verdict: Motive beats a baseline "by more
than the spread" when its mean plausible share exceeds the baseline's by more than the larger of the
two methods' ranges (max - min) over the seeds.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd

BAD_LABELS = ("violating", "static", "camera_only")
METHOD_ORDER = ("motive", "whole_video", "motion_magnitude", "random", "full")
HIGHER_IS_BETTER = {"plausible_share": True, "drop_precision_not_plausible": True,
                    "drop_recall_not_plausible": True, "mean_magnitude": None}
TARGET_SHARE = 0.95


def evaluate_seed(selections: Mapping[str, Any], data, masks: pd.DataFrame, seed: int) -> list[dict[str, Any]]:
    """Quality rows for one seed's selections (``data`` is a :class:`bench.curate.SeedData`)."""
    labels = np.array([data.labels[c] for c in data.clip_ids])
    cats = np.array(data.categories)
    mag = masks.raw_magnitude.to_numpy()
    rows: list[dict[str, Any]] = []

    def add(method: str, metric: str, value: float, category: str = "all") -> None:
        rows.append({"seed": seed, "method": method, "metric": metric, "category": category,
                     "value": float(value) if value is not None else np.nan})

    for method, sel in selections.items():
        chosen = np.zeros(len(labels), bool)
        chosen[sel.selected] = True
        add(method, "plausible_share", (labels[chosen] == "plausible").mean())
        for c in sorted(set(cats)):
            m = chosen & (cats == c)
            add(method, "plausible_share", (labels[m] == "plausible").mean() if m.any() else np.nan, c)
        dropped = ~chosen
        for lab in BAD_LABELS + ("not_plausible",):
            is_l = labels != "plausible" if lab == "not_plausible" else labels == lab
            add(method, f"drop_precision_{lab}", (is_l & dropped).sum() / dropped.sum() if dropped.any() else np.nan)
            add(method, f"drop_recall_{lab}", (is_l & dropped).sum() / is_l.sum() if is_l.any() else np.nan)
        for lab in ("plausible",) + BAD_LABELS:
            add(method, f"selected_{lab}", (labels[chosen] == lab).sum())
        add(method, "mean_magnitude", mag[chosen].mean())
    return rows


def flag_quality(masks: pd.DataFrame, data) -> dict[str, Any]:
    """How the camera-only flag and the all-zero masks line up with the hidden labels (one seed)."""
    labels = np.array([data.labels[c] for c in masks.clip_id])
    flag, zero = masks.camera_only.to_numpy(bool), masks.zero_mask.to_numpy(bool)
    cam = labels == "camera_only"
    return {"camera_flagged": int(flag.sum()), "camera_only_clips": int(cam.sum()),
            "camera_flag_precision": float((flag & cam).sum() / flag.sum()) if flag.any() else None,
            "camera_flag_recall": float((flag & cam).sum() / cam.sum()) if cam.any() else None,
            "zero_masks_by_label": {lab: int((zero & (labels == lab)).sum()) for lab in sorted(set(labels))}}


def summarise(quality: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Mean/std/min/max over seeds per (method, metric, category), and the verdicts on the targets."""
    summary = (quality.groupby(["method", "metric", "category"], sort=False)["value"]
               .agg(["mean", "std", "min", "max", "count"]).reset_index())
    overall = quality[(quality.metric == "plausible_share") & (quality.category == "all")]
    per = {m: overall[overall.method == m].sort_values("seed").value.to_numpy() for m in overall.method.unique()}
    verdicts: dict[str, Any] = {"target_share": TARGET_SHARE, "definition":
                                "beats X when mean(motive) - mean(X) > max(range(motive), range(X)) over seeds"}
    if "motive" in per:
        mo = per["motive"]
        verdicts["motive_share_mean"] = float(mo.mean())
        verdicts["motive_share_min"] = float(mo.min())
        verdicts["meets_target"] = bool(round(float(mo.mean()), 9) >= TARGET_SHARE)  # shares are k/n: no float misses
        for base in ("random", "motion_magnitude", "whole_video"):
            if base in per:
                b = per[base]
                spread = float(max(np.ptp(mo), np.ptp(b)))
                diff = float(mo.mean() - b.mean())
                verdicts[f"vs_{base}"] = {"difference": diff, "spread": spread, "beats": bool(diff > spread)}
    return summary, verdicts


def _plot(summary: pd.DataFrame, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    methods = [m for m in METHOD_ORDER if m in set(summary.method)]
    colours = dict(zip(METHOD_ORDER, ["tab:red", "tab:blue", "tab:orange", "tab:gray", "k"]))
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.6), gridspec_kw={"width_ratios": [1, 2.6]})
    ov = summary[(summary.metric == "plausible_share") & (summary.category == "all")].set_index("method")
    means = [ov.loc[m, "mean"] for m in methods]
    err = [[ov.loc[m, "mean"] - ov.loc[m, "min"] for m in methods], [ov.loc[m, "max"] - ov.loc[m, "mean"] for m in methods]]
    axes[0].bar(methods, means, yerr=err, capsize=4, color=[colours[m] for m in methods])
    axes[0].axhline(TARGET_SHARE, ls=":", color="tab:red", lw=0.8)
    axes[0].set_ylabel("plausible share of selection")
    axes[0].set_ylim(0, 1.05)
    axes[0].tick_params(axis="x", rotation=30)
    axes[0].set_title("overall (bars: mean; whiskers: min-max over seeds)", fontsize=8)
    pc = summary[(summary.metric == "plausible_share") & (summary.category != "all")]
    cats = sorted(pc.category.unique())
    width = 0.8 / max(1, len(methods))
    for j, m in enumerate(methods):
        sub = pc[pc.method == m].set_index("category")
        axes[1].bar(np.arange(len(cats)) + j * width, [sub["mean"].get(c, np.nan) for c in cats], width, label=m,
                    color=colours[m])
    axes[1].set_xticks(np.arange(len(cats)) + 0.4 - width / 2, cats, rotation=30, fontsize=8)
    axes[1].set_ylim(0, 1.05)
    axes[1].set_title("per category: plausible share of the selected clips of that category (mean over seeds; "
                      "few clips per bar)", fontsize=8)
    axes[1].legend(fontsize=7, ncol=5, loc="upper center", bbox_to_anchor=(0.5, -0.22))
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)


def write_report(out: Path, config: dict[str, Any], quality: pd.DataFrame, summary: pd.DataFrame,
                 verdicts: dict[str, Any], info: dict[Any, Any], elapsed_s: float, model_hash: str) -> dict[str, Any]:
    """Write ``quality.csv``, ``summary.csv``, ``curate.json`` and ``quality.png``; print the table."""
    quality.to_csv(out / "quality.csv", index=False, float_format="%.5f")
    summary.to_csv(out / "summary.csv", index=False, float_format="%.5f")
    _plot(summary, out / "quality.png")
    table = summary[summary.category == "all"].pivot(index="method", columns="metric", values="mean")
    cols = ["plausible_share", "drop_precision_not_plausible", "drop_recall_not_plausible",
            "selected_camera_only", "selected_static", "selected_violating", "mean_magnitude"]
    table = table.reindex([m for m in METHOD_ORDER if m in table.index])[[c for c in cols if c in table.columns]]
    spread = summary[(summary.metric == "plausible_share") & (summary.category == "all")].set_index("method")
    table.insert(1, "share_min", spread["min"])
    table.insert(2, "share_max", spread["max"])
    print(table.round(3).to_string())
    print(json.dumps(verdicts, indent=1))
    doc = {"schema": "motive-bench/curate", "version": 1, "config": config, "model_hash": model_hash,
           "metrics": {m: {"higher_is_better": HIGHER_IS_BETTER.get(m, None if m.startswith("selected_") else True)}
                       for m in sorted(quality.metric.unique())},
           "overall": {m: {metric: {k: (None if pd.isna(v) else float(v)) for k, v in row.items()}
                           for metric, row in summary[(summary.method == m) & (summary.category == "all")]
                           .set_index("metric")[["mean", "std", "min", "max"]].iterrows()}
                       for m in summary.method.unique()},
           "verdicts": verdicts, "per_seed": {str(k): v for k, v in info.items()}, "elapsed_s": elapsed_s}
    (out / "curate.json").write_text(json.dumps(doc, indent=2, default=float) + "\n")
    return doc
