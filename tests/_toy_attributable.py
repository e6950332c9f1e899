"""A toy model satisfying :class:`curation.protocols.AttributableModel`, for the curation tests.

Latent geometry: temporal stride 4, spatial stride 4, 3 channels. ``encode_video`` average-pools
4x4 pixels and keeps frames 0, 4, 8, ...; ``velocity`` is a small Conv3d network conditioned on
the timestep and a bag-of-words prompt embedding. Weights come from a named seed.
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from curation.protocols import LatentGeometry
from curation.seeds import derive_seed

VOCAB = ["a", "ball", "bounces", "slides", "spins", "falls", "floats", "cube"]


class ToyModel(nn.Module):
    def __init__(self, seed: int = 0, width: int = 8):
        super().__init__()
        torch.manual_seed(derive_seed(seed, "toy-model"))
        self.embed = nn.Embedding(len(VOCAB) + 1, 8)
        self.embed.requires_grad_(False)  # frozen "text encoder"
        self.cond = nn.Linear(9, width)
        self.conv1 = nn.Conv3d(3, width, 3, padding=1)
        self.conv2 = nn.Conv3d(width, 3, 3, padding=1)

    @property
    def latent_geometry(self) -> LatentGeometry:
        return LatentGeometry(temporal_stride=4, spatial_stride=4, channels=3)

    def encode_video(self, frames: torch.Tensor) -> torch.Tensor:
        b, c, f, h, w = frames.shape
        x = frames[:, :, ::4]
        return F.avg_pool3d(x, kernel_size=(1, 4, 4))

    def encode_prompt(self, texts: list[str]) -> torch.Tensor:
        ids = [[VOCAB.index(w) + 1 if w in VOCAB else 0 for w in t.lower().split()] or [0] for t in texts]
        return torch.stack([self.embed(torch.tensor(i)).mean(0) for i in ids])

    def velocity(self, latents_t: torch.Tensor, t: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        c = self.cond(torch.cat([emb, (t / 1000.0)[:, None]], 1))
        hdn = torch.tanh(self.conv1(latents_t) + c[:, :, None, None, None])
        return self.conv2(hdn)

    def trainable_parameters(self):
        return [(n, p) for n, p in self.named_parameters() if p.requires_grad]
