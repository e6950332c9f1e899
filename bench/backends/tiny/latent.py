"""The tiny backend's "VAE": space-to-depth in space and time, then a PCA-whitened linear projection.

Step 1 (fixed, exact): a clip of ``F = 4n+1`` frames at ``H x W`` becomes ``n+1`` latent frames at
``H/2 x W/2`` holding ``3 * 4 * 2 * 2 = 48`` values per cell, the geometry rule of Wan's VAE (temporal
stride 4 with the first frame on its own; spatial stride 2 here instead of 8). Each later latent frame
packs four consecutive frames; the first packs four copies of frame 0 (Wan encodes frame 0 alone;
copying it keeps every latent frame's statistics alike), and unpacking averages those copies. Order
within a cell: ``(colour, frame-in-group, dy, dx)``, row-major.

Step 2 (fitted, linear): each 48-vector is centred, projected on the top ``k`` principal components of
the training corpus' 48-vectors and divided by their standard deviations, so every latent channel has
unit variance (as Wan's latents are normalised by ``latents_std``). Decoding applies the transpose
(a model may add a learned correction on top: :mod:`.decoder`).

Why (measured, see ``reports/tiny/README.md``): with all 48 x 5 = 240 values per cell stacked as the
UNet's channels, its 32-channel first level could not carry the noise through and the denoiser stayed
near the data mean (samples were noise after 500 steps). The world's 48-vectors are nearly
low-dimensional: k = 12 components keep 98.6% of the variance on world-v2 (98.4% on world-v3) (reconstruction MSE 0.0013 on the
[-1, 1] scale), so the UNet sees 12 x 5 = 60 channels. Fitting takes seconds and no gradient step.
"""

from __future__ import annotations

import torch
from torch import nn

from curation.protocols import LatentGeometry

TEMPORAL_STRIDE = 4
SPATIAL_STRIDE = 2
PACKED_CHANNELS = 3 * TEMPORAL_STRIDE * SPATIAL_STRIDE * SPATIAL_STRIDE  # 48
NORMALISATIONS = ("channel", "global")  # see LinearLatent.fit


def pack(video: torch.Tensor) -> torch.Tensor:
    """Space-to-depth: ``(B, 3, F, H, W)`` float (``F = 4n+1``, even ``H, W``) -> ``(B, 48, n+1, H/2, W/2)``."""
    b, c, f, h, w = video.shape
    assert c == 3 and (f - 1) % TEMPORAL_STRIDE == 0 and h % SPATIAL_STRIDE == 0 and w % SPATIAL_STRIDE == 0, video.shape
    s, ts = SPATIAL_STRIDE, TEMPORAL_STRIDE
    first = video[:, :, :1].expand(b, c, ts - 1, h, w)
    x = torch.cat([first, video], dim=2)  # (B, 3, 4(n+1), H, W)
    g = x.shape[2] // ts
    x = x.reshape(b, c, g, ts, h // s, s, w // s, s)
    x = x.permute(0, 1, 3, 5, 7, 2, 4, 6)  # (B, c, dt, dy, dx, g, H/2, W/2)
    return x.reshape(b, c * ts * s * s, g, h // s, w // s).contiguous()


def unpack(packed: torch.Tensor) -> torch.Tensor:
    """Inverse of :func:`pack`: ``(B, 48, n+1, H', W')`` -> ``(B, 3, 4n+1, 2H', 2W')`` (frame 0 = mean of its copies)."""
    b, ch, g, hh, ww = packed.shape
    s, ts = SPATIAL_STRIDE, TEMPORAL_STRIDE
    assert ch == PACKED_CHANNELS, packed.shape
    x = packed.reshape(b, 3, ts, s, s, g, hh, ww)
    x = x.permute(0, 1, 5, 2, 6, 3, 7, 4)  # (B, c, g, dt, H', dy, W', dx)
    x = x.reshape(b, 3, g * ts, hh * s, ww * s)
    frame0 = x[:, :, :ts].mean(dim=2, keepdim=True)
    return torch.cat([frame0, x[:, :, ts:]], dim=2)


class LinearLatent(nn.Module):
    """Packing + PCA whitening; the fitted statistics are buffers saved with the model."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.register_buffer("mean", torch.zeros(PACKED_CHANNELS))
        self.register_buffer("components", torch.eye(PACKED_CHANNELS)[:channels].clone())  # (k, 48), orthonormal rows
        self.register_buffer("std", torch.ones(channels))

    @property
    def geometry(self) -> LatentGeometry:
        return LatentGeometry(TEMPORAL_STRIDE, SPATIAL_STRIDE, int(self.std.numel()))

    @torch.no_grad()
    def fit(self, videos: torch.Tensor, batch_size: int = 100, normalisation: str = "channel") -> float:
        """Fit mean, components and stds to ``videos`` ``(N, 3, F, H, W)`` (uint8 or float in [-1, 1]).

        ``normalisation``: ``"channel"`` divides each component by its own standard deviation (every
        channel unit variance: whitening); ``"global"`` divides all by one scale, the root mean variance of
        the kept components (unit variance on average, as Stable Diffusion's single ``scaling_factor``), so
        the latent is an orthonormal, uniformly scaled view of pixel space and isotropic latent noise is
        isotropic pixel noise inside the kept subspace.

        Returns:
            The share of the packed vectors' variance the kept components explain.
        """
        total = torch.zeros((), dtype=torch.float64)
        s1 = torch.zeros(PACKED_CHANNELS, dtype=torch.float64)
        s2 = torch.zeros(PACKED_CHANNELS, PACKED_CHANNELS, dtype=torch.float64)
        for lo in range(0, videos.shape[0], batch_size):
            v = videos[lo : lo + batch_size]
            v = v.float() / 127.5 - 1.0 if v.dtype == torch.uint8 else v.float()
            p = pack(v).permute(0, 2, 3, 4, 1).reshape(-1, PACKED_CHANNELS).double()
            total += p.shape[0]
            s1 += p.sum(0)
            s2 += p.T @ p
        mean = s1 / total
        cov = s2 / total - torch.outer(mean, mean)
        evals, evecs = torch.linalg.eigh(cov)  # ascending
        evals, evecs = evals.flip(0), evecs.flip(1)
        evecs = evecs * torch.sign(evecs[evecs.abs().argmax(0), torch.arange(PACKED_CHANNELS)])  # fixed signs
        if normalisation not in NORMALISATIONS:
            raise ValueError(f"unknown latent normalisation {normalisation!r}; choose one of {', '.join(NORMALISATIONS)}.")
        k = self.std.numel()
        kept = evals[:k].clamp(min=1e-8)
        self.mean.copy_(mean.float())
        self.components.copy_(evecs[:, :k].T.float())
        self.std.copy_((kept if normalisation == "channel" else kept.mean().expand(k)).sqrt().float())
        return float(evals[:k].sum() / evals.sum())

    def encode(self, video: torch.Tensor) -> torch.Tensor:
        """``(B, 3, F, H, W)`` float in [-1, 1] -> ``(B, k, (F-1)/4+1, H/2, W/2)`` float, unit variance per channel."""
        p = pack(video) - self.mean.view(1, -1, 1, 1, 1)
        z = torch.einsum("kc,bcfhw->bkfhw", self.components, p)
        return z / self.std.view(1, -1, 1, 1, 1)

    def decode_packed(self, latents: torch.Tensor) -> torch.Tensor:
        """Latents ``(B, k, F', H', W')`` -> packed values ``(B, 48, F', H', W')`` (before :func:`unpack`)."""
        z = latents * self.std.view(1, -1, 1, 1, 1)
        return torch.einsum("kc,bkfhw->bcfhw", self.components, z) + self.mean.view(1, -1, 1, 1, 1)

    def decode(self, latents: torch.Tensor) -> torch.Tensor:
        """Latents ``(B, k, F', H', W')`` -> video ``(B, 3, 4(F'-1)+1, 2H', 2W')`` float (not clamped)."""
        return unpack(self.decode_packed(latents))
