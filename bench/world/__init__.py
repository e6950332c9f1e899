"""The synthetic physics world: a deterministic procedural renderer that is both data set and ground truth.

Ten motion categories x four labels (``plausible``, ``violating``, ``static``, ``camera_only``), one
caption template, three disjoint versioned sets (corpus, queries, test prompts) and world constants for
the physics scorer. Modules: :mod:`.spec` (what a clip is), :mod:`.physics` (constants, parameter
draws), :mod:`.motion` (per-frame kinematics), :mod:`.raster` (render, render_many, to_tensor,
object_coverage), :mod:`.captions`, :mod:`.sets`, :mod:`.export` (mp4 + metadata CSV).
"""

from bench.world.captions import CUES, VERBS, caption, prompt_text, vocabulary, words
from bench.world.physics import world_constants
from bench.world.raster import object_coverage, render, render_many, to_tensor
from bench.world.sets import (
    DEFAULT_MIX,
    TestPrompt,
    build_corpus,
    build_queries,
    load_test_prompts,
    make_spec,
    validation_prompts,
)
from bench.world.spec import (
    CATEGORIES,
    LABELS,
    WORLD_VERSION,
    Appearance,
    ClipSpec,
    WorldConfig,
    check_category,
    check_label,
)

__all__ = [
    "CATEGORIES", "CUES", "DEFAULT_MIX", "LABELS", "VERBS", "WORLD_VERSION", "Appearance", "ClipSpec",
    "TestPrompt", "WorldConfig", "build_corpus", "build_queries", "caption", "check_category", "check_label",
    "load_test_prompts", "make_spec", "object_coverage", "prompt_text", "render", "render_many", "to_tensor", "validation_prompts",
    "vocabulary", "world_constants", "words",
]
