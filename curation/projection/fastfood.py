"""Fastfood Johnson-Lindenstrauss projection, applied block by block with explicit row selection.

For input block ``b`` (``n = block_size`` coordinates, a power of two >= k) in group ``q = b // R`` the
block's k x n matrix is

    V_b = (1 / sqrt(k)) * diag(s_q / (||g_q|| sqrt(n)))[:k] * H_n[:k] * diag(g_q) * Pi_q * H_n * diag(beta_b)

applied to ``x_b``, and the k-dim outputs of all blocks are summed, so d need not be a power of two and
``E ||P x||^2 = ||x||^2``. Choices the paper leaves open (recorded in the spec and its version, 2):

* ``beta_b`` (Rademacher signs) is drawn for every block; ``Pi_q`` (a keyed pseudo-random permutation of
  ``0..n-1``, ``hashrng.permutations``, applied as ``(Pi w)_l = w[pi(l)]``), ``g_q`` (standard normals)
  and ``s_q`` (chi(n) row lengths, Le et al. 2013, from the Wilson-Hilferty transform of normals, so each
  row of ``sqrt(k) V_b`` has the length of a Gaussian row) are shared by the ``R = GROUP_ELEMS // n``
  blocks of a *group* (``2**20`` coordinates) and drawn afresh for every group. ``beta`` is bit ``c mod 32``
  of ``hash32(derive_seed(seed, "fastfood", "B"), c // 32)`` for the global coordinate ``c``; the group
  roles ``"P"``, ``"G"``, ``"S"`` are hashes of ``derive_seed(seed, "fastfood", q, role)`` and the position
  (:mod:`hashrng`).
* Why groups: by linearity ``sum_b V_b x_b = M_q (sum_b beta_b * x_b)`` over a group's blocks, with
  ``M_q = S H G Pi H`` the group's shared part. So the expensive part (two Hadamard transforms, the
  permutation, ``G`` and ``S``) runs once per group of ``R`` blocks on one signed sum, and each input
  coordinate costs one multiply-add by +-1 (about 0.5 ns here, against about 13 ns per coordinate for
  spec version 1, which drew every role per block and transformed every block). Every ``V_b`` is still a
  Fastfood matrix; blocks of one group share ``M_q`` but not ``beta_b``, so their outputs stay
  uncorrelated (``E[<V_b x, V_c y>] = 0`` for ``b != c``) and ``E ||P x||^2 = ||x||^2`` holds. The price is
  the signed sum's own error: it adds about ``k / n`` to the relative variance of inner products (1/32 at
  the default ``n = 16384``, ``k = 512``; measured against a dense Gaussian in the tests and in
  ``reports/benchmarks/projection.md``).
* Row selection: the *first k rows* in Sylvester order of the n x n Fastfood matrix, chosen explicitly
  after the transform (as in Schioppa 2024's AFFD; not the implicit transposed form). Because ``Pi`` and
  ``g`` are random, every set of rows has the same pairwise statistics; the first k are cheap, since
  ``H_n[:k] z = H_k fold_k(z)`` with ``fold_k(z)[r] = sum_q z[q k + r]`` (k rounded up to a power of two
  and the extra rows dropped).
* Accumulation in float32: within a group the signed blocks are added one after another in block order
  (each product by +-1 is exact, so only the additions round), then the group outputs are added in group
  order by :mod:`base`; the result does not depend on batch size, chunking or threads.
* Default block size 16384 (``spec.KIND_BLOCK_SIZE``): the signed sum's extra variance falls as ``k / n``
  while the shared transform's cost per input coordinate grows only as ``log n / R``.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from curation.projection import hashrng
from curation.projection.base import Projector
from curation.projection.fwht import fold_halves, hadamard_kron
from curation.projection.spec import ProjectorSpec, next_pow2
from curation.seeds import derive_seed

#: Coordinates per group of blocks sharing ``S``, ``G`` and ``Pi`` (part of spec version 2's meaning).
GROUP_ELEMS = 1 << 20
#: Randomness is cached up to this many bytes by default (4 bytes per input coordinate for the signs,
#: first groups first; the rest is regenerated on every call). The output is the same either way.
DEFAULT_CACHE_BYTES = 256 << 20


def blocks_per_group(spec: ProjectorSpec) -> int:
    """``R``: blocks per group, ``max(1, GROUP_ELEMS // block_size)``."""
    return max(1, GROUP_ELEMS // spec.block_size)


def group_parameters(spec: ProjectorSpec, groups: range) -> dict[str, np.ndarray]:
    """The shared random parameters of ``groups`` as NumPy arrays.

    Returns ``perm`` int32 ``(R, n)``, ``g`` float32 ``(R, n)`` and ``scale`` float64 ``(R, k)`` =
    ``s / (||g|| sqrt(n) sqrt(k))``, one row per group.
    """
    n, k = spec.block_size, spec.output_dim
    key = lambda role: hashrng.block_keys(spec.seed, "fastfood", groups, role)  # noqa: E731
    perm = hashrng.permutations(key("P"), n.bit_length() - 1)
    g = hashrng.normals(key("G"), n)
    z = hashrng.normals(key("S"), k).astype(np.float64)
    c = 2.0 / (9.0 * n)
    s = np.sqrt(n * np.clip(1.0 - c + z * math.sqrt(c), 0.0, None) ** 3)
    gnorm = np.sqrt(np.einsum("ij,ij->i", g, g, dtype=np.float64))[:, None]
    scale = s / (gnorm * math.sqrt(n) * math.sqrt(k))
    return {"perm": perm, "g": g, "scale": scale}


def block_signs(spec: ProjectorSpec, first: int, nblocks: int) -> torch.Tensor:
    """float32 ``(nblocks, n)``: ``beta`` of blocks ``first .. first + nblocks - 1`` (values +-1)."""
    n = spec.block_size
    start, stop = first * n, (first + nblocks) * n
    w0, w1 = start // 32, -(-stop // 32)
    words = hashrng.packed_sign_words(derive_seed(spec.seed, "fastfood", "B"), w0, w1 - w0)
    off = start - 32 * w0
    return hashrng.signs_from_words(words)[off : off + nblocks * n].view(nblocks, n)


class FastfoodProjector(Projector):
    """Blockwise Fastfood with group-shared ``S, G, Pi`` (see the module docstring). ``cache_bytes`` bounds
    the randomness kept between calls (about 4 bytes per input coordinate, first groups first; the rest is
    regenerated on every call). The output is the same either way."""

    kinds = ("fastfood",)
    reduce_elems = GROUP_ELEMS

    def __init__(self, spec: ProjectorSpec, cache_bytes: int = DEFAULT_CACHE_BYTES):
        super().__init__(spec)
        self.k_pow2 = next_pow2(spec.output_dim)
        self.cache_bytes = int(cache_bytes)
        self._cache_used = 0
        self._cache: dict[tuple[int, str], dict[str, torch.Tensor]] = {}

    def _group_bytes(self) -> int:
        return 4 * self.reduce_blocks * self.spec.block_size + 8 * self.spec.block_size + 4 * self.k_pow2

    @property
    def cache_complete(self) -> bool:
        """Whether the randomness of every group fits in ``cache_bytes`` (so repeated calls reuse all of it)."""
        ngroups = -(-self.spec.num_blocks // self.reduce_blocks)
        return ngroups * self._group_bytes() <= self.cache_bytes

    def _params(self, group: int, device: torch.device) -> dict[str, torch.Tensor]:
        """Group ``group``'s signs (for its blocks that exist), permutation, ``g`` and scale on ``device``."""
        key = (group, str(device))
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        rb, k = self.reduce_blocks, self.spec.output_dim
        first = group * rb
        nblocks = min(rb, self.spec.num_blocks - first)
        p = group_parameters(self.spec, range(group, group + 1))
        scale = np.zeros(self.k_pow2, dtype=np.float32)  # zero on the dropped rows k..k2-1
        scale[:k] = p["scale"][0]
        params = {
            "beta": block_signs(self.spec, first, nblocks).to(device),
            "perm": torch.from_numpy(p["perm"][0]).to(device),
            "g": torch.from_numpy(p["g"][0]).to(device),
            "scale": torch.from_numpy(scale).to(device),
        }
        size = sum(t.numel() * t.element_size() for t in params.values())
        if self._cache_used + size <= self.cache_bytes:
            self._cache[key] = params
            self._cache_used += size
        return params

    def _project_groups(self, xb: torch.Tensor, first: int) -> torch.Tensor:
        bsz, nblocks, n = xb.shape
        rb = self.reduce_blocks
        outs = []
        for j in range(-(-nblocks // rb)):
            p = self._params(first // rb + j, xb.device)
            lo, hi = j * rb, min(nblocks, (j + 1) * rb)
            beta = p["beta"]
            u = xb[:, lo] * beta[0]  # (B, n): the signed sum of the group's blocks, in block order
            for c in range(lo + 1, hi):
                u.addcmul_(xb[:, c], beta[c - lo])
            h = hadamard_kron(u)  # H sum_b B_b x_b
            w = torch.index_select(h, 1, p["perm"])  # Pi
            w.mul_(p["g"])  # G
            y = hadamard_kron(fold_halves(w, self.k_pow2))  # first k2 rows of H_n, (B, k2)
            y.mul_(p["scale"])  # S (zero on the dropped rows)
            outs.append(y[:, : self.spec.output_dim])
        return torch.stack(outs, 1)  # (B, groups, k)

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
    rb = blocks_per_group(spec)
    ngroups = -(-spec.num_blocks // rb)
    p = group_parameters(spec, range(ngroups))
    beta = block_signs(spec, 0, spec.num_blocks).double().numpy()
    cols = []
    for b in range(spec.num_blocks):
        q = b // rb
        pi = np.zeros((n, n))
        pi[np.arange(n), p["perm"][q]] = 1.0
        m = H[:k] @ np.diag(p["g"][q].astype(np.float64)) @ pi @ H @ np.diag(beta[b])
        cols.append(p["scale"][q][:, None] * m)
    return np.concatenate(cols, axis=1)[:, :d]
