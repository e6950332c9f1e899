"""Seeds derived from stable names, for the evaluators' resampling (bootstrap) draws.

The same algorithm as ``curation.seeds.derive_seed`` (a BLAKE2b hash of the base seed and the typed
names), restated here because ``evaluators`` may not import ``curation``; a test checks that the two
agree. No draw depends on global RNG state.
"""

from __future__ import annotations

import hashlib

import numpy as np


def derive_seed(seed: int, *names: object) -> int:
    """A 63-bit seed from ``seed`` and str/int names, e.g. ``derive_seed(0, "bootstrap", "bt")``."""
    text = "\x1f".join([str(int(seed))] + [f"{type(n).__name__}:{n}" for n in names])
    digest = hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "little") & ((1 << 63) - 1)


def numpy_rng(seed: int, *names: object) -> np.random.Generator:
    """A NumPy generator seeded by :func:`derive_seed`."""
    return np.random.default_rng(derive_seed(seed, *names))
