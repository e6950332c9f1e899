"""The ``Backend`` protocol: everything above this layer sees a model only through it.

It extends :class:`curation.protocols.AttributableModel` (the five members attribution needs) with
generation and persistence. Tensor conventions are those of :mod:`curation.protocols`: videos
``(B, 3, F, H, W)`` float32 in ``[-1, 1]``; latents ``(B, C, F', H', W')``; ``t = 1000 * sigma``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable, Protocol, runtime_checkable

import torch

from curation.protocols import LatentGeometry


@runtime_checkable
class Backend(Protocol):
    name: str  # "tiny" or "wan"

    @property
    def latent_geometry(self) -> LatentGeometry: ...

    @property
    def video_format(self) -> tuple[int, int, int, int]:
        """``(frames, height, width, fps)`` that clips must be standardised to for this backend."""
        ...

    def encode_video(self, frames: torch.Tensor) -> torch.Tensor: ...

    def encode_prompt(self, texts: list[str]) -> torch.Tensor: ...

    def velocity(self, latents_t: torch.Tensor, t: torch.Tensor, emb: torch.Tensor) -> torch.Tensor: ...

    def trainable_parameters(self) -> Iterable[tuple[str, torch.nn.Parameter]]: ...

    def generate(
        self, prompts: list[str], seeds: list[int], steps: int = 30, guidance: float = 1.0
    ) -> torch.Tensor:
        """One video per (prompt, seed): ``(B, 3, F, H, W)`` float32 in [-1, 1]. Seeded, deterministic."""
        ...

    def save(self, path: str | Path) -> None:
        """Write weights and the full config to a directory that :meth:`load` reads back."""
        ...

    @classmethod
    def load(cls, path: str | Path, device: str = "cpu") -> "Backend": ...
