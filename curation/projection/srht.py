"""Subsampled randomised Hadamard transform (SRHT), applied block by block like Fastfood.

Block ``b``: ``y_b = (1 / sqrt(k)) * (H_n diag(beta_b) x_b)[R_b]`` with Rademacher ``beta_b`` (role ``"B"``)
and ``R_b`` the first k entries of the keyed permutation of role ``"R"`` (:func:`hashrng.permutations`);
the block outputs are summed. ``H_n`` is unnormalised (+-1), so ``E ||y||^2 = ||x||^2``. Cheaper than
Fastfood (one transform, no Gaussian), but a vector concentrated on a few Hadamard rows is sampled less
evenly; it is here as a comparison kind.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from curation.projection import hashrng
from curation.projection.base import Projector
from curation.projection.fwht import hadamard_kron
from curation.projection.spec import ProjectorSpec


def srht_parameters(spec: ProjectorSpec, blocks: range) -> tuple[np.ndarray, np.ndarray]:
    """``(R, n)`` float32 signs and ``(R, k)`` int32 sampled rows for ``blocks``."""
    n, k = spec.block_size, spec.output_dim
    signs = hashrng.signs(hashrng.block_keys(spec.seed, "srht", blocks, "B"), n)
    rows = hashrng.permutations(hashrng.block_keys(spec.seed, "srht", blocks, "R"), n.bit_length() - 1)[:, :k]
    return signs, np.ascontiguousarray(rows)


class SRHTProjector(Projector):
    """``srht`` kind (see the module docstring)."""

    kinds = ("srht",)

    def _project_blocks(self, xb: torch.Tensor, first: int) -> torch.Tensor:
        bsz, nblocks, n = xb.shape
        k = self.spec.output_dim
        signs, rows = srht_parameters(self.spec, range(first, first + nblocks))
        u = hadamard_kron(xb * torch.from_numpy(signs).to(xb.device)).view(bsz, nblocks * n)
        index = torch.from_numpy((rows + (np.arange(nblocks, dtype=np.int32) * n)[:, None]).reshape(-1))
        return torch.index_select(u, 1, index.to(xb.device)).view(bsz, nblocks, k) * (1.0 / math.sqrt(k))

    def explicit_matrix(self) -> np.ndarray:
        """The k x d matrix in float64 (for tests; small d only)."""
        from scipy.linalg import hadamard

        spec = self.spec
        h = hadamard(spec.block_size).astype(np.float64)
        signs, rows = srht_parameters(spec, range(spec.num_blocks))
        cols = [h[rows[b]] * signs[b].astype(np.float64)[None, :] / math.sqrt(spec.output_dim)
                for b in range(spec.num_blocks)]
        return np.concatenate(cols, axis=1)[:, : spec.input_dim]
