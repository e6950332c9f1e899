"""The motion-weighted rectified-flow loss at one fixed timestep and one shared noise draw.

For a clean latent ``h`` (``(B, C, F', H', W')``), Motive noises at ``sigma = t_fix / 1000`` with the
one shared ``eps_fix``: ``z = (1 - sigma) h + sigma eps_fix``, asks the model for the velocity at
``t = t_fix``, and compares it with the target ``eps_fix - h``:

    loss = mean over latent locations (f, y, x) of  mask[f, y, x] * e[f, y, x],
    e = mean over channels of (v - (eps_fix - h))^2.

Channel reduction (open in the paper): the mean over channels, so ``mask = 1`` gives exactly the
ordinary MSE loss ``mean((v - target)^2)`` (tested). The mask only weights the loss; noising and the
model input never see it. ``eps_fix`` is drawn once from ``derive_seed(noise_seed, "eps_fix")`` with the
standard latent shape ``(C, F', H', W')`` and shared by every clip and query; no other randomness.
Scaling the loss by 1/F (as the paper does) would scale every gradient by a positive constant and
cannot change a cosine score, so it is not applied.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import torch

from curation.errors import ShapeError
from curation.protocols import AttributableModel
from curation.seeds import derive_seed, torch_generator


@dataclass(frozen=True)
class ObjectiveConfig:
    t_fix: float = 751.0  # diffusers timestep, 1000 * sigma
    noise_seed: int = 0  # eps_fix = N(0, I) from derive_seed(noise_seed, "eps_fix")
    channel_reduction: str = "mean"

    @property
    def sigma(self) -> float:
        return float(self.t_fix) / 1000.0

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "sigma": self.sigma,
                "eps_seed": derive_seed(self.noise_seed, "eps_fix")}


def shared_noise(shape: tuple[int, ...], noise_seed: int) -> torch.Tensor:
    """``eps_fix``: float32 ``N(0, I)`` of ``shape`` (``(C, F', H', W')``), drawn on CPU from a named seed."""
    gen = torch_generator(noise_seed, "eps_fix")
    return torch.randn(shape, generator=gen, dtype=torch.float32)


def location_errors(
    model: AttributableModel, latents: torch.Tensor, emb: torch.Tensor, eps: torch.Tensor, t: float = 751.0
) -> torch.Tensor:
    """Channel-mean squared velocity error per latent location: ``(B, F', H', W')`` (differentiable).

    ``latents``: clean ``h``, ``(B, C, F', H', W')``; ``emb``: prompt embeddings for ``velocity``;
    ``eps``: ``(C, F', H', W')`` or ``(B, C, F', H', W')``; ``t``: the timestep ``1000 * sigma``.
    """
    if latents.ndim != 5:
        raise ShapeError(f"latents of shape {tuple(latents.shape)}; expected (B, C, F', H', W').")
    if eps.shape[-4:] != latents.shape[-4:]:
        raise ShapeError(f"eps of shape {tuple(eps.shape)} for latents {tuple(latents.shape)}; "
                         "expected the standard latent shape - standardise every clip to one format.")
    sigma = float(t) / 1000.0
    eps = eps.to(latents.dtype).expand_as(latents)
    z = (1.0 - sigma) * latents + sigma * eps
    tt = torch.full((latents.shape[0],), float(t), dtype=latents.dtype, device=latents.device)
    v = model.velocity(z, tt, emb)
    return (v - (eps - latents)).pow(2).mean(dim=1)


def reduce_masked(err: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """``mean(mask * err)`` over batch and latent locations; ``mask`` ``(F', H', W')``/``(B, F', H', W')``
    or ``None`` for all ones. ``err``: ``(B, F', H', W')`` from :func:`location_errors`."""
    if mask is None:
        return err.mean()
    if mask.shape[-3:] != err.shape[-3:]:
        raise ShapeError(f"mask of shape {tuple(mask.shape)} for latent grid {tuple(err.shape[-3:])}; "
                         "expected (F', H', W') from a MaskBuilder with this backend's latent_geometry.")
    return (mask.to(err.dtype) * err).mean()


def masked_flow_loss(
    model: AttributableModel,
    latents: torch.Tensor,
    emb: torch.Tensor,
    eps: torch.Tensor,
    mask: torch.Tensor | None = None,
    t: float = 751.0,
) -> torch.Tensor:
    """The masked rectified-flow loss, a scalar averaged over the batch.

    ``latents``: clean ``h``, ``(B, C, F', H', W')``; ``emb``: prompt embeddings for ``velocity``;
    ``eps``: ``(C, F', H', W')`` or ``(B, C, F', H', W')``; ``mask``: ``(F', H', W')`` or
    ``(B, F', H', W')`` float weights, ``None`` for all ones; ``t``: the timestep ``1000 * sigma``.
    """
    return reduce_masked(location_errors(model, latents, emb, eps, t), mask)
