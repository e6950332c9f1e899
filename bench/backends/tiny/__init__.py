"""The embedded ``tiny`` backend: a CPU text-to-video model over the synthetic world.

Modules: :mod:`.latent` (fixed space-to-depth latent), :mod:`.text` (vocabulary tokenizer and text
encoder), :mod:`.denoiser` (frames-as-channels ``UNet2DModel``), :mod:`.model` (:class:`TinyBackend`),
:mod:`.sampler` (seeded flow-matching ODE sampling: Heun by default, Euler, or stochastic), :mod:`.train` (the pretraining loop),
:mod:`.recipe` (recipe, config hash, corpus, cache), :mod:`.evaluate` (held-out loss per sigma),
:mod:`.sample_check` (colour and motion checks of samples), :mod:`.report` (``reports/tiny/``).
The committed pretrained weights live in ``checkpoint/``.
"""

from .model import TinyBackend, TinyConfig

__all__ = ["TinyBackend", "TinyConfig"]
