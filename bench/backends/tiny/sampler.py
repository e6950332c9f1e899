"""Seeded flow-matching sampling for the tiny backend (diffusers' flow-matching schedulers), with optional
classifier-free guidance.

Three samplers, each a diffusers scheduler's own step rule:

* ``"euler"``: the probability-flow ODE, ``z <- z + (sigma' - sigma) v`` (deterministic given the
  starting noise), ``FlowMatchEulerDiscreteScheduler``;
* ``"heun"``: the same ODE with Heun's second-order rule (``FlowMatchHeunDiscreteScheduler``, EDM's
  solver): each step evaluates the model twice (``2 * steps - 1`` evaluations in all), so its error
  falls with the square of the step size. On the tiny model's validation prompts, 30 Euler steps leave
  part of the one-object failures to the discretisation: 30 Heun steps give what 100 Euler steps give
  (0.76 against 0.70; on the test prompts the share stayed level, 0.69 against 0.70, and the motion share
  rose, 0.67 against 0.64; ``reports/tiny/README.md``);
* ``"stochastic"`` (``stochastic_sampling=True``): every step predicts the clean latent
  ``x0 = z - sigma v`` and re-noises it to the next level, ``z <- (1 - sigma') x0 + sigma' eps``, with
  fresh noise. Errors of the denoiser are not carried along the trajectory but washed out by the new
  noise. On the tiny model this lowers the background grain by about a third but loses part of the motion
  (measured in ``reports/tiny/README.md``).

``"heun"`` is the default (picked on the validation prompts); the figures recorded before it existed were
measured with ``"euler"``, and the report scripts that made them pass it explicitly.

Each video's starting noise comes from ``torch_generator(seed, "tiny", "generate", "noise")`` and its
per-step noise from one generator per video, ``torch_generator(seed, "tiny", "generate", "step-noise")``:
the video for (prompt, seed) is the same whatever batch it is in and whatever ran before (no global RNG).
Guidance: ``v = v_null + g (v_prompt - v_null)`` with the null prompt ``""``; ``g = 1`` skips the
null pass. ``guidance_above = s`` applies it only while sigma > s (a "limited interval"; 0, the default,
applies it at every step).

Place guidance (``place_guidance = w``, off by default) is a second, narrower contrast, composed with the first
as in Liu et al. 2022 (composable diffusion): the prompt's velocity is first pushed away from that of the same
prompt without its start-place phrase (:func:`bench.world.captions.without_place`),
``v <- v_prompt + w (v_prompt - v_placeless)``, and classifier-free guidance then acts on the result, so the
place term is scaled by ``g`` too: ``v_null + g ((v_prompt - v_null) + w (v_prompt - v_placeless))``. A prompt
that names no place gets no place term. ``place_guidance_above`` limits it to sigma above a level, like
``guidance_above``. Why: a small model that has to place one object often hedges between candidate places and
draws it twice, or faintly at both, and sharpening just the place clause makes it commit. On the validation
prompts the one-object share rose from 0.79 to 0.86 at guidance 5. On the test prompts it rose only from 0.78 to
0.79, while the motion share fell from 0.61 to 0.58 (the place words also hold later frames at the start place),
so it is off by default (``reports/tiny/README.md``, session 11). It costs one more model evaluation per step
where it applies.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import torch
from diffusers import FlowMatchEulerDiscreteScheduler, FlowMatchHeunDiscreteScheduler

from bench.errors import BackendError
from bench.world.captions import without_place
from curation.seeds import torch_generator

SAMPLERS = ("euler", "heun", "stochastic")

if TYPE_CHECKING:
    from .model import TinyBackend


def guide(v: torch.Tensor, v_null: torch.Tensor, z: torch.Tensor, sigma: float, g: float, rescale: float = 0.0,
          parallel: float = 1.0) -> torch.Tensor:
    """Classifier-free guidance of the velocity: ``v_null + g (v - v_null)``, optionally with the update's part
    along the prompt's clean-latent prediction weighted by ``parallel`` (Sadat et al. 2024, APG, without its
    momentum and norm threshold) and the result rescaled by diffusers' ``rescale_noise_cfg``."""
    from diffusers.pipelines.stable_diffusion.pipeline_stable_diffusion import rescale_noise_cfg

    if parallel == 1.0:
        out = v_null + g * (v - v_null)
    else:
        x0 = z - sigma * v
        diff = sigma * (v_null - v)  # x0(prompt) - x0(null)
        dims = list(range(1, v.ndim))
        par = (diff * x0).sum(dims, keepdim=True) / x0.pow(2).sum(dims, keepdim=True).clamp_min(1e-12) * x0
        x0_guided = x0 + (g - 1) * (diff - par + parallel * par)
        out = (z - x0_guided) / sigma
    return rescale_noise_cfg(out, v, rescale) if rescale > 0 else out


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
    sampler: str = "heun",
    guidance_above: float = 0.0,
    guidance_rescale: float = 0.0,
    guidance_parallel: float = 1.0,
    linear_decode: bool = False,
    place_guidance: float = 0.0,
    place_guidance_above: float = 0.0,
) -> torch.Tensor:
    """Generate one video per (prompt, seed).

    Args:
        prompts: ``B`` prompts over the model's vocabulary.
        seeds: ``B`` ints, one per prompt.
        steps: solver steps from sigma = 1 to 0.
        guidance: classifier-free guidance scale (1 = none).
        shift: the scheduler's sigma shift (1 = uniform steps in sigma).
        batch_size: videos denoised together (only speed and memory depend on it).
        sampler: ``"euler"``, ``"heun"`` or ``"stochastic"`` (see the module docstring).
        guidance_above: guide only the steps at sigma > this (0: every step).
        guidance_rescale: diffusers' ``rescale_noise_cfg`` on the guided velocity (0: off).
        guidance_parallel: weight of the guidance update's component parallel to the prompt's clean-latent
            prediction (adaptive projected guidance with eta = this; 1: plain guidance).
        linear_decode: decode by the linear latent alone, skipping a learned decoder (as every figure
            recorded before the decoder existed was decoded).
        place_guidance: weight ``w`` of the contrast with the prompt without its start place (module
            docstring; 0: off).
        place_guidance_above: apply the place contrast only at sigma > this (0: every step).

    Returns:
        ``(B, 3, F, H, W)`` float32 in [-1, 1].
    """
    if len(prompts) != len(seeds):
        raise BackendError(f"generate got {len(prompts)} prompts and {len(seeds)} seeds; pass one seed per prompt.")
    if steps < 1:
        raise BackendError(f"generate got steps={steps}; use at least 1 solver step.")
    if sampler not in SAMPLERS:
        raise BackendError(f"unknown sampler {sampler!r}; choose one of {', '.join(SAMPLERS)}.")
    if not math.isfinite(place_guidance) or place_guidance < 0:
        raise BackendError(f"generate got place_guidance={place_guidance}; use a finite weight >= 0 (0 turns it off).")
    out = []
    for lo in range(0, len(prompts), batch_size):
        p, s = prompts[lo : lo + batch_size], seeds[lo : lo + batch_size]
        emb = backend.encode_prompt(list(p))
        null = backend.encode_prompt([""] * len(p)) if guidance != 1.0 else None
        placeless = backend.encode_prompt([without_place(x) for x in p]) if place_guidance else None
        z = initial_noise(backend, list(s))
        stochastic = sampler == "stochastic"
        gens = [torch_generator(int(x), "tiny", "generate", "step-noise") for x in s] if stochastic else None
        if sampler == "heun":
            scheduler = FlowMatchHeunDiscreteScheduler(num_train_timesteps=1000, shift=shift)
        else:
            scheduler = FlowMatchEulerDiscreteScheduler(num_train_timesteps=1000, shift=shift, stochastic_sampling=stochastic)
        scheduler.set_timesteps(steps, device=backend.device)
        for t in scheduler.timesteps:
            tt = t.expand(z.shape[0]).to(z.dtype)
            v = backend.velocity(z, tt, emb)
            if placeless is not None and t / 1000 > place_guidance_above:
                v = v + place_guidance * (v - backend.velocity(z, tt, placeless))
            if null is not None and t / 1000 > guidance_above:
                v = guide(v, backend.velocity(z, tt, null), z, float(t) / 1000, guidance, guidance_rescale, guidance_parallel)
            z = scheduler.step(v, t, z, generator=gens).prev_sample
        out.append(backend.decode_latents(z, linear=linear_decode))
    return torch.cat(out)
