"""Captions of the synthetic world: one template, a small closed vocabulary.

Template: ``"a {size} {colour} [{texture}] {shape} {verb} on a {background} {background_colour} background"``
(the texture word is left out for a ``plain`` object), e.g. ``"a small red striped ball bounces on a
plain gray background"``. Test prompts add ``", " + cue`` naming the physical cue of the category
(``"..., each bounce lower than the last"``). Captions depend on the category and the appearance only,
never on the label: a static clip captioned "bounces" is exactly the bad training data curation must find.
"""

from __future__ import annotations

import re

from bench.world.spec import (
    BACKGROUND_COLOURS,
    BACKGROUNDS,
    CATEGORIES,
    COLOURS,
    SHAPES,
    SIZES,
    TEXTURES,
    Appearance,
    check_category,
)

VERBS: dict[str, str] = {
    "bounce": "bounces",
    "compress": "squashes",
    "explode": "explodes",
    "float": "floats",
    "free_fall": "falls",
    "roll": "rolls",
    "slide": "slides",
    "spin": "spins",
    "stretch": "stretches",
    "swing": "swings",
}

# The clause a test prompt adds, naming what plausible physics looks like for the category.
CUES: dict[str, str] = {
    "bounce": "each bounce lower than the last",
    "compress": "getting wider as it gets shorter",
    "explode": "pieces flying outward and falling down",
    "float": "bobbing on the water as it settles",
    "free_fall": "falling faster and faster",
    "roll": "turning as it moves along the ground",
    "slide": "slowing down to a stop",
    "spin": "turning slower and slower",
    "stretch": "getting thinner as it gets longer",
    "swing": "on a string, fastest at the bottom",
}

_TEMPLATE_WORDS = ("a", "on", "background")


def caption(category: str, appearance: Appearance) -> str:
    """The caption of a clip of ``category`` with ``appearance`` (label-free by construction)."""
    check_category(category)
    a = appearance
    texture = "" if a.texture == "plain" else f" {a.texture}"
    return (
        f"a {a.size} {a.colour}{texture} {a.shape} {VERBS[category]} "
        f"on a {a.background} {a.background_colour} background"
    )


def prompt_text(category: str, appearance: Appearance) -> str:
    """A test prompt: the caption plus the category's physical cue clause."""
    return f"{caption(category, appearance)}, {CUES[category]}"


def words(text: str) -> list[str]:
    """Lower-case word tokens of a caption or prompt (punctuation dropped), in order."""
    return re.findall(r"[a-z]+", text.lower())


def vocabulary() -> list[str]:
    """Every word any caption or test prompt can contain, sorted (the tiny text encoder is built over it)."""
    vocab: set[str] = set(_TEMPLATE_WORDS)
    for group in (SHAPES, tuple(COLOURS), tuple(SIZES), TEXTURES, BACKGROUNDS, tuple(BACKGROUND_COLOURS)):
        vocab.update(group)
    for category in CATEGORIES:
        vocab.update(words(VERBS[category]))
        vocab.update(words(CUES[category]))
    return sorted(vocab)
