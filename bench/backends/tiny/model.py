"""``TinyBackend``: the embedded CPU video generator behind the :class:`bench.backends.base.Backend` protocol.

Pieces: a space-to-depth + PCA-whitened linear latent (:mod:`.latent`), a learned text encoder over the world's
vocabulary (:mod:`.text`), a frames-as-channels ``UNet2DModel`` denoiser (:mod:`.denoiser`) and a
flow-matching ODE sampler (:mod:`.sampler`), and optionally a learned decoder that corrects the linear
decode (:mod:`.decoder`; ``decoder_width = 0``, the default, decodes linearly). Rectified flow:
``z = (1 - sigma) x + sigma eps``, the model predicts ``eps - x`` at ``t = 1000 sigma``.

``trainable_parameters()`` is the denoiser only (the UNet's ``named_parameters()`` order, names
prefixed ``denoiser.``); the text encoder is frozen after pretraining, as Wan's T5 is.

A saved model is a directory with ``config.json`` (``{"backend": "tiny", "config": {...}}``) and
``model.safetensors`` (keys ``latent.*``, ``text.*``, ``denoiser.*`` and, with a learned decoder, ``decoder.*``).

``TinyConfig.members > 1`` is an ensemble (:mod:`.ensemble`): that many text encoders and denoisers
(keys ``text.members.<i>.*``, ``denoiser.members.<i>.*``) over one latent and one decoder, velocities averaged.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

import torch
from safetensors.torch import load_file, save_file

from bench.errors import BackendError
from bench.manifest import asdict_omitting_defaults
from curation.protocols import LatentGeometry

from .decoder import LatentDecoder
from .latent import LinearLatent
from .denoiser import DenoiserConfig, FramesAsChannels
from .ensemble import EnsembleDenoiser, EnsembleText
from .text import TextEncoder, Tokenizer

CONFIG_NAME = "config.json"
WEIGHTS_NAME = "model.safetensors"


@dataclass(frozen=True)
class TinyConfig:
    """Everything needed to rebuild a tiny model (its weights aside)."""

    vocabulary: tuple[str, ...]
    frames: int = 17
    height: int = 32
    width: int = 32
    fps: int = 8
    latent_channels: int = 12
    latent_normalisation: str = "channel"  # how the latent was fitted (LinearLatent.fit); its stds are in the weights
    max_words: int = 32
    text_width: int = 64
    text_layers: int = 2
    text_heads: int = 4
    block_out_channels: tuple[int, ...] = (64, 96, 96)
    layers_per_block: int = 1
    norm_num_groups: int = 16
    attention_head_dim: int = 32
    position_channels: int = 0  # 2: x/y coordinate channels into the denoiser (DenoiserConfig.position_channels)
    members: int = 1  # > 1: an ensemble of this many text encoders + denoisers, velocities averaged (.ensemble)
    decoder_width: int = 0  # 0: decode by the linear latent alone; > 0: add a learned LatentDecoder this wide
    decoder_blocks: int = 3
    world_version: str | None = None
    extra: dict = field(default_factory=dict)  # provenance only (never changes the model)

    def denoiser(self) -> DenoiserConfig:
        c, f, h, _ = self.geometry().latent_shape(self.frames, self.height, self.width)
        return DenoiserConfig(
            latent_channels=c,
            latent_frames=f,
            latent_size=h,
            block_out_channels=tuple(self.block_out_channels),
            layers_per_block=self.layers_per_block,
            norm_num_groups=self.norm_num_groups,
            attention_head_dim=self.attention_head_dim,
            position_channels=self.position_channels,
        )

    def geometry(self) -> LatentGeometry:
        return LinearLatent(self.latent_channels).geometry

    def to_dict(self) -> dict:
        return asdict_omitting_defaults(self, ("latent_normalisation", "position_channels", "members", "decoder_width", "decoder_blocks"))  # older configs stay byte-identical

    @classmethod
    def from_dict(cls, d: dict) -> "TinyConfig":
        d = dict(d)
        d["vocabulary"] = tuple(d["vocabulary"])
        d["block_out_channels"] = tuple(d["block_out_channels"])
        return cls(**d)


class TinyBackend:
    """The embedded tiny text-to-video model (CPU, minutes to pretrain). See the module docstring."""

    name = "tiny"

    def __init__(self, config: TinyConfig, device: str = "cpu") -> None:
        if config.height != config.width:
            raise BackendError(f"tiny backend needs square frames; got {config.height}x{config.width}")
        config.geometry().latent_shape(config.frames, config.height, config.width)  # validates 4n+1
        if not isinstance(config.members, int) or config.members < 1:
            raise BackendError(f"TinyConfig.members={config.members!r}: give 1 (one model) or more (an ensemble).")
        self.config = config
        self.device = torch.device(device)
        self.tokenizer = Tokenizer(config.vocabulary, config.max_words)
        dcfg = config.denoiser()

        def text_encoder() -> TextEncoder:
            return TextEncoder(len(self.tokenizer), config.max_words, config.text_width, config.text_layers,
                               config.text_heads, dcfg.emb_dim)

        m = config.members  # built in this order (text, latent, denoiser), so a seeded init is what it always was
        self.text_encoder = (text_encoder() if m == 1 else EnsembleText([text_encoder() for _ in range(m)])).to(self.device)
        self.latent = LinearLatent(config.latent_channels).to(self.device)
        self.denoiser = (FramesAsChannels(dcfg) if m == 1 else EnsembleDenoiser([FramesAsChannels(dcfg) for _ in range(m)])).to(self.device)
        self.decoder: LatentDecoder | None = None
        if config.decoder_width > 0:
            self.set_decoder(LatentDecoder(dcfg.latent_channels, dcfg.latent_frames, config.decoder_width, config.decoder_blocks))
        self.text_encoder.requires_grad_(False)
        self.text_encoder.eval()
        self.denoiser.eval()

    # ----- protocol: geometry and format -------------------------------------------------------
    @property
    def latent_geometry(self) -> LatentGeometry:
        return self.latent.geometry

    @property
    def video_format(self) -> tuple[int, int, int, int]:
        return (self.config.frames, self.config.height, self.config.width, self.config.fps)

    # ----- protocol: the five members attribution needs ----------------------------------------
    def encode_video(self, frames: torch.Tensor) -> torch.Tensor:
        """``(B, 3, F, H, W)`` float32 in [-1, 1] -> latents ``(B, k, (F-1)/4+1, H/2, W/2)`` float32 (k = 12)."""
        f, h, w = self.config.frames, self.config.height, self.config.width
        if frames.ndim != 5 or tuple(frames.shape[1:]) != (3, f, h, w):
            raise BackendError(
                f"tiny backend got a video batch of shape {tuple(frames.shape)}; expected (B, 3, {f}, {h}, {w}). "
                "Standardise clips to the backend's video_format first."
            )
        with torch.no_grad():
            return self.latent.encode(frames.to(self.device, torch.float32))

    def decode_latents(self, latents: torch.Tensor, linear: bool = False) -> torch.Tensor:
        """Latents ``(B, k, F', H', W')`` -> video ``(B, 3, F, H, W)`` float32 clamped to [-1, 1], by the learned
        decoder if the model has one and ``linear`` is false, else by the linear latent alone."""
        with torch.no_grad():
            if self.decoder is None or linear:
                return self.latent.decode(latents).clamp(-1.0, 1.0)
            return self.decoder.decode(self.latent, latents).clamp(-1.0, 1.0)

    def tokenize(self, texts: list[str]) -> torch.Tensor:
        """Prompts -> ``(B, max_words)`` int64 ids; raises BackendError on out-of-vocabulary words."""
        return self.tokenizer(texts).to(self.device)

    def encode_prompt(self, texts: list[str]) -> torch.Tensor:
        """Prompts -> ``(B, D)`` float32 (``D = 4 * block_out_channels[0]``, times ``members`` for an ensemble);
        ``""`` is the null prompt."""
        with torch.no_grad():
            return self.text_encoder(self.tokenize(texts))

    def velocity(self, latents_t: torch.Tensor, t: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        """Predicted ``eps - x``: ``(B, k, F', H', W')`` float32 for ``t`` ``(B,)`` = ``1000 * sigma``."""
        return self.denoiser(latents_t, t.to(self.device), emb)

    def trainable_parameters(self) -> Iterable[tuple[str, torch.nn.Parameter]]:
        """The denoiser's parameters, ``("denoiser.unet....", p)`` in ``named_parameters()`` order (an ensemble's:
        ``"denoiser.members.0.unet...."``, then member 1's, ...)."""
        return [(f"denoiser.{n}", p) for n, p in self.denoiser.named_parameters()]

    def set_decoder(self, decoder: LatentDecoder | None) -> None:
        """Decode through ``decoder`` from now on (``None``: the linear latent alone); the config follows, so
        :meth:`save` records it."""
        if decoder is not None:
            decoder = decoder.to(self.device).eval().requires_grad_(False)
            width, blocks = decoder.conv_in.out_channels, len(decoder.blocks)
        else:
            width, blocks = 0, TinyConfig.decoder_blocks
        self.decoder = decoder
        self.config = dataclasses.replace(self.config, decoder_width=width, decoder_blocks=blocks)

    # ----- ensembles ---------------------------------------------------------------------------
    @classmethod
    def from_members(cls, members: list["TinyBackend"]) -> "TinyBackend":
        """An ensemble (:mod:`.ensemble`) of single models trained apart on one latent, decoded by the linear latent.

        Raises:
            BackendError: fewer than two models, a model that is itself an ensemble or has a learned decoder,
                or models whose configs or fitted latents differ.
        """
        if len(members) < 2:
            raise BackendError(f"an ensemble needs at least 2 models, got {len(members)}.")
        first = members[0]
        for i, m in enumerate(members):
            if m.config.members != 1 or m.decoder is not None:
                raise BackendError(f"ensemble member {i} is an ensemble or has a learned decoder; give single "
                                   "denoiser-stage models (train the decoder stage on the ensemble afterwards).")
            if dataclasses.replace(m.config, extra={}) != dataclasses.replace(first.config, extra={}):
                raise BackendError(f"ensemble member {i}'s config differs from member 0's; members must share one shape.")
            if any(not torch.equal(a, b) for a, b in zip(m.latent.state_dict().values(), first.latent.state_dict().values())):
                raise BackendError(f"ensemble member {i}'s fitted latent differs from member 0's; members must be "
                                   "trained on the same corpus (same recipe apart from the seed, on one host).")
        with torch.random.fork_rng():  # its initial weights are overwritten below: leave the caller's RNG alone
            model = cls(dataclasses.replace(first.config, members=len(members)), device=str(first.device))
        model.latent.load_state_dict(first.latent.state_dict())
        for target, m in zip(model.text_encoder.members, members):
            target.load_state_dict(m.text_encoder.state_dict())
        for target, m in zip(model.denoiser.members, members):
            target.load_state_dict(m.denoiser.state_dict())
        return model

    # ----- generation --------------------------------------------------------------------------
    def generate(
        self, prompts: list[str], seeds: list[int], steps: int = 30, guidance: float = 1.0, sampler: str = "heun",
        linear_decode: bool = False, place_guidance: float = 0.0, place_guidance_above: float = 0.0,
    ) -> torch.Tensor:
        """One video per (prompt, seed): ``(B, 3, F, H, W)`` float32 in [-1, 1]; see :mod:`.sampler`
        (``sampler``: ``"heun"``, the ODE by Heun's rule, ``"euler"``, the same ODE by Euler's, or
        ``"stochastic"``, re-noising every step; ``linear_decode``: skip the learned decoder;
        ``place_guidance``: weight of the contrast with the prompt without its start place, 0 = off)."""
        from .sampler import sample

        return sample(self, prompts, seeds, steps=steps, guidance=guidance, sampler=sampler, linear_decode=linear_decode,
                      place_guidance=place_guidance, place_guidance_above=place_guidance_above)

    # ----- persistence -------------------------------------------------------------------------
    def state_dict(self) -> dict[str, torch.Tensor]:
        """Weights as one flat dict: ``latent.*`` (fitted PCA), ``text.*``, ``denoiser.*`` (and ``decoder.*``)."""
        out = {f"latent.{k}": v for k, v in self.latent.state_dict().items()}
        out.update({f"text.{k}": v for k, v in self.text_encoder.state_dict().items()})
        out.update({f"denoiser.{k}": v for k, v in self.denoiser.state_dict().items()})
        if self.decoder is not None:
            out.update({f"decoder.{k}": v for k, v in self.decoder.state_dict().items()})
        return out

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        self.latent.load_state_dict({k[7:]: v for k, v in state.items() if k.startswith("latent.")})
        text = {k[5:]: v for k, v in state.items() if k.startswith("text.")}
        den = {k[9:]: v for k, v in state.items() if k.startswith("denoiser.")}
        self.text_encoder.load_state_dict(text)
        self.denoiser.load_state_dict(den)
        dec = {k[8:]: v for k, v in state.items() if k.startswith("decoder.")}
        if (self.decoder is None) != (not dec):
            raise BackendError(
                f"the weights {'hold' if dec else 'lack'} decoder.* tensors but the config has decoder_width="
                f"{self.config.decoder_width}; load config.json and model.safetensors written together by TinyBackend.save."
            )
        if self.decoder is not None:
            self.decoder.load_state_dict(dec)

    def save(self, path: str | Path) -> None:
        """Write ``config.json`` and ``model.safetensors`` into directory ``path`` (created if needed)."""
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        state = {k: v.detach().to("cpu", torch.float32).contiguous() for k, v in self.state_dict().items()}
        save_file(state, str(path / WEIGHTS_NAME))
        (path / CONFIG_NAME).write_text(json.dumps({"backend": "tiny", "config": self.config.to_dict()}, indent=2))

    @classmethod
    def load(cls, path: str | Path, device: str = "cpu") -> "TinyBackend":
        """Rebuild a model written by :meth:`save`.

        Raises:
            BackendError: the directory lacks ``config.json`` or ``model.safetensors``, or is not a tiny model.
        """
        path = Path(path)
        missing = [n for n in (CONFIG_NAME, WEIGHTS_NAME) if not (path / n).is_file()]
        if missing:
            raise BackendError(
                f"tiny model directory {str(path)!r} lacks {missing}; expected {CONFIG_NAME} and {WEIGHTS_NAME} "
                "as written by TinyBackend.save (or `motive-bench pretrain`)."
            )
        meta = json.loads((path / CONFIG_NAME).read_text())
        if meta.get("backend") != "tiny":
            raise BackendError(
                f"{str(path / CONFIG_NAME)!r} describes backend {meta.get('backend')!r}, not 'tiny'; "
                "load it with the matching backend."
            )
        model = cls(TinyConfig.from_dict(meta["config"]), device=device)
        model.load_state_dict(load_file(str(path / WEIGHTS_NAME), device=str(model.device)))
        return model
