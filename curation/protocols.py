"""What the curation core needs from a model: the :class:`AttributableModel` protocol.

The backends in ``bench.backends`` satisfy it structurally (they never import this module's classes
to inherit from them), so ``curation`` never imports ``bench``.

Tensor conventions (shared with ``bench.backends.base``):

* a video batch is ``float32`` of shape ``(B, 3, F, H, W)`` with values in ``[-1, 1]``, ``F = 4n+1``;
* latents are ``(B, C, F', H', W')`` with ``F' = (F - 1) // temporal_stride + 1``,
  ``H' = H // spatial_stride``, ``W' = W // spatial_stride``;
* ``t`` is the diffusers timestep ``1000 * sigma`` (rectified flow: ``z = (1 - sigma) * x + sigma * eps``,
  the model predicts the velocity ``eps - x``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Protocol, runtime_checkable

import torch


@dataclass(frozen=True)
class LatentGeometry:
    """How a backend's latent grid relates to pixels."""

    temporal_stride: int  # frames per latent frame after the first (Wan: 4; pixel-space: 1)
    spatial_stride: int  # pixels per latent cell along H and W (Wan: 8; pixel-space: 1)
    channels: int  # latent channels (Wan2.1: 16)

    def latent_shape(self, frames: int, height: int, width: int) -> tuple[int, int, int, int]:
        """``(C, F', H', W')`` for a clip of ``frames x height x width`` pixels."""
        if (frames - 1) % self.temporal_stride:
            raise ValueError(
                f"frame count {frames} does not fit temporal stride {self.temporal_stride}: "
                f"use frames = {self.temporal_stride}*n + 1"
            )
        return (
            self.channels,
            (frames - 1) // self.temporal_stride + 1,
            height // self.spatial_stride,
            width // self.spatial_stride,
        )


@runtime_checkable
class AttributableModel(Protocol):
    """The five members of the ``Backend`` protocol that attribution needs."""

    @property
    def latent_geometry(self) -> LatentGeometry: ...

    def encode_video(self, frames: torch.Tensor) -> torch.Tensor:
        """``(B, 3, F, H, W)`` float in [-1, 1] -> latents ``(B, C, F', H', W')``; no grad needed."""
        ...

    def encode_prompt(self, texts: list[str]) -> torch.Tensor:
        """Prompts -> embeddings ``(B, L, D)`` (or ``(B, D)``) as ``velocity`` expects them."""
        ...

    def velocity(self, latents_t: torch.Tensor, t: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        """Predicted velocity ``(B, C, F', H', W')`` at timestep ``t`` (shape ``(B,)``, ``1000*sigma``)."""
        ...

    def trainable_parameters(self) -> Iterable[tuple[str, torch.nn.Parameter]]:
        """The denoiser's trainable parameters as ``(name, param)`` in a fixed, documented order."""
        ...
