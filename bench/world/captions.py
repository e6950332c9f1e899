"""Captions of the synthetic world: one template, a small closed vocabulary.

Template: ``"a {size} {colour} [{texture}] {shape} {verb} {place} on a {background} {background_colour}
background"`` (the texture word is left out for a ``plain`` object; ``place`` is where the object starts, one of
:data:`PLACES`, the fifth of the frame width holding its centre in frame 0), e.g. ``"a small red striped ball
bounces at the left on a plain gray background"``. Test prompts add ``", " + cue`` naming the physical cue of the category
(``"..., each bounce lower than the last"``). Captions depend on the category and the appearance only,
never on the label: a static clip captioned "bounces" is exactly the bad training data curation must find.
"""

from __future__ import annotations

import re

from bench.errors import WorldError

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

# Where the object starts (world-v3): naming it pins down what a generator would otherwise have to sample,
# so a small model spreads its bets less (an object drawn twice, at two candidate places).
PLACES: tuple[str, ...] = ("at the far left", "at the left", "in the middle", "at the right", "at the far right")

_TEMPLATE_WORDS = ("a", "on", "background")


def start_place(x: float, aspect: float = 1.0) -> str:
    """The :data:`PLACES` entry for an object whose centre starts ``x`` scene heights from the left edge."""
    n = len(PLACES)
    return PLACES[min(n - 1, max(0, int(n * x / aspect)))]


def caption(category: str, appearance: Appearance, place: str) -> str:
    """The caption of a clip of ``category`` with ``appearance`` starting at ``place`` (label-free by construction)."""
    check_category(category)
    if place not in PLACES:
        raise WorldError(f"unknown start place {place!r}; expected one of {', '.join(map(repr, PLACES))}.")
    a = appearance
    texture = "" if a.texture == "plain" else f" {a.texture}"
    return (
        f"a {a.size} {a.colour}{texture} {a.shape} {VERBS[category]} {place} "
        f"on a {a.background} {a.background_colour} background"
    )


def prompt_text(category: str, appearance: Appearance, place: str) -> str:
    """A test prompt: the caption plus the category's physical cue clause."""
    return f"{caption(category, appearance, place)}, {CUES[category]}"


def without_place(text: str) -> str:
    """``text`` with its start-place phrase (one of :data:`PLACES`) taken out, or ``text`` itself when it names
    none: ``"a red ball rolls at the left on a ..."`` -> ``"a red ball rolls on a ..."``. The tiny sampler's
    place guidance contrasts a prompt with this (:mod:`bench.backends.tiny.sampler`)."""
    for place in sorted(PLACES, key=len, reverse=True):  # "at the far left" before "at the left"
        phrase = f" {place} "
        if phrase in text:
            return text.replace(phrase, " ", 1)
    return text


def words(text: str) -> list[str]:
    """Lower-case word tokens of a caption or prompt (punctuation dropped), in order."""
    return re.findall(r"[a-z]+", text.lower())


def vocabulary() -> list[str]:
    """Every word any caption or test prompt can contain, sorted (the tiny text encoder is built over it)."""
    vocab: set[str] = set(_TEMPLATE_WORDS)
    for place in PLACES:
        vocab.update(words(place))
    for group in (SHAPES, tuple(COLOURS), tuple(SIZES), TEXTURES, BACKGROUNDS, tuple(BACKGROUND_COLOURS)):
        vocab.update(group)
    for category in CATEGORIES:
        vocab.update(words(VERBS[category]))
        vocab.update(words(CUES[category]))
    return sorted(vocab)
