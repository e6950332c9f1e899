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

Several stores can be filled from one forward pass (e.g. Motive's masked features and the whole-video
baseline's): the per-location error is computed once and each mask's loss is back-propagated in turn
(``retain_graph``), which saves a forward per extra mask and gives the same gradients as separate passes.
Rows already marked done are skipped, so a killed run resumes where it stopped. Queries are featurised
by the same code with their own masks.
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
from curation.objective import ObjectiveConfig, location_errors, masked_flow_loss, reduce_masked, shared_noise
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
        self._names = [n for n, _ in self.params]
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

    def gradients(self, latents: torch.Tensor, emb: torch.Tensor,
                  masks: Sequence[np.ndarray | torch.Tensor | None], t: float | None = None) -> list[ClipGradient]:
        """Projected gradients of the loss under each of ``masks`` for one encoded clip, from one shared
        forward pass (``latents`` ``(1, C, F', H', W')``; a mask ``(F', H', W')`` or ``None`` = ones).

        Raises :class:`NonFiniteError` when a loss or any gradient entry is NaN/Inf.
        """
        for _, p in self.params:
            p.grad = None
        err = location_errors(self.model, latents, emb, self.eps_for(latents),
                              t=self.objective.t_fix if t is None else t)
        out = []
        for j, mask in enumerate(masks):
            loss = reduce_masked(err, None if mask is None else torch.as_tensor(mask, dtype=torch.float32))
            if not torch.isfinite(loss):
                raise NonFiniteError(f"non-finite loss {loss.item()}")
            loss.backward(retain_graph=j < len(masks) - 1)
            grads = [(p.grad if p.grad is not None else torch.zeros_like(p)).reshape(-1) for _, p in self.params]
            # one pass: the projection and ||g||^2 (raises NonFiniteError naming the chunk of a NaN/Inf)
            feature, sq_t = self.projector.project_stream_with_norm(grads, names=self._names)
            sq = float(sq_t)
            for _, p in self.params:
                p.grad = None
            if not math.isfinite(sq):
                raise NonFiniteError(f"non-finite gradient norm {sq}")
            out.append(ClipGradient(feature=feature.detach().numpy().astype(np.float32),
                                    loss=float(loss.detach()), grad_norm=math.sqrt(sq)))
        return out

    def gradient(self, latents: torch.Tensor, emb: torch.Tensor, mask: np.ndarray | torch.Tensor | None,
                 t: float | None = None) -> ClipGradient:
        """Projected gradient of the masked loss for one encoded clip (see :meth:`gradients`)."""
        return self.gradients(latents, emb, [mask], t)[0]

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

    def featurize(self, stores: dict[str, object], items: Sequence[tuple[str, str]],
                  video_of: Callable[[str], torch.Tensor],
                  mask_of: dict[str, Callable[[str], np.ndarray | None] | None],
                  zero_mask: Callable[[str], bool] | None = None, desc: str = "features") -> dict[str, dict[str, int]]:
        """Fill several feature stores at once for ``items`` = ``[(clip_id, caption), ...]`` (row ``i`` of
        every store is ``items[i]``), sharing one encode and one forward pass per clip.

        ``stores`` maps a name (e.g. ``"motive"``, ``"whole_video"``) to a :class:`~curation.store.FeatureStore`;
        ``mask_of[name](clip_id)`` gives that store's ``(F', H', W')`` mask, or ``mask_of[name] = None`` for
        whole-video features. ``zero_mask(clip_id)`` says the clip's motion mask is all zeros: the masked
        stores (those with a mask function) mark its row failed with :data:`ZERO_MASK_REASON`. A
        non-finite loss or gradient marks the row failed in every store still pending. Rows done in a store
        are skipped (resume). Returns per store ``{"done", "failed_nonfinite", "failed_zero_mask", "skipped"}``.
        """
        names = list(stores)
        counts = {n: {"done": 0, "failed_nonfinite": 0, "failed_zero_mask": 0, "skipped": 0} for n in names}
        pending = {n: set(stores[n].pending()) for n in names}
        for n in names:
            counts[n]["skipped"] = len(items) - len(pending[n])
        rows = sorted(set().union(*pending.values()))
        for row in tqdm(rows, desc=desc, leave=False, mininterval=2.0):
            clip_id, caption = items[row]
            todo = [n for n in names if row in pending[n]]
            if zero_mask is not None and zero_mask(clip_id):
                for n in [n for n in todo if mask_of[n] is not None]:
                    stores[n].mark_failed(row, ZERO_MASK_REASON, clip_id=clip_id)
                    counts[n]["failed_zero_mask"] += 1
                todo = [n for n in todo if mask_of[n] is None]
                if not todo:
                    continue
            masks = [mask_of[n](clip_id) if mask_of[n] is not None else None for n in todo]
            latents, emb = self.encode(video_of(clip_id), caption)
            try:
                results = self.gradients(latents, emb, masks)
            except NonFiniteError as exc:
                for n in todo:
                    stores[n].mark_failed(row, f"non-finite gradient: {exc}", clip_id=clip_id)
                    counts[n]["failed_nonfinite"] += 1
                continue
            for n, mask, g in zip(todo, masks, results):
                coverage = 1.0 if mask is None else float(np.asarray(mask).mean())
                stores[n].write_row(row, g.feature, clip_id=clip_id, grad_norm=g.grad_norm, loss=g.loss,
                                    mask_coverage=coverage)
                counts[n]["done"] += 1
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
