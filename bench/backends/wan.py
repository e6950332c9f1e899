"""``WanBackend``: a diffusers Wan text-to-video checkpoint loaded from a local directory.

Expected layout (diffusers ``WanPipeline`` layout; nothing is ever downloaded, ``local_files_only``)::

    <dir>/transformer/config.json + diffusion_pytorch_model*.safetensors   (WanTransformer3DModel)
    <dir>/vae/config.json + diffusion_pytorch_model*.safetensors           (AutoencoderKLWan)
    and either
    <dir>/text_encoder/config.json + model*.safetensors, <dir>/tokenizer/   (UMT5EncoderModel + tokenizer)
    or
    <dir>/prompt_embeds.safetensors   one (L, D) tensor per prompt, keyed by the prompt text ("" = null)
    optional:
    <dir>/scheduler/scheduler_config.json   (default: FlowMatchEulerDiscreteScheduler, shift 3.0)
    <dir>/motive_bench.json   {"video_format": [frames, height, width, fps], "max_sequence_length": L,
                               "flow_shift": s}   (defaults: Wan2.1 480p, [81, 480, 832, 16], 512, 3.0)

The transformer runs in bfloat16 on a GPU and float32 on CPU; the VAE always in float32. Latents are the
VAE's posterior means normalised with its ``latents_mean`` / ``latents_std`` as ``WanPipeline`` does, so
``velocity`` sees exactly what the pipeline's transformer sees. ``t = 1000 * sigma``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterable

import torch

from bench.errors import BackendError
from curation.protocols import LatentGeometry
from curation.seeds import torch_generator

SETTINGS_NAME = "motive_bench.json"
EMBEDS_NAME = "prompt_embeds.safetensors"
DEFAULTS = {"video_format": [81, 480, 832, 16], "max_sequence_length": 512, "flow_shift": 3.0}
LAYOUT = __doc__[__doc__.index("<dir>/transformer") : __doc__.index("The transformer runs")].rstrip()


def _has_weights(folder: Path, stem: str) -> bool:
    return any(folder.glob(f"{stem}*.safetensors"))


def _load_component(cls, folder: Path, dtype: torch.dtype):
    """``cls.from_pretrained(folder)`` offline; without ``accelerate`` (which ``from_pretrained`` needs for
    models with fp32-kept modules, such as the Wan transformer), build from the config and load every
    ``*.safetensors`` shard, keeping ``cls._keep_in_fp32_modules`` in float32 as ``from_pretrained`` would."""
    import importlib.util

    if importlib.util.find_spec("accelerate") is not None:
        return cls.from_pretrained(folder, torch_dtype=dtype, local_files_only=True)
    from safetensors.torch import load_file

    model = cls.from_config(cls.load_config(folder, local_files_only=True))
    state: dict[str, torch.Tensor] = {}
    for shard in sorted(folder.glob("*.safetensors")):
        state.update(load_file(str(shard)))
    model.load_state_dict(state, strict=True)
    model.to(dtype)
    keep = cls._keep_in_fp32_modules or []
    if dtype != torch.float32:
        for name, module in model.named_modules():
            if any(k in name.split(".") for k in keep):
                module.to(torch.float32)
    return model.eval()


def missing_files(path: Path) -> list[str]:
    """What a Wan directory lacks, as relative paths (empty when it is usable)."""
    missing = []
    for sub, stem in (("transformer", "diffusion_pytorch_model"), ("vae", "diffusion_pytorch_model")):
        if not (path / sub / "config.json").is_file():
            missing.append(f"{sub}/config.json")
        if not _has_weights(path / sub, stem):
            missing.append(f"{sub}/{stem}.safetensors")
    if not (path / EMBEDS_NAME).is_file():
        text = []
        if not (path / "text_encoder" / "config.json").is_file():
            text.append("text_encoder/config.json")
        if not _has_weights(path / "text_encoder", "model"):
            text.append("text_encoder/model.safetensors")
        if not (path / "tokenizer").is_dir():
            text.append("tokenizer/")
        if text:
            missing.append(f"{' + '.join(text)} (or {EMBEDS_NAME} instead)")
    return missing


class WanBackend:
    """A local diffusers Wan checkpoint behind the ``Backend`` protocol (see the module docstring)."""

    name = "wan"

    def __init__(self, pipe, settings: dict, path: Path, prompt_embeds: dict[str, torch.Tensor] | None) -> None:
        self.pipe = pipe
        self.settings = settings
        self.path = path
        self.prompt_embeds = prompt_embeds
        self.device = pipe.transformer.device
        self.dtype = pipe.transformer.dtype

    @classmethod
    def load(cls, path: str | Path, device: str = "cpu") -> "WanBackend":
        """Build from a local directory; bf16 transformer on CUDA, fp32 on CPU.

        Raises:
            BackendError: the directory is missing or lacks files (all of them listed, with the layout).
        """
        import diffusers
        from diffusers import AutoencoderKLWan, FlowMatchEulerDiscreteScheduler, WanPipeline, WanTransformer3DModel

        path = Path(path)
        if not path.is_dir():
            raise BackendError(f"Wan directory {str(path)!r} does not exist; expected a local directory laid out as:\n{LAYOUT}")
        missing = missing_files(path)
        if missing:
            raise BackendError(
                f"Wan directory {str(path)!r} lacks: {', '.join(missing)}. Expected layout:\n{LAYOUT}\n"
                "Download a diffusers Wan checkpoint (e.g. Wan-AI/Wan2.1-T2V-1.3B-Diffusers) yourself; motive-bench never downloads."
            )
        settings = dict(DEFAULTS)
        if (path / SETTINGS_NAME).is_file():
            settings.update(json.loads((path / SETTINGS_NAME).read_text()))
        dtype = torch.bfloat16 if str(device).startswith("cuda") else torch.float32
        transformer = _load_component(WanTransformer3DModel, path / "transformer", dtype)
        vae = _load_component(AutoencoderKLWan, path / "vae", torch.float32)
        if (path / "scheduler" / "scheduler_config.json").is_file():
            sched_cfg = json.loads((path / "scheduler" / "scheduler_config.json").read_text())
            scheduler = getattr(diffusers, sched_cfg["_class_name"]).from_pretrained(path / "scheduler", local_files_only=True)
        else:
            scheduler = FlowMatchEulerDiscreteScheduler(shift=float(settings["flow_shift"]))
        tokenizer = text_encoder = None
        embeds = None
        if (path / EMBEDS_NAME).is_file():
            from safetensors.torch import load_file

            embeds = load_file(str(path / EMBEDS_NAME))
        else:
            from transformers import AutoTokenizer, UMT5EncoderModel

            tokenizer = AutoTokenizer.from_pretrained(path / "tokenizer", local_files_only=True)
            text_encoder = UMT5EncoderModel.from_pretrained(path / "text_encoder", torch_dtype=dtype, local_files_only=True)
        pipe = WanPipeline(tokenizer=tokenizer, text_encoder=text_encoder, vae=vae, scheduler=scheduler, transformer=transformer)
        pipe.to(device)
        vae.to(torch.float32)
        transformer.eval()
        vae.requires_grad_(False)
        if text_encoder is not None:
            text_encoder.requires_grad_(False)
        pipe.set_progress_bar_config(disable=True)
        return cls(pipe, settings, path, embeds)

    # ----- protocol: geometry and format -------------------------------------------------------
    @property
    def latent_geometry(self) -> LatentGeometry:
        cfg = self.pipe.vae.config
        return LatentGeometry(
            temporal_stride=int(cfg.scale_factor_temporal), spatial_stride=int(cfg.scale_factor_spatial), channels=int(cfg.z_dim)
        )

    @property
    def video_format(self) -> tuple[int, int, int, int]:
        f, h, w, fps = self.settings["video_format"]
        return (int(f), int(h), int(w), int(fps))

    def _stats(self) -> tuple[torch.Tensor, torch.Tensor]:
        cfg = self.pipe.vae.config
        shape = (1, cfg.z_dim, 1, 1, 1)
        return torch.tensor(cfg.latents_mean).view(shape), torch.tensor(cfg.latents_std).view(shape)

    # ----- protocol: the five members attribution needs ----------------------------------------
    @torch.no_grad()
    def encode_video(self, frames: torch.Tensor) -> torch.Tensor:
        """``(B, 3, F, H, W)`` float in [-1, 1] -> normalised latents ``(B, z_dim, (F-1)/4+1, H/8, W/8)`` float32."""
        if frames.ndim != 5 or frames.shape[1] != 3:
            raise BackendError(f"wan backend got a video batch of shape {tuple(frames.shape)}; expected (B, 3, F, H, W).")
        mean, std = self._stats()
        mu = self.pipe.vae.encode(frames.to(self.pipe.vae.device, torch.float32)).latent_dist.mode()
        return ((mu - mean.to(mu)) / std.to(mu)).float()

    @torch.no_grad()
    def decode_latents(self, latents: torch.Tensor) -> torch.Tensor:
        """Normalised latents -> video ``(B, 3, F, H, W)`` float32 clamped to [-1, 1]."""
        mean, std = self._stats()
        z = latents.to(self.pipe.vae.device, torch.float32)
        video = self.pipe.vae.decode(z * std.to(z) + mean.to(z), return_dict=False)[0]
        return video.float().clamp(-1.0, 1.0)

    @torch.no_grad()
    def encode_prompt(self, texts: list[str]) -> torch.Tensor:
        """Prompts -> ``(B, L, D)`` text embeddings (UMT5 as ``WanPipeline`` runs it, or the precomputed ones)."""
        if self.prompt_embeds is not None:
            absent = [t for t in texts if t not in self.prompt_embeds]
            if absent:
                raise BackendError(
                    f"{self.path / EMBEDS_NAME} has no embeddings for {absent}; it holds {len(self.prompt_embeds)} prompts. "
                    "Add them (keyed by the exact prompt text) or provide text_encoder/ and tokenizer/."
                )
            return torch.stack([self.prompt_embeds[t] for t in texts]).to(self.device, self.dtype)
        embeds, _ = self.pipe.encode_prompt(
            texts, do_classifier_free_guidance=False, max_sequence_length=int(self.settings["max_sequence_length"]),
            device=self.device, dtype=self.dtype,
        )
        return embeds

    def velocity(self, latents_t: torch.Tensor, t: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        """Predicted ``eps - x``, ``(B, C, F', H', W')`` in the input's dtype, for ``t`` ``(B,)`` = ``1000 * sigma``."""
        out = self.pipe.transformer(
            hidden_states=latents_t.to(self.device, self.dtype),
            timestep=t.to(self.device).expand(latents_t.shape[0]),
            encoder_hidden_states=emb.to(self.device, self.dtype),
            return_dict=False,
        )[0]
        return out.to(latents_t.dtype)

    def trainable_parameters(self) -> Iterable[tuple[str, torch.nn.Parameter]]:
        """All ``WanTransformer3DModel`` parameters, ``("transformer....", p)`` in ``named_parameters()`` order."""
        return [(f"transformer.{n}", p) for n, p in self.pipe.transformer.named_parameters()]

    # ----- generation --------------------------------------------------------------------------
    @torch.no_grad()
    def generate(self, prompts: list[str], seeds: list[int], steps: int = 30, guidance: float = 1.0) -> torch.Tensor:
        """``WanPipeline`` sampling, one video per (prompt, seed): ``(B, 3, F, H, W)`` float32 in [-1, 1].

        Starting noise per video from ``torch_generator(seed, "wan", "generate", "noise")``; guidance
        uses the null prompt ``""`` as the negative prompt (``WanPipeline`` guides only when > 1).
        """
        if len(prompts) != len(seeds):
            raise BackendError(f"generate got {len(prompts)} prompts and {len(seeds)} seeds; pass one seed per prompt.")
        f, h, w, _ = self.video_format
        shape = self.latent_geometry.latent_shape(f, h, w)
        out = []
        for prompt, seed in zip(prompts, seeds):
            noise = torch.randn(shape, generator=torch_generator(int(seed), "wan", "generate", "noise"))[None]
            latents = self.pipe(
                prompt_embeds=self.encode_prompt([prompt]),
                negative_prompt_embeds=self.encode_prompt([""]) if guidance > 1.0 else None,
                height=h, width=w, num_frames=f, num_inference_steps=steps, guidance_scale=guidance,
                latents=noise.to(self.device, torch.float32), output_type="latent",
            ).frames
            out.append(self.decode_latents(latents))
        return torch.cat(out)

    # ----- persistence -------------------------------------------------------------------------
    def save(self, path: str | Path) -> None:
        """Write the pipeline in the layout :meth:`load` reads (plus settings and precomputed embeddings)."""
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        self.pipe.transformer.save_pretrained(path / "transformer")
        self.pipe.vae.save_pretrained(path / "vae")
        self.pipe.scheduler.save_pretrained(path / "scheduler")
        if self.pipe.text_encoder is not None:
            self.pipe.text_encoder.save_pretrained(path / "text_encoder")
            self.pipe.tokenizer.save_pretrained(path / "tokenizer")
        if self.prompt_embeds is not None:
            from safetensors.torch import save_file

            save_file({k: v.contiguous() for k, v in self.prompt_embeds.items()}, str(path / EMBEDS_NAME))
        (path / SETTINGS_NAME).write_text(json.dumps(self.settings, indent=2))
