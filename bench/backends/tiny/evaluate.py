"""Held-out rectified-flow loss of a tiny model per noise level (the "has it learned the data" figure).

For clips ``x`` with prompts, a fixed ``sigma`` and noise ``eps`` drawn from
``torch_generator(seed, "heldout", clip_index)``, the loss is ``mean (v(z, 1000 sigma) - (eps - x))^2``
with ``z = (1 - sigma) x + sigma eps``. The same noise is used at every sigma and for every model, so
pretrained and untrained models are compared on identical inputs.
"""

from __future__ import annotations

import torch

from curation.seeds import torch_generator

SIGMAS = (0.1, 0.3, 0.5, 0.7, 0.9)


@torch.no_grad()
def loss_per_sigma(
    backend, videos: torch.Tensor, prompts: list[str], sigmas: tuple[float, ...] = SIGMAS, seed: int = 0, batch_size: int = 25
) -> dict[float, float]:
    """Mean rectified-flow loss at each sigma.

    Args:
        backend: any ``Backend`` (the tiny one here).
        videos: ``(N, 3, F, H, W)`` float32 in [-1, 1].
        prompts: ``N`` prompts.
        sigmas: noise levels in (0, 1).
        seed: base seed of the noise draws.

    Returns:
        ``{sigma: loss}`` (float per sigma, averaged over clips and latent elements).
    """
    out = {}
    for sigma in sigmas:
        total, count = 0.0, 0
        for lo in range(0, len(prompts), batch_size):
            x = backend.encode_video(videos[lo : lo + batch_size])
            eps = torch.stack(
                [torch.randn(x.shape[1:], generator=torch_generator(seed, "heldout", lo + i)) for i in range(x.shape[0])]
            ).to(x)
            z = (1 - sigma) * x + sigma * eps
            t = torch.full((x.shape[0],), 1000.0 * sigma)
            v = backend.velocity(z, t, backend.encode_prompt(prompts[lo : lo + batch_size]))
            total += float(((v - (eps - x)) ** 2).mean(dim=(1, 2, 3, 4)).sum())
            count += x.shape[0]
        out[float(sigma)] = total / count
    return out
