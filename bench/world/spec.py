"""What a clip of the synthetic physics world is: categories, labels, appearance, ``ClipSpec``, ``WorldConfig``.

A clip is fully described by a :class:`ClipSpec` (category, label, appearance, physical parameters and
seed); :class:`WorldConfig` fixes how clips are rasterised (frame count, size, fps, anti-aliasing) and
the base seed of the sets. Physical parameters are stored in resolution-free *world units*: lengths in
scene heights (the frame is 1 scene height tall and ``width / height`` wide; y grows downwards) and
times in clip durations (frame ``i`` is at ``s = i / (frames - 1)``), so one spec renders at any size.
:func:`bench.world.physics.world_constants` converts them to pixels and frames.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any, Mapping

from bench.errors import WorldError

# Bumped whenever rendering or parameter draws change, so caches keyed on it (the tiny backend's
# pretrained model) are rebuilt. world-v1: first release. world-v2: upright boxes and unturned
# squash/stretch bodies, no press plate over compress, higher bounces, gentler floating, lighter water.
# world-v3: larger objects (small 0.14, large 0.17 scene heights; world-v2 had 0.10 and 0.14) and captions
# that name where the object starts (which fifth of the frame width), both so that a CPU-sized generator can
# draw one object of the prompt's colour (measured in reports/tiny/README.md).
WORLD_VERSION = "world-v3"

CATEGORIES: tuple[str, ...] = (
    "bounce", "compress", "explode", "float", "free_fall", "roll", "slide", "spin", "stretch", "swing",
)
LABELS: tuple[str, ...] = ("plausible", "violating", "static", "camera_only")

SHAPES: tuple[str, ...] = ("ball", "box", "diamond")
COLOURS: dict[str, tuple[int, int, int]] = {
    "red": (220, 40, 40),
    "orange": (240, 140, 30),
    "yellow": (235, 215, 40),
    "green": (50, 180, 70),
    "blue": (45, 95, 225),
    "purple": (150, 60, 200),
    "white": (240, 240, 240),
}
SIZES: dict[str, float] = {"small": 0.14, "large": 0.17}  # radius in scene heights
TEXTURES: tuple[str, ...] = ("plain", "striped", "spotted")
BACKGROUNDS: tuple[str, ...] = ("plain", "checkered", "striped")
BACKGROUND_COLOURS: dict[str, tuple[int, int, int]] = {
    "gray": (128, 128, 128),
    "black": (28, 28, 32),
    "brown": (105, 78, 58),
}

# Shapes that make physical sense per category: only a ball rolls without slipping, only a box slides flat.
CATEGORY_SHAPES: dict[str, tuple[str, ...]] = {c: SHAPES for c in CATEGORIES} | {
    "roll": ("ball",),
    "slide": ("box",),
}
# Rotation is only visible with a texture, so rolling and spinning objects are never plain.
CATEGORY_TEXTURES: dict[str, tuple[str, ...]] = {c: TEXTURES for c in CATEGORIES} | {
    "roll": ("striped", "spotted"),
    "spin": ("striped", "spotted"),
}
# A pan is only visible against a textured background, so camera-only clips never use a plain one.
LABEL_BACKGROUNDS: dict[str, tuple[str, ...]] = {lab: BACKGROUNDS for lab in LABELS} | {
    "camera_only": ("checkered", "striped"),
}


def check_category(category: str) -> str:
    """Return ``category`` or raise :class:`WorldError` listing the valid ones."""
    if category not in CATEGORIES:
        raise WorldError(
            f"unknown motion category {category!r}; expected one of {', '.join(CATEGORIES)}. "
            "Use the underscore spelling, e.g. 'free_fall'."
        )
    return category


def check_label(label: str) -> str:
    """Return ``label`` or raise :class:`WorldError` listing the valid ones."""
    if label not in LABELS:
        raise WorldError(f"unknown clip label {label!r}; expected one of {', '.join(LABELS)}.")
    return label


@dataclass(frozen=True)
class Appearance:
    """How the object and background look; every field is one caption word (``plain`` texture is silent)."""

    shape: str
    colour: str
    size: str
    texture: str
    background: str
    background_colour: str

    def __post_init__(self) -> None:
        for name, value, valid in (
            ("shape", self.shape, SHAPES),
            ("colour", self.colour, tuple(COLOURS)),
            ("size", self.size, tuple(SIZES)),
            ("texture", self.texture, TEXTURES),
            ("background", self.background, BACKGROUNDS),
            ("background_colour", self.background_colour, tuple(BACKGROUND_COLOURS)),
        ):
            if value not in valid:
                raise WorldError(f"unknown {name} {value!r}; expected one of {', '.join(valid)}.")

    @property
    def radius(self) -> float:
        """Object radius in scene heights."""
        return SIZES[self.size]

    @property
    def rgb(self) -> tuple[int, int, int]:
        return COLOURS[self.colour]

    @property
    def background_rgb(self) -> tuple[int, int, int]:
        return BACKGROUND_COLOURS[self.background_colour]

    def key(self) -> tuple[str, ...]:
        """A hashable identity used to keep the three sets' appearances disjoint."""
        return (self.shape, self.colour, self.size, self.texture, self.background, self.background_colour)


def check_appearance_fits(category: str, label: str, appearance: Appearance) -> None:
    """Raise :class:`WorldError` when an appearance cannot show a category/label (e.g. a rolling box)."""
    check_category(category)
    check_label(label)
    rules = (
        ("shape", appearance.shape, CATEGORY_SHAPES[category], f"category {category!r}"),
        ("texture", appearance.texture, CATEGORY_TEXTURES[category], f"category {category!r}"),
        ("background", appearance.background, LABEL_BACKGROUNDS[label], f"label {label!r}"),
    )
    for name, value, valid, why in rules:
        if value not in valid:
            raise WorldError(
                f"{name} {value!r} cannot show {why}; expected one of {', '.join(valid)} "
                "(rotation needs a texture, a pan needs a textured background)."
            )


@dataclass(frozen=True)
class WorldConfig:
    """How clips are rasterised. ``frames`` must be 4n+1 (Wan's temporal stride); defaults suit a CPU."""

    frames: int = 17
    height: int = 32
    width: int = 32
    fps: int = 8
    seed: int = 0
    supersample: int = 3  # anti-aliasing: render at supersample x size, then box-filter down

    def __post_init__(self) -> None:
        if not isinstance(self.frames, int) or self.frames < 5 or (self.frames - 1) % 4:
            n = max(1, round((int(self.frames) - 1) / 4)) if isinstance(self.frames, (int, float)) else 4
            raise WorldError(
                f"frame count {self.frames!r} is not of the form 4n+1 with n >= 1; "
                f"use e.g. {4 * n + 1} (Wan's temporal stride is 4)."
            )
        for name in ("height", "width"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 16 or value % 2:
                raise WorldError(f"{name} {value!r} must be an even int >= 16 (H.264 export needs even sizes).")
        if not isinstance(self.fps, int) or self.fps < 1:
            raise WorldError(f"fps {self.fps!r} must be a positive int.")
        if not isinstance(self.supersample, int) or not 1 <= self.supersample <= 8:
            raise WorldError(f"supersample {self.supersample!r} must be an int in 1..8.")

    @property
    def aspect(self) -> float:
        """Scene width in scene heights."""
        return self.width / self.height

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ClipSpec:
    """One clip: identity, what moves and how, and the seed its parameters were drawn from.

    ``params`` holds the physical parameters in world units (see the module docstring), JSON-safe.
    It is excluded from the hash (dicts are unhashable) but compared for equality.
    """

    clip_id: str
    category: str
    label: str
    appearance: Appearance
    seed: int
    params: Mapping[str, Any] = field(default_factory=dict, hash=False)
    version: str = WORLD_VERSION

    def __post_init__(self) -> None:
        check_category(self.category)
        check_label(self.label)

    @property
    def caption(self) -> str:
        """The one-template caption; depends on category, appearance and start place, never on the label."""
        from bench.world.captions import caption

        return caption(self.category, self.appearance, self.place)

    @property
    def prompt(self) -> str:
        """The caption plus the category's physical-cue clause: the test-prompt form of this clip."""
        from bench.world.captions import prompt_text

        return prompt_text(self.category, self.appearance, self.place)

    @property
    def place(self) -> str:
        """Where the object starts (``params["place"]``, set by :func:`bench.world.sets.make_spec`)."""
        if "place" not in self.params:
            raise WorldError(
                f"clip {self.clip_id} has no start place in its params (a spec from before world-v3); "
                "rebuild it with bench.world.sets.make_spec."
            )
        return self.params["place"]

    def to_row(self) -> dict[str, Any]:
        """A flat metadata row (for the CSV): id, category, label, appearance fields, params JSON, seed."""
        a = self.appearance
        return {
            "clip_id": self.clip_id,
            "category": self.category,
            "label": self.label,
            "caption": self.caption,
            "shape": a.shape,
            "colour": a.colour,
            "size": a.size,
            "texture": a.texture,
            "background": a.background,
            "background_colour": a.background_colour,
            "seed": self.seed,
            "params": json.dumps(dict(self.params), sort_keys=True),
            "world_version": self.version,
        }
