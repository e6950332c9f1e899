"""Pretraining the tiny backend with the rectified-flow objective; readable top to bottom.

    x   = clip latents                        (B, 48, F', H', W')
    eps ~ N(0, I),  sigma ~ logit-normal(0, 1) (SD3's choice: most steps at mid noise) or U(0, 1)
    z   = (1 - sigma) x + sigma eps,  t = 1000 sigma
    loss = mean (model(z, t, text(prompt)) - (eps - x))^2

The text encoder and the denoiser train together; 10% of prompts are replaced by the null prompt ``""``
so the model also learns the unconditional velocity (classifier-free guidance). AdamW, linear warm-up
then cosine decay, gradient clipping, and an exponential moving average (EMA) of the weights, which is
what gets saved. The default learning rate is constant after warm-up (``min_lr_ratio = 1``), so the
step-k snapshot of a long run is exactly the k-step run of the same recipe. Every random draw (batch indices, noise, sigmas, prompt dropout, initial weights) comes
from ``derive_seed(seed, "pretrain", role, step)``, so a run is a function of its config (bit-for-bit on
the same machine and thread count; summary statistics elsewhere).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import torch
from tqdm.auto import tqdm

from bench.manifest import asdict_omitting_defaults
from curation.seeds import derive_seed, torch_generator

from .model import TinyBackend, TinyConfig


PRECISIONS = ("float32", "bfloat16")


@dataclass(frozen=True)
class TrainConfig:
    """The pretraining recipe (recorded next to every checkpoint)."""

    steps: int = 3000
    batch_size: int = 32
    lr: float = 5e-4
    warmup: int = 100
    min_lr_ratio: float = 1.0  # 1.0: constant after warm-up, so a run's step-k snapshot IS the k-step run
    weight_decay: float = 0.0
    grad_clip: float = 1.0
    ema_decay: float = 0.999
    cfg_drop: float = 0.1
    sigma_sampling: str = "logit_normal"  # or "uniform" (more weight on low noise)
    sigma_range: tuple[float, float] = (0.0, 1.0)  # train on this noise band only (a noise-level expert)
    precision: str = "float32"  # or "bfloat16": the forward pass under torch.autocast (weights and loss stay fp32)
    seed: int = 0
    threads: int = 2
    save_every: int = 250

    def __post_init__(self) -> None:
        lo, hi = self.sigma_range
        if not 0.0 <= lo < hi <= 1.0:
            raise ValueError(f"sigma_range={self.sigma_range!r}: give (lo, hi) with 0 <= lo < hi <= 1.")
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision={self.precision!r}: choose one of {', '.join(PRECISIONS)}.")

    def to_dict(self) -> dict:
        d = asdict_omitting_defaults(self, ("sigma_range", "precision"))  # fields added later: old hashes hold
        if "sigma_range" in d:
            d["sigma_range"] = list(self.sigma_range)
        return d


def draw_sigmas(cfg: TrainConfig, batch_size: int, generator: torch.Generator) -> torch.Tensor:
    """``(B,)`` noise levels: logit-normal(0, 1) or uniform, truncated to ``cfg.sigma_range``.

    The full range draws exactly as before the range existed (same generator calls). A band draws one
    uniform per entry and maps it through the inverse CDF of the truncated law, so its sigmas keep the
    full run's relative weighting inside the band.
    """
    lo, hi = cfg.sigma_range
    if cfg.sigma_sampling == "uniform":
        if (lo, hi) == (0.0, 1.0):
            return torch.rand(batch_size, generator=generator).clamp(min=1e-3)
        return (lo + (hi - lo) * torch.rand(batch_size, generator=generator)).clamp(min=1e-3)
    if (lo, hi) == (0.0, 1.0):
        return torch.sigmoid(torch.randn(batch_size, generator=generator))
    normal = torch.distributions.Normal(0.0, 1.0)
    logit = lambda s: torch.logit(torch.tensor(s, dtype=torch.float64).clamp(1e-6, 1 - 1e-6))
    c_lo, c_hi = normal.cdf(logit(lo)).float(), normal.cdf(logit(hi)).float()
    u = c_lo + (c_hi - c_lo) * torch.rand(batch_size, generator=generator)
    return torch.sigmoid(normal.icdf(u.clamp(1e-6, 1 - 1e-6))).clamp(lo, hi)


def lr_at(step: int, cfg: TrainConfig) -> float:
    """Linear warm-up to ``lr`` then cosine decay to ``lr * min_lr_ratio`` at ``steps``."""
    return warmup_cosine(step, cfg.lr, cfg.warmup, cfg.steps, cfg.min_lr_ratio)


def warmup_cosine(step: int, lr: float, warmup: int, steps: int, min_ratio: float) -> float:
    """Linear warm-up to ``lr`` over ``warmup`` steps, then cosine decay to ``lr * min_ratio`` at ``steps``."""
    if step < warmup:
        return lr * (step + 1) / warmup
    frac = (step - warmup) / max(1, steps - warmup)
    return lr * (min_ratio + (1 - min_ratio) * 0.5 * (1 + math.cos(math.pi * frac)))


def to_unit(clips_u8: torch.Tensor) -> torch.Tensor:
    """uint8 ``(B, 3, F, H, W)`` -> float32 in [-1, 1] (``x / 127.5 - 1``)."""
    return clips_u8.float().div_(127.5).sub_(1.0)


def pretrain(
    model: TinyBackend,
    clips_u8: torch.Tensor,
    captions: Sequence[Sequence[str]],
    cfg: TrainConfig,
    save: Callable[[TinyBackend, int, list[float]], None] | None = None,
    start_step: int = 0,
    progress: bool = True,
    weights: torch.Tensor | None = None,
) -> list[float]:
    """Train ``model`` in place (its weights become the EMA weights at the end).

    Args:
        model: a :class:`TinyBackend` (fresh, or resumed from a checkpoint saved by ``save``).
        clips_u8: ``(N, 3, F, H, W)`` uint8 corpus clips matching ``model.video_format``.
        captions: per clip, one or more caption variants (each step picks one uniformly); every word
            must be in the model's vocabulary.
        cfg: the recipe.
        save: called as ``save(ema_model, step, losses)`` every ``cfg.save_every`` steps and at the end.
        start_step: resume point (the EMA then restarts from the loaded weights).
        progress: show a tqdm bar.
        weights: optional ``(N, 1, F', H', W')`` per-clip loss weights on the latent grid (e.g. more weight
            where the object is); the loss becomes their weighted mean of squared errors. ``None``: the plain
            mean (bit-for-bit the unweighted recipe).

    Returns:
        The training loss of every step run.
    """
    if model.config.members != 1:
        raise ValueError(
            f"pretrain trains one model, and this one is an ensemble of {model.config.members}; pretrain each member "
            "as its own model (another train.seed) and join them with TinyBackend.from_members."
        )
    torch.set_num_threads(cfg.threads)
    n = clips_u8.shape[0]
    assert len(captions) == n
    variants = max(len(c) for c in captions)
    # (N, V, L) ids; clips with fewer variants repeat their first; raises on out-of-vocabulary words
    ids_all = torch.stack([model.tokenizer([c[v % len(c)] for v in range(variants)]) for c in captions])
    null_ids = model.tokenizer([""])[0]

    text, den = model.text_encoder, model.denoiser
    params = list(text.parameters()) + list(den.parameters())
    for p in params:
        p.requires_grad_(True)
    text.train()
    den.train()
    # EMA of every weight this loop trains or the model fixed before it (a learned decoder is its own stage)
    ema = {k: v.detach().clone() for k, v in model.state_dict().items() if not k.startswith("decoder.")}
    opt = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay, betas=(0.9, 0.99))

    losses: list[float] = []
    bar = tqdm(range(start_step, cfg.steps), desc="pretrain tiny", disable=not progress, initial=start_step, total=cfg.steps)
    t0 = time.perf_counter()
    for step in bar:
        # --- a batch: clips, prompts (10% null), noise and sigmas, all from step-named seeds
        g = torch_generator(cfg.seed, "pretrain", "batch", step)
        idx = torch.randint(0, n, (cfg.batch_size,), generator=g)
        x = model.encode_video(to_unit(clips_u8[idx]))
        pick = torch.randint(0, variants, (cfg.batch_size,), generator=g)
        ids = ids_all[idx, pick].clone()
        drop = torch.rand(cfg.batch_size, generator=g) < cfg.cfg_drop
        ids[drop] = null_ids
        eps = torch.randn(x.shape, generator=g)
        sigma = draw_sigmas(cfg, cfg.batch_size, g)
        s = sigma.view(-1, 1, 1, 1, 1)
        z = (1 - s) * x + s * eps

        # --- the rectified-flow loss
        with torch.autocast(model.device.type, dtype=torch.bfloat16, enabled=cfg.precision == "bfloat16"):
            pred = den(z, 1000 * sigma, text(ids)).float()
        if weights is None:
            loss = torch.nn.functional.mse_loss(pred, eps - x)
        else:
            loss = ((pred - (eps - x)) ** 2 * weights[idx]).mean()

        # --- the update
        for group in opt.param_groups:
            group["lr"] = lr_at(step, cfg)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, cfg.grad_clip)
        opt.step()

        # --- EMA of the weights (decay ramps up over the first steps)
        decay = min(cfg.ema_decay, (1 + step - start_step) / (10 + step - start_step))
        with torch.no_grad():
            current = model.state_dict()
            for k in ema:
                ema[k].mul_(decay).add_(current[k].detach(), alpha=1 - decay)

        losses.append(loss.item())
        if step % 10 == 0:
            bar.set_postfix(loss=f"{sum(losses[-50:]) / len(losses[-50:]):.4f}", s_per_step=f"{(time.perf_counter() - t0) / (step - start_step + 1):.2f}")
        last = step + 1 == cfg.steps
        if save is not None and ((step + 1) % cfg.save_every == 0 or last):
            live = {k: v.detach().clone() for k, v in model.state_dict().items()}
            model.load_state_dict({**live, **ema})
            save(model, step + 1, losses)
            if not last:
                model.load_state_dict(live)

    model.load_state_dict({**model.state_dict(), **ema})
    for p in params:
        p.requires_grad_(False)
    text.eval()
    den.eval()
    for p in den.parameters():
        p.requires_grad_(True)  # the denoiser stays trainable for fine-tuning and attribution
    return losses


def fresh_model(config: TinyConfig, seed: int, device: str = "cpu") -> TinyBackend:
    """A new :class:`TinyBackend` whose initial weights come from ``derive_seed(seed, "pretrain", "init")``.

    The global torch RNG is forked, so this neither reads nor changes the caller's RNG state.
    """
    with torch.random.fork_rng():
        torch.manual_seed(derive_seed(seed, "pretrain", "init"))
        return TinyBackend(config, device=device)
