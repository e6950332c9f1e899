"""The world's three disjoint, versioned sets: the fine-tuning corpus, the query set, the test prompts.

* :func:`build_corpus` – ``n`` clips with a configurable label mix, balanced over categories within each
  label (largest-remainder rounding), in a seeded shuffled order; ids ``corpus-00000`` ...
* :func:`build_queries` – 10 categories x 5 ``plausible`` clips; ids ``query-bounce-0`` ...
* :func:`load_test_prompts` – 50 prompts (10 x 5) shipped as ``bench/world/data/test_prompts.json``,
  read through importlib.resources and checked against the pinned :data:`TEST_PROMPTS_SHA256`.

Disjointness (checked by the tests): test prompts use a plain background (as in the paper) and
appearances no query uses in any category; the corpus never uses a (category, appearance) pair of a
query or a test prompt; ids and seeds never repeat across sets. Every draw comes from
``derive_seed(config.seed, WORLD_VERSION, set, index, ...)``; the test prompts from seed 0 and the
fixed :data:`PROMPTS_VERSION`.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from importlib import resources
from typing import Any, Mapping

import numpy as np

from bench.errors import WorldError
from bench.world.captions import start_place
from bench.world.motion import motion
from bench.world.physics import sample_params
from bench.world.spec import (
    BACKGROUND_COLOURS,
    CATEGORIES,
    CATEGORY_SHAPES,
    CATEGORY_TEXTURES,
    COLOURS,
    LABEL_BACKGROUNDS,
    LABELS,
    SIZES,
    WORLD_VERSION,
    Appearance,
    ClipSpec,
    WorldConfig,
    check_appearance_fits,
    check_category,
)
from curation.seeds import derive_seed, numpy_rng

DEFAULT_MIX: dict[str, float] = {"plausible": 0.5, "violating": 0.25, "static": 0.125, "camera_only": 0.125}
QUERIES_PER_CATEGORY = 5
PROMPTS_PER_CATEGORY = 5
TEST_PROMPTS_RESOURCE = "test_prompts.json"
# The test prompts were drawn under world-v1 and their seeds and appearances stay fixed across world versions
# (a benchmark set must not move): their seeds and the file's version field use this name, not WORLD_VERSION.
# Their captions follow the caption template, so world-v3 (which added the start place, computed at the
# default WorldConfig) regenerated the file and its pinned SHA-256.
PROMPTS_VERSION = "world-v1"
TEST_PROMPTS_SHA256 = "c0070e76dde0b132256e785419f059d0cdb46f93e8a8d7b77c071e60b9425267"


def sample_appearance(
    category: str, label: str, rng: np.random.Generator, background: str | None = None
) -> Appearance:
    """Draw an appearance that can show ``category``/``label`` (see :func:`check_appearance_fits`)."""
    def pick(options):
        return str(options[int(rng.integers(len(options)))])

    return Appearance(
        shape=pick(CATEGORY_SHAPES[category]),
        colour=pick(tuple(COLOURS)),
        size=pick(tuple(SIZES)),
        texture=pick(CATEGORY_TEXTURES[category]),
        background=background or pick(LABEL_BACKGROUNDS[label]),
        background_colour=pick(tuple(BACKGROUND_COLOURS)),
    )


def make_spec(
    clip_id: str, category: str, label: str, appearance: Appearance, seed: int, config: WorldConfig
) -> ClipSpec:
    """A :class:`ClipSpec` whose physical parameters are drawn from ``seed`` (so the spec is a function of it)."""
    check_appearance_fits(category, label, appearance)
    params = sample_params(category, label, appearance, numpy_rng(seed, "params"), config.aspect)
    spec = ClipSpec(clip_id, category, label, appearance, int(seed), params)
    m = motion(spec, config.frames, config.aspect)
    return replace(spec, params={**params, "place": start_place(float(m.cx[0] - m.cam[0, 0]), config.aspect)})


def _draw_unreserved(category, label, seed, reserved, background=None) -> Appearance:
    for attempt in range(1000):
        a = sample_appearance(category, label, numpy_rng(seed, "appearance", attempt), background)
        if (category, a.key()) not in reserved and a.key() not in reserved:
            return a
    raise AssertionError("appearance space exhausted")  # internal: the space has thousands of entries


def label_counts(n: int, mix: Mapping[str, float]) -> dict[str, int]:
    """Clips per label for ``n`` clips and fractions ``mix`` (largest-remainder rounding, sums to ``n``)."""
    unknown = [k for k in mix if k not in LABELS]
    if unknown:
        raise WorldError(f"unknown label(s) {unknown} in the label mix; expected keys among {', '.join(LABELS)}.")
    values = {k: float(v) for k, v in mix.items()}
    total = sum(values.values())
    if any(v < 0 for v in values.values()) or not abs(total - 1.0) < 1e-6:
        raise WorldError(
            f"label mix {dict(mix)} must have non-negative fractions summing to 1 (got sum {total:.4g}); "
            f"e.g. {DEFAULT_MIX}."
        )
    if not isinstance(n, int) or n < 1:
        raise WorldError(f"corpus size {n!r} must be a positive int.")
    exact = {k: n * v for k, v in values.items()}
    counts = {k: int(np.floor(v)) for k, v in exact.items()}
    for k in sorted(exact, key=lambda k: (-(exact[k] - counts[k]), LABELS.index(k)))[: n - sum(counts.values())]:
        counts[k] += 1
    return {k: counts.get(k, 0) for k in LABELS}


def _reserved_keys(config: WorldConfig) -> set:
    reserved: set = set()
    for spec in build_queries(config):
        reserved.add((spec.category, spec.appearance.key()))
    for prompt in load_test_prompts():
        reserved.add((prompt.category, prompt.appearance.key()))
    return reserved


def build_corpus(config: WorldConfig, n: int = 2000, mix: Mapping[str, float] | None = None) -> list[ClipSpec]:
    """The fine-tuning corpus: ``n`` clips, labels by ``mix``, categories balanced within each label.

    Clip ``i`` (after a seeded shuffle) has id ``corpus-{i:05d}`` and seed
    ``derive_seed(config.seed, WORLD_VERSION, "corpus", i)``. No (category, appearance) pair of a
    query or a test prompt is used.
    """
    counts = label_counts(n, DEFAULT_MIX if mix is None else mix)
    plan: list[tuple[str, str]] = []
    for label in LABELS:
        offset = int(numpy_rng(config.seed, WORLD_VERSION, "corpus", "offset", label).integers(len(CATEGORIES)))
        plan += [(CATEGORIES[(j + offset) % len(CATEGORIES)], label) for j in range(counts[label])]
    order = numpy_rng(config.seed, WORLD_VERSION, "corpus", "order", n).permutation(len(plan))
    reserved = _reserved_keys(config)
    specs = []
    for i, idx in enumerate(order):
        category, label = plan[idx]
        seed = derive_seed(config.seed, WORLD_VERSION, "corpus", i)
        appearance = _draw_unreserved(category, label, seed, reserved)
        specs.append(make_spec(f"corpus-{i:05d}", category, label, appearance, seed, config))
    return specs


def build_queries(config: WorldConfig) -> list[ClipSpec]:
    """The query set: 5 plausible clips per category, distinct appearances, none a test prompt's."""
    test_keys = {p.appearance.key() for p in load_test_prompts()}
    specs = []
    for category in CATEGORIES:
        used: set = set(test_keys)
        for j in range(QUERIES_PER_CATEGORY):
            seed = derive_seed(config.seed, WORLD_VERSION, "query", category, j)
            appearance = _draw_unreserved(category, "plausible", seed, used)
            used.add(appearance.key())
            specs.append(make_spec(f"query-{category}-{j}", category, "plausible", appearance, seed, config))
    return specs


@dataclass(frozen=True)
class TestPrompt:
    """One of the 50 test prompts: a caption plus the category's cue clause, with its own seed."""

    __test__ = False  # not a pytest class

    prompt_id: str
    category: str
    caption: str
    seed: int
    appearance: Appearance

    def to_spec(self, config: WorldConfig) -> ClipSpec:
        """A plausible reference clip for this prompt (same appearance, parameters from its seed)."""
        return make_spec(f"test-{self.prompt_id}", self.category, "plausible", self.appearance, self.seed, config)

    def to_dict(self) -> dict[str, Any]:
        return {
            "prompt_id": self.prompt_id,
            "category": self.category,
            "caption": self.caption,
            "seed": self.seed,
            "appearance": dict(zip(("shape", "colour", "size", "texture", "background", "background_colour"),
                                   self.appearance.key())),
        }


def generate_test_prompts() -> list[TestPrompt]:
    """The recipe of the shipped test prompts (seed 0, plain backgrounds, distinct appearances)."""
    prompts, used = [], set()
    for category in CATEGORIES:
        for j in range(PROMPTS_PER_CATEGORY):
            seed = derive_seed(0, PROMPTS_VERSION, "test_prompt", category, j)
            a = _draw_unreserved(category, "plausible", seed, used, background="plain")
            used.add(a.key())
            spec = make_spec(f"test-{category}-{j:02d}", category, "plausible", a, seed, WorldConfig())
            prompts.append(TestPrompt(f"{category}-{j:02d}", category, spec.prompt, seed, a))
    return prompts


def validation_prompts(config: WorldConfig | None = None) -> list[TestPrompt]:
    """Prompts to pick sampler settings on, never the 50 test prompts: the query set's appearances on a plain
    background (as every test prompt's is), captioned as a test prompt is and seeded by their query seed; an
    appearance that would then equal a test prompt's is left out (44 of the 50 remain in world-v3)."""
    config = config or WorldConfig()
    test_keys = {p.appearance.key() for p in load_test_prompts()}
    out = []
    for q in build_queries(config):
        a = replace(q.appearance, background="plain")
        if a.key() not in test_keys:
            spec = make_spec(q.clip_id, q.category, "plausible", a, q.seed, config)
            out.append(TestPrompt(f"val-{q.clip_id}", q.category, spec.prompt, q.seed, a))
    return out


def prompts_file_text(prompts: list[TestPrompt]) -> str:
    """The canonical file text of a prompt list (what the pinned hash is taken over)."""
    body = {"world_version": PROMPTS_VERSION, "prompts": [p.to_dict() for p in prompts]}
    return json.dumps(body, indent=1, sort_keys=True) + "\n"


def load_test_prompts() -> list[TestPrompt]:
    """Read the shipped 50 test prompts; raises :class:`WorldError` if the file's SHA-256 is not the pinned one."""
    raw = resources.files("bench.world.data").joinpath(TEST_PROMPTS_RESOURCE).read_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    if digest != TEST_PROMPTS_SHA256:
        raise WorldError(
            f"bench/world/data/{TEST_PROMPTS_RESOURCE} has SHA-256 {digest}, expected the pinned "
            f"{TEST_PROMPTS_SHA256}. The test prompts are a fixed benchmark set: restore the file "
            "(git checkout) or, for a new world version, regenerate it and update TEST_PROMPTS_SHA256."
        )
    body = json.loads(raw)
    out = []
    for row in body["prompts"]:
        a = Appearance(**row["appearance"])
        out.append(TestPrompt(row["prompt_id"], check_category(row["category"]), row["caption"], int(row["seed"]), a))
    return out
