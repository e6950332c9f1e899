"""Creating a study directory: find the videos, build the plan, mint the tokens, write the manifest.

Layout of a study directory: ``plan.json`` (:mod:`bench.study.plan`), ``secrets.json``
(:mod:`bench.study.tokens`, mode 0600), ``manifest.json`` (:mod:`bench.manifest`) and, once served,
``votes.sqlite`` (:mod:`bench.study.storage`). A directory that already holds a plan is refused, so
votes are never orphaned by a new plan. Model folders inside the study directory (the demo's) are
recorded relative to it, so such a study can be moved or copied whole; others are recorded absolute.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from bench.errors import StudyError
from bench.manifest import build_manifest, write_manifest
from bench.study.plan import DEFAULT_QUESTION, StudyPlan, build_plan, write_plan
from bench.study.sources import index_videos, resolve_model_folders
from bench.study.tokens import StudySecrets, new_secrets, write_secrets


def create_study(
    out: str | Path,
    sources: Sequence[str | Path],
    raters: int | Sequence[str] = 17,
    *,
    pairings: Sequence[str] | None = None,
    seed: int = 0,
    n_repeat: int = 2,
    n_identical: int = 2,
    question: str = DEFAULT_QUESTION,
    study: str | None = None,
) -> tuple[StudyPlan, StudySecrets]:
    """Create the study directory ``out`` from video folders ``sources`` (``DIR``, ``NAME=DIR`` or a run dir).

    The default of 17 raters is the paper's study size. Returns the plan and its secrets.
    """
    out = Path(out)
    if (out / "plan.json").exists():
        raise StudyError(
            f"{str(out)!r} already holds a study (plan.json); its votes would no longer match a new plan. "
            "Choose another --out directory, or delete that study first."
        )
    models = resolve_model_folders(sources)
    videos = index_videos(models)
    plan = build_plan(
        videos, models, raters, pairings=pairings, seed=seed, n_repeat=n_repeat, n_identical=n_identical,
        question=question, study=study or out.resolve().name,
    )
    out.mkdir(parents=True, exist_ok=True)
    for model, folder in plan.models.items():  # videos inside the study directory move with it
        if Path(folder).is_relative_to(out.resolve()):
            plan.models[model] = str(Path(folder).relative_to(out.resolve()))
    plan.root = out.resolve()
    study_secrets = new_secrets(list(plan.raters))
    write_secrets(study_secrets, out)
    plan_path = write_plan(plan, out)
    manifest = build_manifest(
        "study",
        config={"sources": [str(s) for s in sources], "models": plan.models, "pairings": plan.pairings,
                "raters": list(plan.raters), "checks": plan.checks, "question": plan.question},
        seeds={"study": plan.seed},
        inputs={"plan": plan_path},
        extra={"items_per_rater": {r: len(v) for r, v in plan.raters.items()},
               "videos_per_model": {m: len(v) for m, v in plan.videos.items()}},
    )
    write_manifest(out, manifest)
    return plan, study_secrets


def links(study_secrets: StudySecrets, base_url: str) -> dict[str, str]:
    """``{"admin": url, rater: url, ...}`` under ``base_url`` (e.g. ``http://127.0.0.1:8000``)."""
    base = base_url.rstrip("/")
    out = {"admin": f"{base}/admin/{study_secrets.admin}"}
    out.update({r: f"{base}/r/{tok}" for r, tok in study_secrets.raters.items()})
    return out
