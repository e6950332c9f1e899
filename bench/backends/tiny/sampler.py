"""Seeded flow-matching sampling for the tiny backend (Euler steps of diffusers'
``FlowMatchEulerDiscreteScheduler``), with optional classifier-free guidance.

Each video's starting noise comes from ``torch_generator(seed, "tiny", "generate", "noise")``: the
video for (prompt, seed) is the same whatever batch it is in and whatever ran before (no global RNG).
Guidance: ``v = v_null + g (v_prompt - v_null)`` with the null prompt ``""``; ``g = 1`` skips the
null pass.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from diffusers import FlowMatchEulerDiscreteScheduler

from bench.errors import BackendError
from curation.seeds import torch_generator

if TYPE_CHECKING:
    from .model import TinyBackend


def initial_noise(backend: "TinyBackend", seeds: list[int]) -> torch.Tensor:
    """``(B, C, F', H', W')`` float32 standard normal, one seeded draw per entry of ``seeds``."""
    f, h, w, _ = backend.video_format
    shape = backend.latent_geometry.latent_shape(f, h, w)
    draws = [torch.randn(shape, generator=torch_generator(int(s), "tiny", "generate", "noise")) for s in seeds]
    return torch.stack(draws).to(backend.device)


@torch.no_grad()
def sample(
    backend: "TinyBackend",
    prompts: list[str],
    seeds: list[int],
    steps: int = 30,
    guidance: float = 1.0,
    shift: float = 1.0,
    batch_size: int = 25,
) -> torch.Tensor:
    """Generate one video per (prompt, seed).

    Args:
        prompts: ``B`` prompts over the model's vocabulary.
        seeds: ``B`` ints, one per prompt.
        steps: Euler steps from sigma = 1 to 0.
        guidance: classifier-free guidance scale (1 = none).
        shift: the scheduler's sigma shift (1 = uniform steps in sigma).
        batch_size: videos denoised together (only speed and memory depend on it).

    Returns:
        ``(B, 3, F, H, W)`` float32 in [-1, 1].
    """
    if len(prompts) != len(seeds):
        raise BackendError(f"generate got {len(prompts)} prompts and {len(seeds)} seeds; pass one seed per prompt.")
    if steps < 1:
        raise BackendError(f"generate got steps={steps}; use at least 1 Euler step.")
    out = []
    for lo in range(0, len(prompts), batch_size):
        p, s = prompts[lo : lo + batch_size], seeds[lo : lo + batch_size]
        emb = backend.encode_prompt(list(p))
        null = backend.encode_prompt([""] * len(p)) if guidance != 1.0 else None
        z = initial_noise(backend, list(s))
        scheduler = FlowMatchEulerDiscreteScheduler(num_train_timesteps=1000, shift=shift)
        scheduler.set_timesteps(steps, device=backend.device)
        for t in scheduler.timesteps:
            tt = t.expand(z.shape[0]).to(z.dtype)
            v = backend.velocity(z, tt, emb)
            if null is not None:
                v_null = backend.velocity(z, tt, null)
                v = v_null + guidance * (v - v_null)
            z = scheduler.step(v, t, z).prev_sample
        out.append(backend.decode_latents(z))
    return torch.cat(out)
