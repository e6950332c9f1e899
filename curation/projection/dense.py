"""Dense random projections, the references Fastfood is checked against.

The k x d matrix is never stored: block ``b`` (``n = block_size`` columns) is regenerated on every call
from a torch CPU generator seeded with ``derive_seed(seed, kind, b, "R")``, then used in one matmul.
Entries are i.i.d. ``N(0, 1/k)`` (``dense_gaussian``) or ``+-1/sqrt(k)`` (``dense_rademacher``), so
``E ||P x||^2 = ||x||^2``. Regenerating costs ``k`` random draws per input coordinate: slow by design.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from curation.projection.base import Projector
from curation.projection.spec import ProjectorSpec
from curation.seeds import torch_generator


def dense_block(spec: ProjectorSpec, block: int) -> torch.Tensor:
    """Float32 ``(k, n)`` columns ``block*n ... block*n + n - 1`` of the matrix (beyond d: unused)."""
    gen = torch_generator(spec.seed, spec.kind, block, "R")
    k, n = spec.output_dim, spec.block_size
    if spec.kind == "dense_gaussian":
        return torch.randn(k, n, generator=gen) * (1.0 / math.sqrt(k))
    if spec.kind == "dense_rademacher":
        bits = torch.randint(0, 2, (k, n), generator=gen, dtype=torch.int8).to(torch.float32)
        return (1.0 - 2.0 * bits) * (1.0 / math.sqrt(k))
    raise ValueError(f"dense_block does not handle kind {spec.kind!r}")


class DenseProjector(Projector):
    """``dense_gaussian`` / ``dense_rademacher``: block-regenerated dense matrix times the input."""

    kinds = ("dense_gaussian", "dense_rademacher")

    def _project_blocks(self, xb: torch.Tensor, first: int) -> torch.Tensor:
        outs = [xb[:, j] @ dense_block(self.spec, first + j).to(xb.device).T for j in range(xb.shape[1])]
        return torch.stack(outs, 1)

    def explicit_matrix(self) -> np.ndarray:
        """The k x d matrix in float64 (for tests; small d only)."""
        blocks = [dense_block(self.spec, b).double().numpy() for b in range(self.spec.num_blocks)]
        return np.concatenate(blocks, axis=1)[:, : self.spec.input_dim]
