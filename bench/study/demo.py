"""The demo study: the synthetic world's ``plausible`` and ``violating`` renderings as two "models".

For each chosen test prompt (:func:`bench.world.load_test_prompts`, ``per_category`` per motion
category) the same appearance and physical parameters are rendered twice, once with correct physics
and once with the world's cartoon kinematics (hovering before a fall, bounces that gain height, …),
into ``<out>/videos/plausible/`` and ``<out>/videos/violating/``; the study in ``<out>`` then pairs
``plausible:violating``. It needs no model, and a rater who prefers cartoon physics stands out at once
in the tally. Files are named ``<prompt_id>-0.mp4``: seed 0 stands for "the one rendering", since the
world draws a prompt's physical parameters from the prompt's own seed. Clips keep the world's native
size (32 x 32 by default); the page scales them up with ``image-rendering: pixelated``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from bench.errors import StudyError
from bench.study.create import create_study
from bench.study.plan import DEFAULT_QUESTION, StudyPlan
from bench.study.tokens import StudySecrets

DEMO_MODELS = ("plausible", "violating")


def render_demo_videos(out: str | Path, per_category: int = 1, progress: bool = True) -> Path:
    """Write ``out/<label>/<prompt_id>-0.mp4`` for both labels and the chosen test prompts; returns ``out``."""
    from bench.videoio import write_mp4
    from bench.world import WorldConfig, load_test_prompts, make_spec, render

    prompts = load_test_prompts()
    per_max = max(sum(p.category == c for p in prompts) for c in {p.category for p in prompts})
    if not 1 <= per_category <= per_max:
        raise StudyError(f"--per-category {per_category} is out of range; the world has 1 to {per_max} test prompts per category")
    seen: dict[str, int] = {}
    chosen = []
    for p in prompts:
        if seen.get(p.category, 0) < per_category:
            seen[p.category] = seen.get(p.category, 0) + 1
            chosen.append(p)
    config = WorldConfig()
    out = Path(out)
    jobs = [(p, label) for p in chosen for label in DEMO_MODELS]
    if progress:
        from tqdm.auto import tqdm

        jobs = tqdm(jobs, desc="demo clips", unit="clip")
    for p, label in jobs:
        spec = make_spec(f"demo-{p.prompt_id}-{label}", p.category, label, p.appearance, p.seed, config)
        write_mp4(out / label / f"{p.prompt_id}-0.mp4", render(spec, config), config.fps)
    return out


def create_demo(
    out: str | Path,
    per_category: int = 1,
    raters: int | Sequence[str] = 3,
    *,
    seed: int = 0,
    n_repeat: int = 2,
    n_identical: int = 2,
    question: str = DEFAULT_QUESTION,
    progress: bool = True,
) -> tuple[StudyPlan, StudySecrets]:
    """Render the demo clips into ``out/videos`` and create the study in ``out`` (plausible as model A)."""
    out = Path(out)
    if (out / "plan.json").exists():
        raise StudyError(f"{str(out)!r} already holds a study; choose another --out directory")
    videos = render_demo_videos(out / "videos", per_category, progress)
    return create_study(
        out, [videos], raters, pairings=[f"{DEMO_MODELS[0]}:{DEMO_MODELS[1]}"], seed=seed,
        n_repeat=n_repeat, n_identical=n_identical, question=question, study="demo-plausible-vs-violating",
    )
