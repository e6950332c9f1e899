"""Seeds derived from stable names.

Every random draw in motive-bench comes from ``derive_seed(seed, role, index, ...)``: a hash of the
base seed and the names that identify the draw. It never depends on global RNG state, on batch
position, or on the hardware, and two roles cannot collide by arithmetic (TRAK's ``seed + i``
collides: seed 0 / clip 1 == seed 1 / clip 0; a hash of the tuple does not).
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # numpy and torch are imported where used, so that light callers stay light
    import numpy as np
    import torch


def derive_seed(seed: int, *names: object) -> int:
    """A 63-bit seed from ``seed`` and any str/int names, e.g. ``derive_seed(0, "fastfood", 3, "G")``.

    The same arguments give the same seed on every platform and Python version.
    """
    text = "\x1f".join([str(int(seed))] + [f"{type(n).__name__}:{n}" for n in names])
    digest = hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "little") & ((1 << 63) - 1)


def numpy_rng(seed: int, *names: object) -> "np.random.Generator":
    """A NumPy generator seeded by :func:`derive_seed`."""
    import numpy as np

    return np.random.default_rng(derive_seed(seed, *names))


def torch_generator(seed: int, *names: object, device: "str | torch.device" = "cpu") -> "torch.Generator":
    """A torch generator seeded by :func:`derive_seed` (CPU by default so draws match across hardware)."""
    import torch

    gen = torch.Generator(device=device)
    gen.manual_seed(derive_seed(seed, *names))
    return gen
