"""Count-sketch projection: each input coordinate goes, with a random sign, into one of k buckets.

Coordinate ``i`` of block ``b`` lands in bucket ``floor(h * k / 2**32)`` for ``h`` a hash of
``derive_seed(seed, "countsketch", b, "bucket")`` and ``i``, with the sign from role ``"sign"``.
``E ||P x||^2 = ||x||^2`` without rescaling. Cost is one scatter-add per coordinate; its inner-product
error is larger than a dense Gaussian's on spread-out vectors only by the bucket collisions.
"""

from __future__ import annotations

import numpy as np
import torch

from curation.projection import hashrng
from curation.projection.base import Projector
from curation.projection.spec import ProjectorSpec


def sketch_parameters(spec: ProjectorSpec, blocks: range) -> tuple[np.ndarray, np.ndarray]:
    """``(R, n)`` int64 buckets in ``[0, k)`` and ``(R, n)`` float32 signs for ``blocks``."""
    n, k = spec.block_size, spec.output_dim
    h = hashrng.hash32(hashrng.block_keys(spec.seed, "countsketch", blocks, "bucket"), n).astype(np.uint64)
    buckets = ((h * np.uint64(k)) >> np.uint64(32)).astype(np.int64)
    signs = hashrng.signs(hashrng.block_keys(spec.seed, "countsketch", blocks, "sign"), n)
    return buckets, signs


class CountSketchProjector(Projector):
    """``countsketch`` kind (see the module docstring)."""

    kinds = ("countsketch",)

    def _project_blocks(self, xg: torch.Tensor, first: int) -> torch.Tensor:
        bsz, nblocks, n = xg.shape
        k = self.spec.output_dim
        buckets, signs = sketch_parameters(self.spec, range(first, first + nblocks))
        index = torch.from_numpy((buckets + (np.arange(nblocks) * k)[:, None]).reshape(-1)).to(xg.device)
        vals = (xg * torch.from_numpy(signs).to(xg.device)).reshape(bsz, nblocks * n)
        y = torch.zeros(bsz, nblocks * k, dtype=torch.float32, device=xg.device).index_add_(1, index, vals)
        return y.view(bsz, nblocks, k)

    def explicit_matrix(self) -> np.ndarray:
        """The k x d matrix in float64 (for tests; small d only)."""
        spec = self.spec
        buckets, signs = sketch_parameters(spec, range(spec.num_blocks))
        m = np.zeros((spec.output_dim, spec.num_blocks * spec.block_size))
        cols = np.arange(m.shape[1])
        m[buckets.reshape(-1), cols] = signs.reshape(-1)
        return m[:, : spec.input_dim]
