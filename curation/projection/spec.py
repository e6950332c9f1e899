"""The serialisable description of a random projection: :class:`ProjectorSpec`.

A spec fully determines a projector's matrix: two projectors built from equal specs give bit-identical
outputs on every platform (the Fastfood randomness comes from our own counter-based hash, not from a
library RNG whose stream may change between releases). The spec is what a feature store records in its
manifest, so reopening a store with a different projection is refused.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any, Mapping

from curation.errors import ShapeError

#: Projection kinds and what they are.
KINDS = {
    "fastfood": "S.H.G.Pi.H.B per input block (B per block; S, G, Pi per group of blocks), first k rows, "
                "block outputs summed (default)",
    "dense_gaussian": "reference: i.i.d. N(0, 1/k) entries, regenerated per block from the seed",
    "dense_rademacher": "reference: i.i.d. +-1/sqrt(k) entries, regenerated per block from the seed",
    "countsketch": "sparse: each input coordinate added with a random sign to one of k buckets",
    "srht": "subsampled randomised Hadamard per block: k random rows of H.B, block outputs summed",
}

#: Bumped whenever the mapping spec -> matrix (or its float32 rounding) changes.
#: 1: Fastfood with all randomness per block. 2: Fastfood with S, G, Pi shared by a group of blocks
#: (curation.projection.fastfood), default Fastfood block 16384.
SPEC_VERSION = 2

#: Default block size per kind (a power of two >= k); chosen by measurement, see
#: ``reports/benchmarks/projection.md``. Kinds not listed use ``DEFAULT_BLOCK_SIZE``.
DEFAULT_BLOCK_SIZE = 4096
KIND_BLOCK_SIZE = {"fastfood": 16384}


def next_pow2(n: int) -> int:
    """The smallest power of two >= ``n`` (``n >= 1``)."""
    return 1 << max(0, (int(n) - 1).bit_length())


def default_block_size(input_dim: int, output_dim: int, kind: str = "fastfood") -> int:
    """Block size used when none is given: the kind's default (``KIND_BLOCK_SIZE``, else
    ``DEFAULT_BLOCK_SIZE``), shrunk to the next power of two of ``max(input_dim, output_dim)`` for small
    inputs, never below ``next_pow2(output_dim)``."""
    size = KIND_BLOCK_SIZE.get(kind, DEFAULT_BLOCK_SIZE)
    return max(next_pow2(output_dim), min(size, next_pow2(input_dim)))


@dataclass(frozen=True)
class ProjectorSpec:
    """What a projector is: ``kind`` (one of :data:`KINDS`), ``input_dim`` d, ``output_dim`` k,
    ``seed``, ``block_size`` n (input coordinates per block; a power of two >= k for Fastfood),
    ``dtype`` of the output (``"float32"``), and ``version`` (:data:`SPEC_VERSION`).

    Build one with :meth:`create` to get the default block size; ``to_dict``/``from_dict`` round-trip
    it through JSON.
    """

    kind: str
    input_dim: int
    output_dim: int
    seed: int
    block_size: int
    dtype: str = "float32"
    version: int = SPEC_VERSION

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown projection kind {self.kind!r}; expected one of {sorted(KINDS)}")
        for name in ("input_dim", "output_dim", "block_size"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ShapeError(f"{name} must be a positive int, got {value!r}")
        if self.output_dim > self.input_dim:
            raise ShapeError(
                f"output_dim k={self.output_dim} exceeds input_dim d={self.input_dim}: a projection to "
                f"more dimensions than it has cannot reduce anything; use k <= d"
            )
        if self.kind in ("fastfood", "srht"):
            n = self.block_size
            if n & (n - 1) or n < self.output_dim:
                raise ShapeError(
                    f"{self.kind} block_size must be a power of two >= output_dim {self.output_dim}, got {n}; "
                    f"use block_size={max(next_pow2(self.output_dim), next_pow2(n))}"
                )
        if self.kind == "fastfood" and self.num_blocks * self.block_size > 1 << 37:
            raise ShapeError(
                f"fastfood input_dim={self.input_dim} exceeds the 2**37 coordinates its sign counter covers; "
                f"project the gradient in several parts (e.g. per layer group) and concatenate the outputs")
        if self.dtype != "float32":
            raise ValueError(f"only dtype 'float32' outputs are supported, got {self.dtype!r}")
        if self.version != SPEC_VERSION:
            raise ValueError(
                f"projection spec version {self.version} is not the one this code implements "
                f"({SPEC_VERSION}); rebuild the features with this version or install the matching release"
            )

    @classmethod
    def create(
        cls, kind: str, input_dim: int, output_dim: int = 512, seed: int = 0, block_size: int | None = None
    ) -> "ProjectorSpec":
        """A spec with the default block size (:func:`default_block_size`) when none is given."""
        if block_size is None:
            block_size = default_block_size(input_dim, output_dim, kind)
        return cls(kind=kind, input_dim=int(input_dim), output_dim=int(output_dim), seed=int(seed),
                   block_size=int(block_size))

    @property
    def num_blocks(self) -> int:
        """Number of input blocks, ``ceil(d / n)``; the last one is zero-padded."""
        return -(-self.input_dim // self.block_size)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of every field."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "ProjectorSpec":
        """Inverse of :meth:`to_dict`; unknown keys are an error (they would signal a newer format)."""
        names = {f.name for f in fields(cls)}
        extra = set(data) - names
        if extra:
            raise ValueError(f"unknown projection spec fields {sorted(extra)}; expected {sorted(names)}")
        return cls(**dict(data))
