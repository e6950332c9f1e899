"""Per-clip gradient features: masked loss -> backward -> ``.grad`` streamed into the projector -> store.

:class:`GradientFeaturizer` holds one attributable model, one projector and one
:class:`~curation.objective.ObjectiveConfig`. For each clip it

1. encodes the standardised video ``(3, F, H, W)`` to latents and the caption to an embedding (no grad:
   the VAE/latent encoder and the text encoder are frozen);
2. computes :func:`~curation.objective.masked_flow_loss` at ``t_fix`` with the shared ``eps_fix`` and
   the clip's mask (``None`` = mask of ones, the whole-video baseline);
3. back-propagates into the trainable parameters only, and hands their ``.grad`` buffers, one
   parameter at a time in ``trainable_parameters()`` order, to ``Projector.project_stream`` - the full
   gradient is never concatenated into one vector;
4. writes the projected row (unnormalised; cosine scoring normalises) with the loss, gradient norm and
   mask coverage to the feature store, or marks the row failed with the reason (non-finite loss or
   gradient; an all-zero mask under the ``"exclude"`` fallback). The run goes on either way.

Rows already marked done are skipped, so a killed run resumes where it stopped. Queries are
featurised by the same code with their own masks.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
import torch
from tqdm.auto import tqdm

from curation.errors import NonFiniteError, ShapeError
from curation.objective import ObjectiveConfig, masked_flow_loss, shared_noise
from curation.protocols import AttributableModel

ZERO_MASK_REASON = "all-zero mask (no motion above the noise floor; zero_fallback='exclude')"


@dataclass
class ClipGradient:
    """One clip's projected gradient and the statistics stored beside it."""

    feature: np.ndarray  # float32 (k,), unnormalised projection of the full gradient
    loss: float
    grad_norm: float  # l2 norm of the full (unprojected) gradient


class GradientFeaturizer:
    """Featurise clips of one model with one projector at one ``(t_fix, eps_fix)``."""

    def __init__(self, model: AttributableModel, projector, objective: ObjectiveConfig | None = None,
                 latent_shape: Sequence[int] | None = None):
        self.model, self.projector = model, projector
        self.objective = objective or ObjectiveConfig()
        self.params = [(n, p) for n, p in model.trainable_parameters()]
        dim = sum(p.numel() for _, p in self.params)
        if dim != projector.input_dim:
            raise ShapeError(f"the model has {dim} trainable parameters but the projector expects "
                             f"input_dim={projector.input_dim}; build the ProjectorSpec with input_dim={dim}.")
        self._eps = shared_noise(tuple(latent_shape), self.objective.noise_seed) if latent_shape else None

    @property
    def num_parameters(self) -> int:
        return self.projector.input_dim

    def eps_for(self, latents: torch.Tensor) -> torch.Tensor:
        """The shared ``eps_fix`` of the standard latent shape ``(C, F', H', W')`` (drawn on first use)."""
        if self._eps is None:
            self._eps = shared_noise(tuple(latents.shape[1:]), self.objective.noise_seed)
        return self._eps

    def encode(self, video: torch.Tensor, caption: str) -> tuple[torch.Tensor, torch.Tensor]:
        """``(3, F, H, W)`` video and its caption -> latents ``(1, C, F', H', W')`` and embedding."""
        with torch.no_grad():
            return self.model.encode_video(video[None]), self.model.encode_prompt([caption])

    def gradient(self, latents: torch.Tensor, emb: torch.Tensor, mask: np.ndarray | torch.Tensor | None,
                 t: float | None = None, eps: torch.Tensor | None = None) -> ClipGradient:
        """Projected gradient of the masked loss for one encoded clip (``latents`` ``(1, C, F', H', W')``).

        Raises :class:`NonFiniteError` when the loss or any gradient entry is NaN/Inf.
        """
        for _, p in self.params:
            p.grad = None
        m = None if mask is None else torch.as_tensor(mask, dtype=torch.float32)
        loss = masked_flow_loss(self.model, latents, emb, self.eps_for(latents) if eps is None else eps, m,
                                t=self.objective.t_fix if t is None else t)
        if not torch.isfinite(loss):
            raise NonFiniteError(f"non-finite loss {loss.item()}")
        loss.backward()
        grads, names, sq = [], [], 0.0
        for name, p in self.params:
            g = (p.grad if p.grad is not None else torch.zeros_like(p)).reshape(-1)
            grads.append(g)
            names.append(name)
            sq += float(torch.dot(g, g))
        feature = self.projector.project_stream(grads, names=names)  # raises NonFiniteError naming the chunk
        for _, p in self.params:
            p.grad = None
        if not math.isfinite(sq):
            raise NonFiniteError(f"non-finite gradient norm {sq}")
        return ClipGradient(feature=feature.detach().numpy().astype(np.float32), loss=float(loss.detach()), grad_norm=math.sqrt(sq))

    def flat_gradient(self, latents: torch.Tensor, emb: torch.Tensor, mask: np.ndarray | torch.Tensor | None,
                      t: float | None = None) -> torch.Tensor:
        """The exact, unprojected gradient as one float32 vector ``(d,)`` - for fidelity studies on small
        models only (it materialises the whole gradient, which featurisation never does)."""
        for _, p in self.params:
            p.grad = None
        m = None if mask is None else torch.as_tensor(mask, dtype=torch.float32)
        masked_flow_loss(self.model, latents, emb, self.eps_for(latents), m,
                         t=self.objective.t_fix if t is None else t).backward()
        flat = torch.cat([(p.grad if p.grad is not None else torch.zeros_like(p)).reshape(-1).float()
                          for _, p in self.params])
        for _, p in self.params:
            p.grad = None
        return flat

    def featurize(self, store, items: Sequence[tuple[str, str]], video_of: Callable[[str], torch.Tensor],
                  mask_of: Callable[[str], np.ndarray | None] | None, zero_mask: Callable[[str], bool] | None = None,
                  desc: str = "features") -> dict[str, int]:
        """Fill ``store`` for ``items`` = ``[(clip_id, caption), ...]`` (row ``i`` is ``items[i]``).

        ``video_of(clip_id)`` gives ``(3, F, H, W)``; ``mask_of(clip_id)`` gives ``(F', H', W')`` or
        ``None`` (``mask_of=None``: whole-video features). ``zero_mask(clip_id)`` says the clip's mask
        is all zeros; such rows are marked failed with :data:`ZERO_MASK_REASON`. Rows already done are
        skipped (resume). Returns counts ``{"done", "failed_nonfinite", "failed_zero_mask", "skipped"}``.
        """
        counts = {"done": 0, "failed_nonfinite": 0, "failed_zero_mask": 0, "skipped": 0}
        pending = set(store.pending())
        counts["skipped"] = len(items) - len(pending)
        for row in tqdm(sorted(pending), desc=desc, leave=False):
            clip_id, caption = items[row]
            if zero_mask is not None and zero_mask(clip_id):
                store.mark_failed(row, ZERO_MASK_REASON)
                counts["failed_zero_mask"] += 1
                continue
            mask = mask_of(clip_id) if mask_of is not None else None
            latents, emb = self.encode(video_of(clip_id), caption)
            try:
                g = self.gradient(latents, emb, mask)
            except NonFiniteError as exc:
                store.mark_failed(row, f"non-finite gradient: {exc}")
                counts["failed_nonfinite"] += 1
                continue
            coverage = 1.0 if mask is None else float(np.asarray(mask).mean())
            store.write_row(row, g.feature, clip_id=clip_id, grad_norm=g.grad_norm, loss=g.loss,
                            mask_coverage=coverage)
            counts["done"] += 1
        return counts


def measure_overhead(featurizer: GradientFeaturizer, latents: torch.Tensor, emb: torch.Tensor,
                     mask: np.ndarray, repeats: int = 5) -> dict[str, float]:
    """Seconds per clip of a plain forward+backward (ordinary loss, fresh noise, ``.grad`` accumulated
    as in training) and of the full featurisation step (masked loss, backward, streamed projection),
    measured alternately in the same process, and their ratio. ``latents``: ``(1, C, F', H', W')``."""
    gen = torch.Generator().manual_seed(0)

    def plain() -> None:
        eps = torch.randn(latents.shape, generator=gen)
        loss = masked_flow_loss(featurizer.model, latents, emb, eps, None, t=featurizer.objective.t_fix)
        loss.backward()
        for _, p in featurizer.params:
            p.grad = None

    def attributed() -> None:
        featurizer.gradient(latents, emb, mask)

    times = {"plain": [], "featurize": []}
    plain(), attributed()  # warm-up
    for _ in range(repeats):
        for key, fn in (("plain", plain), ("featurize", attributed)):
            t0 = time.perf_counter()
            fn()
            times[key].append(time.perf_counter() - t0)
    p, f = float(np.median(times["plain"])), float(np.median(times["featurize"]))
    return {"plain_s": p, "featurize_s": f, "ratio": f / p}
