"""The pretraining recipe of the tiny backend, its config hash, the corpus it trains on, and the cache.

A :class:`PretrainRecipe` (model shape + :class:`~.train.TrainConfig` + world config + corpus size) fully
determines a pretraining run; its hash names the cache directory ``<cache>/tiny-<hash16>/``, which holds
``config.json`` + ``model.safetensors`` (a loadable :class:`~.model.TinyBackend`) and ``recipe.json``
(the recipe, world version, SHA-256 of the weights, steps done, wall time, loss curve summary).

The corpus is the world's default training corpus, all labels. Each clip trains with two caption
variants: its caption, and its caption plus the category's physical-cue clause that test prompts add
(``bench.world.captions.CUES``); without the second, the test prompts' cue words would reach the text
encoder untrained.
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch

from bench.manifest import asdict_omitting_defaults, sha256_file, sha256_json

from .model import TinyBackend, TinyConfig
from .train import TrainConfig, fresh_model, pretrain

RECIPE_NAME = "recipe.json"


def default_cache_dir() -> Path:
    """``$MOTIVE_BENCH_CACHE`` or ``~/.cache/motive-bench``."""
    return Path(os.environ.get("MOTIVE_BENCH_CACHE", Path.home() / ".cache" / "motive-bench"))


@dataclass(frozen=True)
class PretrainRecipe:
    """Everything that determines a pretraining run (see the module docstring)."""

    train: TrainConfig = field(default_factory=TrainConfig)
    corpus_size: int = 2000
    world_seed: int = 0
    block_out_channels: tuple[int, ...] = (64, 96, 96)
    text_width: int = 64
    latent_channels: int = 12
    latent_normalisation: str = "channel"  # "channel" (whitened) or "global" (one scale): LinearLatent.fit

    def to_dict(self) -> dict:
        d = asdict_omitting_defaults(self, ("latent_normalisation",))  # older recipes keep their hash
        d.pop("train")
        d["train"] = self.train.to_dict()
        return d

    def __post_init__(self) -> None:
        from .latent import NORMALISATIONS

        if self.latent_normalisation not in NORMALISATIONS:  # checked before any corpus is rendered
            raise ValueError(
                f"latent_normalisation={self.latent_normalisation!r}: choose one of {', '.join(NORMALISATIONS)}."
            )

    @classmethod
    def from_dict(cls, d: dict) -> "PretrainRecipe":
        """The inverse of :meth:`to_dict` (what ``recipe.json`` stores under ``"recipe"``); fields missing from
        an older recipe take their defaults."""
        d = dict(d)
        train = TrainConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in d.pop("train").items()})
        return cls(train=train, **{k: tuple(v) if isinstance(v, list) else v for k, v in d.items()})

    def config_hash(self) -> str:
        """16 hex digits of the SHA-256 of the recipe, the world version and the world's render settings.

        ``threads`` and ``save_every`` change neither the model nor (up to float rounding) the result,
        so they are left out.
        """
        from bench.world import WORLD_VERSION, WorldConfig

        d = self.to_dict()
        d["train"] = {k: v for k, v in d["train"].items() if k not in ("threads", "save_every")}
        d["world_version"] = WORLD_VERSION
        d["world_config"] = WorldConfig(seed=self.world_seed).to_dict()
        return sha256_json(d)[:16]


def load_corpus(recipe: PretrainRecipe, progress: bool = True) -> tuple[torch.Tensor, list[tuple[str, str]], TinyConfig]:
    """Render the world's default corpus for ``recipe``.

    Returns:
        ``clips`` ``(N, 3, F, H, W)`` uint8, ``captions`` (plain, with cue) per clip, and the model's
        :class:`TinyConfig` (vocabulary and video format taken from the world).
    """
    from bench.world import WORLD_VERSION, WorldConfig, build_corpus, render_many, vocabulary

    world = WorldConfig(seed=recipe.world_seed)
    specs = build_corpus(world, n=recipe.corpus_size)
    frames = render_many(specs, world, progress=progress)  # (N, F, H, W, 3) uint8
    clips = torch.as_tensor(frames).permute(0, 4, 1, 2, 3).contiguous()
    captions = [(s.caption, s.prompt) for s in specs]
    config = TinyConfig(
        vocabulary=tuple(vocabulary()),
        frames=world.frames,
        height=world.height,
        width=world.width,
        fps=world.fps,
        block_out_channels=tuple(recipe.block_out_channels),
        text_width=recipe.text_width,
        latent_channels=recipe.latent_channels,
        latent_normalisation=recipe.latent_normalisation,
        world_version=WORLD_VERSION,
    )
    return clips, captions, config


def is_complete(directory: Path) -> bool:
    """Whether ``directory`` holds a finished run (``recipe.json`` says all steps are done)."""
    path = directory / RECIPE_NAME
    if not path.is_file():
        return False
    meta = json.loads(path.read_text())
    return meta.get("steps_done") == meta.get("recipe", {}).get("train", {}).get("steps")


def run_pretraining(recipe: PretrainRecipe, out_dir: Path, progress: bool = True, snapshots: bool = False) -> Path:
    """Pretrain a fresh tiny model by ``recipe`` and write it (EMA weights) into ``out_dir``.

    Intermediate checkpoints overwrite ``out_dir`` every ``save_every`` steps, with ``steps_done`` in
    ``recipe.json``, so a killed run leaves a usable (if less trained) model.
    """
    out_dir = Path(out_dir)
    clips, captions, config = load_corpus(recipe, progress=progress)
    model = fresh_model(config, recipe.train.seed)
    explained = model.latent.fit(clips, normalisation=config.latent_normalisation)  # the linear latent: PCA of the corpus' packed 4-frame 2x2 cells
    started = time.time()

    def save(m: TinyBackend, step: int, losses: list[float]) -> None:
        write(m, step, losses, out_dir, recipe)
        if snapshots and recipe.train.min_lr_ratio == 1.0:
            short = dataclasses.replace(recipe, train=dataclasses.replace(recipe.train, steps=step))
            write(m, step, losses, out_dir / "snapshots" / f"step-{step:06d}", short)

    def write(m: TinyBackend, step: int, losses: list[float], out_dir: Path, recipe: PretrainRecipe) -> None:
        m.save(out_dir)
        tail = losses[-100:]
        meta = {
            "recipe": recipe.to_dict(),
            "config_hash": recipe.config_hash(),
            "world_version": config.world_version,
            "steps_done": step,
            "latent_explained_variance": round(explained, 5),
            "wall_seconds": round(time.time() - started, 1),
            "seconds_per_step": round((time.time() - started) / max(1, len(losses)), 3),
            "final_train_loss_mean_last_100": sum(tail) / max(1, len(tail)),
            "train_loss_every_50": [round(sum(losses[i : i + 50]) / len(losses[i : i + 50]), 5) for i in range(0, len(losses), 50)],
            "weights_sha256": sha256_file(out_dir / "model.safetensors"),
            "parameters": {
                "denoiser": sum(p.numel() for _, p in m.trainable_parameters()),
                "text_encoder": sum(p.numel() for p in m.text_encoder.parameters()),
            },
            "command": f"motive-bench pretrain --steps {recipe.train.steps} --seed {recipe.train.seed}",
        }
        (out_dir / RECIPE_NAME).write_text(json.dumps(meta, indent=2) + "\n")

    pretrain(model, clips, captions, recipe.train, save=save, progress=progress)
    return out_dir


def cached_pretraining(recipe: PretrainRecipe, cache_dir: Path | None = None, force: bool = False, progress: bool = True) -> tuple[Path, bool]:
    """The cached model for ``recipe`` (training it first if absent or ``force``): ``(directory, was_cached)``."""
    directory = Path(cache_dir or default_cache_dir()) / f"tiny-{recipe.config_hash()}"
    if is_complete(directory) and not force:
        return directory, True
    return run_pretraining(recipe, directory, progress=progress), False
