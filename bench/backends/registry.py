"""Backend lookup by name: ``load_backend("tiny")`` gives the embedded pretrained model.

``load_backend(name, path=None, device="cpu")``:

* ``"tiny"`` with no path loads the committed checkpoint in ``bench/backends/tiny/checkpoint/``
  (package data, read through ``importlib.resources``); with a path, a directory written by
  ``TinyBackend.save`` or ``motive-bench pretrain``.
* ``"wan"`` needs a path: a local diffusers Wan directory (see :mod:`bench.backends.wan`).
"""

from __future__ import annotations

import importlib.resources
from pathlib import Path

from bench.errors import BackendError

from .base import Backend

NAMES = ("tiny", "wan")


def embedded_checkpoint() -> Path:
    """The directory of the committed pretrained tiny checkpoint (``config.json``, ``model.safetensors``)."""
    return Path(str(importlib.resources.files("bench.backends.tiny") / "checkpoint"))


def load_backend(name: str, path: str | Path | None = None, device: str = "cpu") -> Backend:
    """Build a backend by name.

    Raises:
        BackendError: an unknown name, ``"wan"`` without a path, or a directory the backend cannot use.
    """
    if name == "tiny":
        from .tiny.model import TinyBackend

        return TinyBackend.load(embedded_checkpoint() if path is None else Path(path), device=device)
    if name == "wan":
        if path is None:
            raise BackendError(
                "the wan backend needs a local diffusers Wan directory (transformer/, vae/, and text_encoder/ + "
                "tokenizer/ or prompt_embeds.safetensors); pass its path. Nothing is ever downloaded."
            )
        from .wan import WanBackend

        return WanBackend.load(path, device=device)
    raise BackendError(f"unknown backend {name!r}; expected one of {list(NAMES)}.")
