"""Fastfood Johnson-Lindenstrauss projection, applied block by block with explicit row selection.

For input block ``b`` (``n = block_size`` coordinates, a power of two >= k) the block's k x n matrix is

    V_b = (1 / sqrt(k)) * diag(s / (||g|| sqrt(n)))[:k] * H_n[:k] * diag(g) * Pi * H_n * diag(beta)

applied to ``x_b``, and the k-dim outputs of all blocks are summed, so d need not be a power of two and
``E ||P x||^2 = ||x||^2``. Choices the paper leaves open (recorded in the spec and its version):

* ``beta`` (role ``"B"``): Rademacher signs; ``Pi`` (role ``"P"``): a keyed pseudo-random permutation of
  ``0..n-1`` (``hashrng.permutations``), applied as ``(Pi w)_l = w[pi(l)]``; ``g`` (role ``"G"``): standard
  normals; ``s`` (role ``"S"``): chi(n) row lengths (Le et al. 2013) from the Wilson-Hilferty transform of
  normals, so each row of ``sqrt(k) V_b`` has the length of a Gaussian row. Each is a hash of
  ``derive_seed(seed, "fastfood", b, role)`` and the position (see :mod:`hashrng`).
* Row selection: the *first k rows* in Sylvester order of the n x n Fastfood matrix, chosen explicitly
  after the transform (as in Schioppa 2024's AFFD; not the implicit transposed form). Because ``Pi`` and
  ``g`` are random, every set of rows has the same pairwise statistics; the first k are cheap, since
  ``H_n[:k] z = H_k fold_k(z)`` with ``fold_k(z)[r] = sum_q z[q k + r]`` (k rounded up to a power of two
  and the extra rows dropped).
* Accumulation in float32, by the fixed deterministic order of :mod:`fwht` and :mod:`base`.
* Default block size 4096: the fastest or tied in a sweep over 1024..16384 at k=512 on this 2-core AVX2
  CPU (``reports/benchmarks/projection.md``); larger blocks cost more Hadamard stages per coordinate,
  smaller ones more fold-and-transform work per coordinate.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from curation.projection import hashrng
from curation.projection.base import Projector
from curation.projection.fwht import fold_halves, hadamard_kron
from curation.projection.spec import ProjectorSpec, next_pow2

#: Per-block randomness is cached up to this many bytes by default (about 12 bytes per input coordinate).
DEFAULT_CACHE_BYTES = 256 << 20


def block_parameters(spec: ProjectorSpec, blocks: range) -> dict[str, np.ndarray]:
    """The random parameters of ``blocks`` as NumPy arrays.

    Returns ``beta`` float32 ``(R, n)``, ``perm`` int32 ``(R, n)``, ``g`` float32 ``(R, n)`` and
    ``scale`` float64 ``(R, k)`` = ``s / (||g|| sqrt(n) sqrt(k))``.
    """
    n, k = spec.block_size, spec.output_dim
    key = lambda role: hashrng.block_keys(spec.seed, "fastfood", blocks, role)  # noqa: E731
    beta = hashrng.signs(key("B"), n)
    perm = hashrng.permutations(key("P"), n.bit_length() - 1)
    g = hashrng.normals(key("G"), n)
    z = hashrng.normals(key("S"), k).astype(np.float64)
    c = 2.0 / (9.0 * n)
    s = np.sqrt(n * np.clip(1.0 - c + z * math.sqrt(c), 0.0, None) ** 3)
    gnorm = np.sqrt(np.einsum("ij,ij->i", g, g, dtype=np.float64))[:, None]
    scale = s / (gnorm * math.sqrt(n) * math.sqrt(k))
    return {"beta": beta, "perm": perm, "g": g, "scale": scale}


class FastfoodProjector(Projector):
    """Blockwise Fastfood (see the module docstring). ``cache_bytes`` bounds the per-block randomness kept
    between calls (about 12 bytes per input coordinate, first blocks first; the rest is regenerated on
    every call). The output is the same either way."""

    kinds = ("fastfood",)

    def __init__(self, spec: ProjectorSpec, cache_bytes: int = DEFAULT_CACHE_BYTES):
        super().__init__(spec)
        k = spec.output_dim
        self.k_pow2 = next_pow2(k)
        self.cache_bytes = int(cache_bytes)
        self._cache_used = 0
        self._cache: dict[tuple[int, int, str], dict[str, torch.Tensor]] = {}

    @property
    def cache_complete(self) -> bool:
        """Whether the randomness of every block fits in ``cache_bytes`` (so repeated calls reuse all of it)."""
        return self.spec.num_blocks * (12 * self.spec.block_size + 4 * self.k_pow2) <= self.cache_bytes

    def _params(self, first: int, nblocks: int, device: torch.device) -> dict[str, torch.Tensor]:
        key = (first, nblocks, str(device))
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        n, k = self.spec.block_size, self.spec.output_dim
        p = block_parameters(self.spec, range(first, first + nblocks))
        flat = p["perm"] + (np.arange(nblocks, dtype=np.int32) * n)[:, None]  # gather index incl. block offset
        scale = np.zeros((nblocks, self.k_pow2), dtype=np.float32)  # zero on the dropped rows k..k2-1
        scale[:, :k] = p["scale"]
        params = {
            "beta": torch.from_numpy(p["beta"]).to(device),
            "flat_perm": torch.from_numpy(flat.reshape(-1)).to(device),
            "g": torch.from_numpy(p["g"].reshape(-1)).to(device),
            "scale": torch.from_numpy(scale).to(device),
        }
        size = sum(t.numel() * t.element_size() for t in params.values())
        if self._cache_used + size <= self.cache_bytes:
            self._cache[key] = params
            self._cache_used += size
        return params

    def _project_blocks(self, xb: torch.Tensor, first: int) -> torch.Tensor:
        bsz, nblocks, n = xb.shape
        p = self._params(first, nblocks, xb.device)
        u = hadamard_kron(xb * p["beta"]).view(bsz, nblocks * n)  # H B x
        w = torch.index_select(u, 1, p["flat_perm"])  # Pi
        w.mul_(p["g"])  # G Pi H B x
        f = fold_halves(w.view(bsz, nblocks, n), self.k_pow2)  # (B, G, k2)
        y = hadamard_kron(f)  # first k2 rows of H_n applied, (B, G, k2)
        y.mul_(p["scale"])  # S (zero on the dropped rows)
        return y[..., : self.spec.output_dim]  # (B, G, k)

    def explicit_matrix(self) -> np.ndarray:
        """The k x d matrix in float64, built densely from the spec (for tests; small d only)."""
        return explicit_fastfood_matrix(self.spec)


def explicit_fastfood_matrix(spec: ProjectorSpec) -> np.ndarray:
    """``(k, d)`` float64: the Fastfood matrix assembled block by block with an explicit ``H_n``."""
    from scipy.linalg import hadamard

    n, k, d = spec.block_size, spec.output_dim, spec.input_dim
    if n * d > 1 << 26:
        raise ValueError(f"explicit matrix of {k}x{d} with block {n} is too large for a test reference")
    H = hadamard(n).astype(np.float64)
    p = block_parameters(spec, range(spec.num_blocks))
    cols = []
    for b in range(spec.num_blocks):
        pi = np.zeros((n, n))
        pi[np.arange(n), p["perm"][b]] = 1.0
        m = H[:k] @ np.diag(p["g"][b].astype(np.float64)) @ pi @ H @ np.diag(p["beta"][b].astype(np.float64))
        cols.append(p["scale"][b][:, None] * m)
    return np.concatenate(cols, axis=1)[:, :d]
