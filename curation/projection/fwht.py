"""Fast Walsh-Hadamard transform and the deterministic reductions the projections are built from.

Everything here is elementwise additions and subtractions in a fixed order, so a result does not depend
on batch size, memory layout or thread count (BLAS matmuls may change their summation order with the
matrix shape; these do not).
"""

from __future__ import annotations

import torch


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
