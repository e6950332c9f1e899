"""The tiny backend's denoiser: a diffusers ``UNet2DModel`` over latent frames stacked as channels.

The latent ``(B, k, F', H', W')`` (see :mod:`.latent`; k = 12) is reshaped to ``(B, k*F', H', W')`` so a 2D
UNet mixes all frames at every layer (frames-as-channels). The prompt's pooled embedding enters as the
UNet's class embedding (``class_embed_type="identity"``: added to the timestep embedding, so its width
is ``4 * block_out_channels[0]``). The timestep is the diffusers one, ``t = 1000 * sigma``.

The output is preconditioned (:func:`preconditioning`): ``v = c_skip z + c_out UNet(c_in z)``.

Chosen by measurement on this CPU (see ``reports/tiny/README.md``): attention only at the coarsest level,
one ResNet layer per block, a first level (64) at least as wide as the 60 stacked latent channels.

``position_channels = 2`` (off by default) appends two constant input channels, the x and y of each latent
pixel in [-1, 1] (CoordConv, Liu et al. 2018). Without them the UNet is translation-equivariant up to its
zero padding, and the prompt, which enters as a per-channel bias, names a place ("at the left") that the
network can only find through the padding. Measured (``reports/tiny/README.md``, session 12): a
12,000-step run with them samples no better (validation one object 0.77 against 0.79), so they stay off.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from diffusers import UNet2DModel
from torch import nn


@dataclass(frozen=True)
class DenoiserConfig:
    """Shape of the UNet. ``latent_frames * latent_channels`` is its channel count in and out."""

    latent_channels: int = 12
    latent_frames: int = 5
    latent_size: int = 16
    block_out_channels: tuple[int, ...] = (64, 96, 96)
    layers_per_block: int = 1
    norm_num_groups: int = 16
    attention_head_dim: int = 32
    position_channels: int = 0  # 0, or 2: x and y coordinate channels appended to the UNet's input

    def __post_init__(self) -> None:
        if self.position_channels not in (0, 2):
            raise ValueError(f"position_channels={self.position_channels}: use 0 (none) or 2 (x and y).")

    @property
    def emb_dim(self) -> int:
        """Width of the prompt embedding the UNet takes (its timestep-embedding width)."""
        return 4 * self.block_out_channels[0]


def build_unet(cfg: DenoiserConfig) -> UNet2DModel:
    """A freshly initialised ``UNet2DModel`` for ``cfg`` (seed torch before calling for fixed weights)."""
    n = len(cfg.block_out_channels)
    channels = cfg.latent_channels * cfg.latent_frames
    return UNet2DModel(
        sample_size=cfg.latent_size,
        in_channels=channels + cfg.position_channels,
        out_channels=channels,
        block_out_channels=tuple(cfg.block_out_channels),
        layers_per_block=cfg.layers_per_block,
        down_block_types=tuple("AttnDownBlock2D" if i == n - 1 else "DownBlock2D" for i in range(n)),
        up_block_types=tuple("AttnUpBlock2D" if i == 0 else "UpBlock2D" for i in range(n)),
        class_embed_type="identity",
        norm_num_groups=cfg.norm_num_groups,
        attention_head_dim=cfg.attention_head_dim,
    )


class FramesAsChannels(nn.Module):
    """Wraps the UNet: ``(latents (B, C, F', H', W'), t (B,), emb (B, D)) -> velocity (B, C, F', H', W')``."""

    def __init__(self, cfg: DenoiserConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.unet = build_unet(cfg)
        # zero output layer: at initialisation the velocity is the linear guess c_skip * z
        nn.init.zeros_(self.unet.conv_out.weight)
        nn.init.zeros_(self.unet.conv_out.bias)

    def forward(self, latents: torch.Tensor, t: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        b, c, f, h, w = latents.shape
        assert (c, f) == (self.cfg.latent_channels, self.cfg.latent_frames), latents.shape
        t = t.to(latents.dtype).reshape(-1).expand(b) if t.numel() == 1 else t.to(latents.dtype)
        c_in, c_skip, c_out = preconditioning(t / 1000.0)
        x = (c_in * latents).reshape(b, c * f, h, w)
        if self.cfg.position_channels:
            x = torch.cat([x, coordinate_channels(h, w, x).expand(b, -1, -1, -1)], dim=1)
        out = self.unet(x, t, class_labels=emb).sample
        return c_skip * latents + c_out * out.reshape(b, c, f, h, w)


def coordinate_channels(h: int, w: int, like: torch.Tensor) -> torch.Tensor:
    """``(1, 2, h, w)``: the x (varying along the width) and y of each latent pixel, in [-1, 1]."""
    x = torch.linspace(-1.0, 1.0, w, dtype=like.dtype, device=like.device)
    y = torch.linspace(-1.0, 1.0, h, dtype=like.dtype, device=like.device)
    return torch.stack([x.expand(h, w), y[:, None].expand(h, w)])[None]


def preconditioning(sigma: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """EDM-style scalings for rectified flow with unit-variance data, each ``(B, 1, 1, 1, 1)``.

    With ``z = (1 - s) x + s eps`` and ``Var x = Var eps = 1``: ``Var z = d = (1 - s)^2 + s^2``; the best
    linear guess of the velocity ``eps - x`` from ``z`` is ``c_skip z`` with ``c_skip = (2s - 1) / d``;
    what is left has variance ``2 - (2s - 1)^2 / d``, which ``c_out`` restores from the network's
    unit-scale output; ``c_in = 1 / sqrt(d)`` gives the network unit-variance input. So the UNet learns
    only the non-linear remainder instead of first having to learn to pass the noise through (without
    this, after 250 steps its output still had a sixth of the target's energy).
    """
    s = sigma.reshape(-1, 1, 1, 1, 1)
    d = (1 - s) ** 2 + s**2
    c_skip = (2 * s - 1) / d
    return d.rsqrt(), c_skip, (2 - (2 * s - 1) ** 2 / d).sqrt()
