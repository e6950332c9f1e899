"""An ensemble of independently pretrained tiny models: their velocities averaged (the shipped checkpoint is one).

``TinyConfig.members = M > 1`` makes :class:`~.model.TinyBackend` hold ``M`` text encoders and ``M``
denoisers over one shared linear latent (and one learned decoder); :meth:`~.model.TinyBackend.from_members`
builds one from single models trained apart on the same corpus (``PretrainRecipe.members`` trains and joins
them: :mod:`.recipe`). Each member reads its own prompt embedding: the text encoders' outputs lie side by
side, ``(B, M * D)``, and the ensemble denoiser gives member ``i`` the ``i``-th slice, then returns the mean
of the members' velocities. So the sampler, classifier-free guidance (the null prompt is every member's null
vector), the report and attribution see one model with one ``encode_prompt`` and one ``velocity``;
attribution's parameters are all members' denoisers.

Measured (``reports/tiny/README.md``, sessions 13-14): two members trained at once (bf16, one thread each,
11,000 steps at learning rate 5e-4) average to one object 0.83 / moves 0.62 on the test prompts, against
0.78 / 0.61 for the single fp32 model of 12,000 steps shipped before; at learning rate 1e-3 a pair reached
only 0.74. That pair is the committed checkpoint (``members: 2`` in its recipe).
"""

from __future__ import annotations

import torch
from torch import nn


def _members(modules: list[nn.Module], what: str) -> nn.ModuleList:
    if len(modules) < 2:
        raise ValueError(f"an ensemble needs at least 2 {what}, got {len(modules)}.")
    return nn.ModuleList(modules)


class EnsembleText(nn.Module):
    """``M`` text encoders: token ids ``(B, L)`` -> their embeddings side by side, ``(B, M * D)``."""

    def __init__(self, encoders: list[nn.Module]) -> None:
        super().__init__()
        self.members = _members(encoders, "text encoders")

    @property
    def null(self) -> torch.Tensor:
        """The empty prompt's embedding: each member's null vector, side by side."""
        return torch.cat([m.null for m in self.members])

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return torch.cat([m(ids) for m in self.members], dim=-1)


class EnsembleDenoiser(nn.Module):
    """``M`` denoisers: ``(latents, t, emb (B, M * D)) -> `` the mean of member ``i``'s velocity on slice ``i``."""

    def __init__(self, denoisers: list[nn.Module]) -> None:
        super().__init__()
        self.members = _members(denoisers, "denoisers")
        self.cfg = denoisers[0].cfg

    def forward(self, latents: torch.Tensor, t: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        m, d = len(self.members), self.cfg.emb_dim
        if emb.shape[-1] != m * d:
            raise ValueError(
                f"the ensemble of {m} denoisers takes prompt embeddings of width {m} x {d} = {m * d}, got "
                f"{emb.shape[-1]}; encode the prompt with the same model's encode_prompt."
            )
        total = None
        for i, member in enumerate(self.members):
            v = member(latents, t, emb[..., i * d : (i + 1) * d])
            total = v if total is None else total + v
        return total / m
