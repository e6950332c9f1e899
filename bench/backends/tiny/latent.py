"""The tiny backend's fixed, invertible "latent": space-to-depth in space and time, no training.

A clip of ``F = 4n+1`` frames at ``H x W`` becomes ``n+1`` latent frames at ``H/2 x W/2`` with
``3 * 4 * 2 * 2 = 48`` channels, the same geometry rule as Wan's VAE (temporal stride 4 with the
first frame on its own, spatial stride 2 here instead of 8). Each later latent frame packs four
consecutive frames; the first latent frame packs four copies of frame 0 (Wan encodes frame 0 alone;
replicating it keeps every latent frame's statistics alike). Decoding averages those four copies,
so ``decode(encode(x)) == x`` exactly. Channel order within a latent frame is
``(colour, frame-in-group, dy, dx)``, row-major.

This costs nothing to train and exercises the attribution mask's temporal (4) and spatial (2)
reductions exactly as a real video VAE would.
"""

from __future__ import annotations

import torch

from curation.protocols import LatentGeometry

TEMPORAL_STRIDE = 4
SPATIAL_STRIDE = 2
LATENT_CHANNELS = 3 * TEMPORAL_STRIDE * SPATIAL_STRIDE * SPATIAL_STRIDE  # 48

GEOMETRY = LatentGeometry(
    temporal_stride=TEMPORAL_STRIDE, spatial_stride=SPATIAL_STRIDE, channels=LATENT_CHANNELS
)


def encode(video: torch.Tensor) -> torch.Tensor:
    """Pack pixels into the latent grid.

    Args:
        video: ``(B, 3, F, H, W)`` float, ``F = 4n+1``, ``H`` and ``W`` even.

    Returns:
        ``(B, 48, n+1, H/2, W/2)``, same dtype; a pure rearrangement (plus frame-0 copies).
    """
    b, c, f, h, w = video.shape
    assert c == 3 and (f - 1) % TEMPORAL_STRIDE == 0 and h % SPATIAL_STRIDE == 0 and w % SPATIAL_STRIDE == 0, video.shape
    s, ts = SPATIAL_STRIDE, TEMPORAL_STRIDE
    first = video[:, :, :1].expand(b, c, ts - 1, h, w)
    x = torch.cat([first, video], dim=2)  # (B, 3, 4(n+1), H, W)
    g = x.shape[2] // ts
    x = x.reshape(b, c, g, ts, h // s, s, w // s, s)
    x = x.permute(0, 1, 3, 5, 7, 2, 4, 6)  # (B, c, dt, dy, dx, g, H/2, W/2)
    return x.reshape(b, c * ts * s * s, g, h // s, w // s).contiguous()


def decode(latents: torch.Tensor) -> torch.Tensor:
    """Unpack latents into pixels; the inverse of :func:`encode`.

    Args:
        latents: ``(B, 48, n+1, H', W')`` float.

    Returns:
        ``(B, 3, 4n+1, 2H', 2W')``; frame 0 is the mean of the four frame-0 slots.
    """
    b, ch, g, hh, ww = latents.shape
    s, ts = SPATIAL_STRIDE, TEMPORAL_STRIDE
    assert ch == LATENT_CHANNELS, latents.shape
    x = latents.reshape(b, 3, ts, s, s, g, hh, ww)
    x = x.permute(0, 1, 5, 2, 6, 3, 7, 4)  # (B, c, g, dt, H', dy, W', dx)
    x = x.reshape(b, 3, g * ts, hh * s, ww * s)
    frame0 = x[:, :, :ts].mean(dim=2, keepdim=True)
    return torch.cat([frame0, x[:, :, ts:]], dim=2)
