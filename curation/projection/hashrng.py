"""Counter-based randomness for the projections: every random value is a hash of (key, position).

A block's randomness is ``f(derive_seed(seed, kind, block_index, role), position)`` for a fixed 32-bit
mixing function, so it needs no generator state, can be regenerated for any block in any order, and does
not change when NumPy or torch change their RNG streams (a spec always means the same matrix). The
hashing is done in NumPy ``uint32`` arithmetic, whose wrap-around is defined.

Arrays are shaped ``(R, n)`` for ``R`` keys (blocks) at once.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from curation.seeds import derive_seed

_M1 = np.uint32(0x7FEB352D)
_M2 = np.uint32(0x846CA68B)


def block_keys(seed: int, kind: str, blocks: np.ndarray | range, role: str) -> np.ndarray:
    """``(R,)`` uint64 keys ``derive_seed(seed, kind, b, role)`` for the block indices ``blocks``."""
    return np.array([derive_seed(seed, kind, int(b), role) for b in blocks], dtype=np.uint64)


def _mix32(x: np.ndarray) -> np.ndarray:
    """Chris Wellons' ``lowbias32`` integer hash (a bijection on uint32), in place on a fresh array."""
    x ^= x >> np.uint32(16)
    x *= _M1
    x ^= x >> np.uint32(15)
    x *= _M2
    x ^= x >> np.uint32(16)
    return x


def hash32(keys: np.ndarray, n: int, start: int = 0) -> np.ndarray:
    """``(R, n)`` uint32 values ``mix(mix(i ^ lo(key)) ^ hi(key))`` for positions ``i = start..start+n-1``."""
    keys = np.asarray(keys, dtype=np.uint64).reshape(-1, 1)
    lo = (keys & np.uint64(0xFFFFFFFF)).astype(np.uint32)
    hi = (keys >> np.uint64(32)).astype(np.uint32)
    idx = np.arange(start, start + n, dtype=np.uint32)[None, :]
    x = _mix32(idx ^ lo)
    x ^= hi
    return _mix32(x)


def uniforms(keys: np.ndarray, n: int) -> np.ndarray:
    """``(R, n)`` float64 uniforms in the open interval (0, 1), 24 bits each."""
    return ((hash32(keys, n) >> np.uint32(8)).astype(np.float64) + 0.5) * (1.0 / (1 << 24))


def signs(keys: np.ndarray, n: int) -> np.ndarray:
    """``(R, n)`` float32 values +-1 from the top bit of each hash."""
    bits = (hash32(keys, n) >> np.uint32(31)).astype(np.float32)
    return 1.0 - 2.0 * bits


@lru_cache(maxsize=1)
def normal_table() -> np.ndarray:
    """float32 ``(65536,)`` standard normal quantiles at the bin midpoints ``(i + 0.5) / 65536``."""
    from scipy.special import ndtri

    return ndtri((np.arange(1 << 16, dtype=np.float64) + 0.5) / (1 << 16)).astype(np.float32)


def normals(keys: np.ndarray, n: int) -> np.ndarray:
    """``(R, n)`` float32 standard normals by inverse CDF: the top 16 bits of each hash pick one of 65536
    equiprobable quantiles (:func:`normal_table`; unit variance to 1e-4, tails cut at +-4.33).

    A table look-up is used instead of Box-Muller because it is ~10x cheaper to regenerate and gives the
    same values on every platform (no libm transcendental in the loop).
    """
    return normal_table()[hash32(keys, n) >> np.uint32(16)]


def permutations(keys: np.ndarray, bits: int, rounds: int = 4) -> np.ndarray:
    """``(R, 2**bits)`` int32 permutations of ``0..2**bits-1``: a keyed bijection on ``bits``-bit words.

    Each round maps ``x -> a*x + c (mod 2**bits)`` with an odd ``a`` and then ``x -> x ^ (x >> s)``,
    ``s = ceil(bits/2)``; both are bijections, the multiply carries low bits upward and the shift brings
    high bits down. ``a`` and ``c`` of every round are hashes of the key. This is a pseudo-random
    permutation (not uniform over all ``n!``), cheap to regenerate without storing it.
    """
    n = 1 << bits
    keys = np.asarray(keys, dtype=np.uint64).reshape(-1)
    params = hash32(keys, 2 * rounds)  # (R, 2*rounds)
    mask = np.uint32(n - 1)
    shift = np.uint32((bits + 1) // 2)
    x = np.broadcast_to(np.arange(n, dtype=np.uint32), (keys.size, n)).copy()
    for r in range(rounds):
        a = (params[:, 2 * r : 2 * r + 1] | np.uint32(1))
        c = params[:, 2 * r + 1 : 2 * r + 2]
        x *= a
        x += c
        x &= mask
        if bits > 1:
            x ^= x >> shift
    return x.view(np.int32)  # values < 2**bits <= 2**31


@lru_cache(maxsize=1)
def _byte_sign_table():
    """torch float32 ``(256, 8)``: row ``v`` holds ``1 - 2 * bit_i(v)`` for bits ``i = 0..7`` (LSB first)."""
    import torch

    bits = (np.arange(256)[:, None] >> np.arange(8)[None, :]) & 1
    return torch.from_numpy((1.0 - 2.0 * bits).astype(np.float32))


def packed_sign_words(key: int, start_word: int, nwords: int) -> np.ndarray:
    """``(nwords,)`` uint32 words ``hash32(key, w)`` for ``w = start_word .. start_word + nwords - 1``; bit
    ``i`` (LSB first) of word ``w`` is the sign bit of coordinate ``32 w + i`` (see :func:`signs_from_words`)."""
    if start_word + nwords > 1 << 32:
        raise ValueError(f"sign words up to {start_word + nwords} exceed the 2**32 counter range "
                         f"(inputs of more than 2**37 coordinates); split the gradient over several projections")
    return hash32(np.array([key], dtype=np.uint64), nwords, start_word)[0]


def signs_from_words(words: np.ndarray):
    """torch float32 ``(32 * len(words),)`` values +-1: coordinate ``32 w + i`` is ``-1`` where bit ``i``
    (least significant first) of ``words[w]`` is set. Independent of the machine's byte order."""
    import torch

    data = np.ascontiguousarray(words, dtype="<u4").view(np.uint8)
    return torch.index_select(_byte_sign_table(), 0, torch.from_numpy(data.astype(np.int64))).view(-1)
