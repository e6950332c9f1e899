"""Walsh-Hadamard transforms and the deterministic reductions the projections are built from.

:func:`fwht` is the textbook butterfly (elementwise adds in a fixed order). :func:`hadamard_kron` is the
fast path: ``H_n = H_f1 (x) ... (x) H_fm`` with factors of at most 32, each applied as one small matmul over
its axis. The matmuls multiply by +-1 entries over a fixed inner size, whose
result was checked to be bit-identical for any row count and thread count with torch's MKL (the tests
re-check it: batch, chunk and thread invariance).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch


def kron_factors(n: int) -> tuple[int, ...]:
    """Powers of two, each <= 32, as few and as equal as possible, whose product is ``n`` (a power of two).

    Measured on one AVX2 core: 4096 -> (16, 16, 16) about 4 ns per element, (64, 64) 5 ns; 512 -> (32, 16)
    0.5 ns per element of the unfolded block, (8, 8, 8) 1.3 ns (tiny batched matmuls are slow).
    """
    bits = n.bit_length() - 1
    m = max(1, -(-bits // 5))
    return tuple(1 << (bits // m + (1 if i < bits % m else 0)) for i in range(m))


@lru_cache(maxsize=32)
def _hadamard_cpu(f: int) -> torch.Tensor:
    from scipy.linalg import hadamard

    return torch.from_numpy(hadamard(f).astype(np.float32))


def hadamard_matrix(f: int, device: torch.device | str = "cpu") -> torch.Tensor:
    """float32 ``(f, f)`` Sylvester Hadamard matrix with entries +-1."""
    h = _hadamard_cpu(f)
    return h if str(device) == "cpu" else h.to(device)


def hadamard_kron(x: torch.Tensor) -> torch.Tensor:
    """``x @ H_n`` along the last dim of float32 ``x`` ``(..., n)``, natural order, as a new tensor.

    ``H_n = H_f1 (x) ... (x) H_fm`` (:func:`kron_factors`, each <= 32): the last factor is one matmul
    from the right over rows of ``fm``; every other factor a batched matmul from the left over its axis,
    so no transpose is needed (about 5 ns per element for n = 4096 on one AVX2 core).
    """
    shape = x.shape
    n = shape[-1]
    factors = kron_factors(n)
    t = x.reshape(-1, factors[-1]) @ hadamard_matrix(factors[-1], x.device)
    inner = factors[-1]
    for f in reversed(factors[:-1]):
        t = torch.matmul(hadamard_matrix(f, x.device), t.view(-1, f, inner))
        inner *= f
    return t.view(shape)


def fwht(x: torch.Tensor) -> torch.Tensor:
    """Unnormalised Walsh-Hadamard transform along the last dim, Sylvester (natural) order.

    ``x``: float tensor ``(..., n)``, ``n`` a power of two. Returns a new tensor ``(..., n)`` equal to
    ``x @ H_n`` with ``H_n[i, j] = (-1) ** popcount(i & j)`` (``H_n`` is symmetric; ``H_n @ H_n = n I``).
    Stages run from the largest stride down; each stage is one add and one subtract over half the data.
    """
    n = x.shape[-1]
    assert n & (n - 1) == 0, "fwht needs a power-of-two length"
    shape = x.shape
    src = x.reshape(-1, n).contiguous()
    if n == 1:
        return src.clone().view(shape)
    dst = torch.empty_like(src)
    rows = src.shape[0]
    h = n // 2
    first = True
    while h >= 1:
        s = src.view(rows, n // (2 * h), 2, h)
        t = dst.view(rows, n // (2 * h), 2, h)
        torch.add(s[:, :, 0], s[:, :, 1], out=t[:, :, 0])
        torch.sub(s[:, :, 0], s[:, :, 1], out=t[:, :, 1])
        if first:  # never overwrite the caller's tensor: from now on ping-pong between our own buffers
            src = torch.empty_like(dst)
            first = False
        src, dst = dst, src
        h //= 2
    return src.view(shape)


def fold_halves(x: torch.Tensor, size: int) -> torch.Tensor:
    """Fold the last dim ``n`` down to ``size`` (both powers of two) by adding halves repeatedly.

    ``x``: ``(..., n)`` -> ``(..., size)`` with ``out[..., r] = sum_q x[..., q*size + r]``.
    """
    n = x.shape[-1]
    while n > size:
        n //= 2
        x = x[..., :n] + x[..., n:]
    return x


def tree_sum(y: torch.Tensor, dim: int) -> torch.Tensor:
    """Sum over ``dim`` by a pairwise tree (zero-padded to a power of two, halves added first).

    The result for a given set of summands is independent of how many zero summands pad it, so a
    partial group sums exactly like a full one padded with zeros.
    """
    y = y.movedim(dim, 0)
    m = y.shape[0]
    size = 1 << max(0, (m - 1).bit_length())
    if size != m:
        y = torch.cat([y, y.new_zeros((size - m,) + tuple(y.shape[1:]))], 0)
    while y.shape[0] > 1:
        half = y.shape[0] // 2
        y = y[:half] + y[half:]
    return y[0]
