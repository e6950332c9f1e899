"""The tiny backend's learned decoder: a small conv net that corrects the linear latent's decode.

The linear latent (:mod:`.latent`) decodes by the transpose of its PCA. That is exact for clean latents
of the world's clips, but the denoiser's samples are not clean: their latents carry high-frequency
residue, and the linear decode turns every bit of it into pixel grain. Where the residue lands on the
prompt's hue it becomes coloured specks that the sample check counts as a second object.

:class:`LatentDecoder` adds a learned residual to the linear decode's packed values (Stable Diffusion's
and Wan's VAEs decode with a conv net for the same reason)::

    packed = linear_decode_packed(z) + net(z),    video = unpack(packed)

``net`` is frames-as-channels, like the denoiser: ``(B, k, F', H', W')`` becomes ``(B, k F', H', W')``, a
3x3 conv to ``width`` channels, ``blocks`` residual blocks (GroupNorm, SiLU, 3x3 conv, twice), and a 3x3
conv to the ``48 F'`` packed values, initialised to zero, so an untrained decoder is exactly the linear
one. It holds no copy of the PCA: the backend passes its linear decode in.

:func:`train_decoder` is the second stage of pretraining, readable top to bottom::

    x     = encode(clip)                        the clean latent
    a     ~ U(0, noise_max) per clip,  eps ~ N(0, I)
    s     = encode(specked(clip)) - x           optional (``specks > 0``): see :func:`paint_specks`
    loss  = mean (decode(x + s + a eps) - clip)^2   in pixels, on the [-1, 1] scale

The noise stands in for the samples' residue (on the shipped model their per-channel std is 0.93-1.38
against 1.0 for clean latents), so the decoder learns to drop what is not a clip. The defaults are the
shipped stage's, picked on the validation prompts (``reports/tiny/decoder_variants.py``; the table is in
``reports/tiny/README.md``, session 9). It needs neither the
denoiser nor its samples: the stage is a function of the corpus, the fitted latent and its own seed.
Every random draw comes from ``derive_seed(seed, "pretrain-decoder", role, step)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
from torch import nn
from tqdm.auto import tqdm

from bench.manifest import asdict_omitting_defaults
from curation.seeds import derive_seed, torch_generator

from .latent import PACKED_CHANNELS, unpack

if TYPE_CHECKING:
    from .latent import LinearLatent
    from .model import TinyBackend


class ResBlock(nn.Module):
    """``x + conv(silu(norm(conv(silu(norm(x))))))`` at constant width."""

    def __init__(self, width: int, groups: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.GroupNorm(groups, width), nn.SiLU(), nn.Conv2d(width, width, 3, padding=1),
            nn.GroupNorm(groups, width), nn.SiLU(), nn.Conv2d(width, width, 3, padding=1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class LatentDecoder(nn.Module):
    """Latents ``(B, k, F', H', W')`` -> a residual ``(B, 48, F', H', W')`` on the linear decode's packed values."""

    def __init__(self, latent_channels: int, latent_frames: int, width: int = 96, blocks: int = 3, groups: int = 16) -> None:
        super().__init__()
        if width <= 0 or width % groups:
            raise ValueError(f"decoder width {width} must be a positive multiple of its {groups} norm groups.")
        self.latent_channels, self.latent_frames = latent_channels, latent_frames
        self.conv_in = nn.Conv2d(latent_channels * latent_frames, width, 3, padding=1)
        self.blocks = nn.Sequential(*[ResBlock(width, groups) for _ in range(blocks)])
        self.norm_out = nn.GroupNorm(groups, width)
        self.conv_out = nn.Conv2d(width, PACKED_CHANNELS * latent_frames, 3, padding=1)
        nn.init.zeros_(self.conv_out.weight)  # untrained: exactly the linear decode
        nn.init.zeros_(self.conv_out.bias)

    def forward(self, latents: torch.Tensor) -> torch.Tensor:
        b, c, f, h, w = latents.shape
        if (c, f) != (self.latent_channels, self.latent_frames):
            raise ValueError(
                f"the decoder takes latents with {self.latent_channels} channels and {self.latent_frames} frames; "
                f"got shape {tuple(latents.shape)}."
            )
        y = self.blocks(self.conv_in(latents.reshape(b, c * f, h, w)))
        y = self.conv_out(nn.functional.silu(self.norm_out(y)))
        return y.reshape(b, PACKED_CHANNELS, f, h, w)

    def decode(self, latent: "LinearLatent", latents: torch.Tensor) -> torch.Tensor:
        """The video ``(B, 3, F, H, W)`` (not clamped): ``latent``'s linear decode plus this residual."""
        return unpack(latent.decode_packed(latents) + self(latents))


@dataclass(frozen=True)
class DecoderTrainConfig:
    """The decoder stage of the pretraining recipe, its shape and its training (recorded in ``recipe.json``)."""

    width: int = 96
    blocks: int = 3
    steps: int = 4000
    batch_size: int = 32
    lr: float = 1e-3
    warmup: int = 50
    noise_max: float = 2.0  # latent noise a ~ U(0, noise_max), in units of the latent's (unit) std
    specks: float = 0.0  # mean number of specks (1-2 px squares of a random colour) painted into each input clip
    seed: int = 0
    threads: int = 2

    def __post_init__(self) -> None:
        if self.steps < 1 or self.batch_size < 1:
            raise ValueError(f"decoder training needs steps >= 1 and batch_size >= 1; got {self.steps}, {self.batch_size}.")
        if self.width < 1 or self.blocks < 0:
            raise ValueError(f"decoder width {self.width} and blocks {self.blocks}: give width >= 1 and blocks >= 0.")
        if not self.noise_max >= 0.0:
            raise ValueError(f"decoder noise_max={self.noise_max!r}: give a noise scale >= 0.")
        if not self.specks >= 0.0:
            raise ValueError(f"decoder specks={self.specks!r}: give a mean speck count >= 0.")

    def to_dict(self) -> dict:
        return asdict_omitting_defaults(self, ("specks",))


def paint_specks(clips: torch.Tensor, mean: float, generator: torch.Generator) -> torch.Tensor:
    """A copy of ``clips`` ``(B, 3, F, H, W)`` in [-1, 1] with Poisson(``mean``) specks per clip: squares of
    1 or 2 pixels, of a uniformly random colour, over a random run of consecutive frames.

    The world never draws anything that small (its objects are 4.5 px in radius or more at 32 px), so a
    decoder trained to map a specked clip's latent to the clean clip learns to drop such residue.
    """
    out = clips.clone()
    b, _, f, h, w = clips.shape
    counts = torch.poisson(torch.full((b,), float(mean)), generator=generator).long().tolist()
    for i, n in enumerate(counts):
        for _ in range(n):
            size = int(torch.randint(1, 3, (1,), generator=generator))
            y, x = (int(torch.randint(0, d - size + 1, (1,), generator=generator)) for d in (h, w))
            first = int(torch.randint(0, f, (1,), generator=generator))
            last = int(torch.randint(first, f, (1,), generator=generator)) + 1
            colour = torch.rand(3, generator=generator) * 2 - 1
            out[i, :, first:last, y : y + size, x : x + size] = colour.view(3, 1, 1, 1)
    return out


def fresh_decoder(model: "TinyBackend", cfg: DecoderTrainConfig) -> LatentDecoder:
    """A new :class:`LatentDecoder` of ``cfg``'s shape for ``model``'s latent, its initial weights drawn from
    ``derive_seed(cfg.seed, "pretrain-decoder", "init")`` (the global torch RNG is forked, not read)."""
    c, f, _, _ = model.latent_geometry.latent_shape(*model.video_format[:3])
    with torch.random.fork_rng():
        torch.manual_seed(derive_seed(cfg.seed, "pretrain-decoder", "init"))
        return LatentDecoder(c, f, cfg.width, cfg.blocks).to(model.device)


def decoder_batch(model: "TinyBackend", clips_u8: torch.Tensor, cfg: DecoderTrainConfig, step: int):
    """Step ``step``'s batch of the decoder stage: clean clips, their latents, and latent noise of a random
    scale per clip (plus specks, if ``cfg.specks``). Returns ``(idx, clean, z, generator)``: the clip indices,
    the clean clips in [-1, 1] (the target), the noisy latents (the input), and the step's generator, which
    has made every draw so far."""
    from .train import to_unit

    g = torch_generator(cfg.seed, "pretrain-decoder", "batch", step)
    idx = torch.randint(0, clips_u8.shape[0], (cfg.batch_size,), generator=g)
    clean = to_unit(clips_u8[idx])
    x = model.encode_video(clean)
    a = cfg.noise_max * torch.rand(cfg.batch_size, generator=g)
    z = x + a.view(-1, 1, 1, 1, 1) * torch.randn(x.shape, generator=g)
    if cfg.specks > 0:  # residue the denoiser draws as structure: specks painted in before encoding
        z = z + model.encode_video(paint_specks(clean, cfg.specks, g)) - x
    return idx, clean, z, g


def train_decoder(model: "TinyBackend", clips_u8: torch.Tensor, cfg: DecoderTrainConfig, progress: bool = True,
                  inputs=None) -> list[float]:
    """Train ``model.decoder`` in place on ``clips_u8`` ``(N, 3, F, H, W)`` uint8; returns every step's loss.

    The fitted latent, the text encoder and the denoiser are read, never changed. ``inputs``, if given, is
    called as ``inputs(idx, z, g)`` on each :func:`decoder_batch` and returns the latents to decode instead of
    ``z`` (an experiment's hook: ``reports/tiny/refiner_pool.py`` swaps in the denoiser's own round trips);
    drawing from ``g`` there continues the batch's stream.
    """
    from .train import warmup_cosine

    if model.decoder is None:
        raise ValueError("this tiny model has no learned decoder; build it with TinyConfig(decoder_width=...) first.")
    torch.set_num_threads(cfg.threads)
    dec = model.decoder
    dec.train()
    params = list(dec.parameters())
    for p in params:
        p.requires_grad_(True)
    opt = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=0.0)
    losses: list[float] = []
    bar = tqdm(range(cfg.steps), desc="pretrain tiny decoder", disable=not progress)
    for step in bar:
        idx, clean, z, g = decoder_batch(model, clips_u8, cfg, step)
        if inputs is not None:
            z = inputs(idx, z, g)

        # --- reconstruct the clean clip from the noisy latent
        video = dec.decode(model.latent, z)
        loss = nn.functional.mse_loss(video, clean)

        # --- the update
        for group in opt.param_groups:
            group["lr"] = warmup_cosine(step, cfg.lr, cfg.warmup, cfg.steps, min_ratio=0.0)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        losses.append(loss.item())
        if step % 10 == 0:
            bar.set_postfix(loss=f"{sum(losses[-50:]) / len(losses[-50:]):.5f}")
    dec.eval()
    for p in params:
        p.requires_grad_(False)
    return losses
