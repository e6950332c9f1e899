"""The pretraining recipe of the tiny backend, its config hash, the corpus it trains on, and the cache.

A :class:`PretrainRecipe` (model shape + :class:`~.train.TrainConfig` + world config + corpus size, and
optionally the learned decoder's stage, :class:`~.decoder.DecoderTrainConfig`) fully determines a
pretraining run; its hash names the cache directory ``<cache>/tiny-<hash16>/``, which holds
``config.json`` + ``model.safetensors`` (a loadable :class:`~.model.TinyBackend`) and ``recipe.json``
(the recipe, world version, SHA-256 of the weights, steps done, wall time, loss curve summary).

Pretraining has two stages: the denoiser and text encoder (:func:`~.train.pretrain`), then, if the recipe
has one, the learned decoder (:func:`~.decoder.train_decoder`). The decoder stage reads only the corpus,
the fitted latent and its own seed, so :func:`add_decoder` can run it on a finished denoiser-only
run and give the weights the full run gives.

A recipe with ``members = M > 1`` is an ensemble (:mod:`.ensemble`): its denoiser stage is M single runs,
member ``i`` by :meth:`PretrainRecipe.member_recipe` (another train seed; member 0 is the recipe's own
single model), trained in parallel processes that share ``train.threads`` and kept under
``members/member-i/``; they are joined by :meth:`~.model.TinyBackend.from_members`, and the decoder stage
runs on the ensemble as on one model (it reads no denoiser, so it gives the decoder the single recipe gets).

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
from curation.seeds import derive_seed

from .decoder import DecoderTrainConfig, fresh_decoder, train_decoder
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
    position_channels: int = 0  # 2: coordinate channels into the denoiser (DenoiserConfig.position_channels)
    decoder: DecoderTrainConfig | None = None  # the learned-decoder stage; None: decode by the linear latent alone
    members: int = 1  # > 1: an ensemble of that many denoisers trained apart (member_recipe), velocities averaged

    def to_dict(self) -> dict:
        d = asdict_omitting_defaults(self, ("latent_normalisation", "position_channels", "decoder", "members"))  # older recipes keep their hash
        d.pop("train")
        d["train"] = self.train.to_dict()
        if self.decoder is not None:
            d.pop("decoder")
            d["decoder"] = self.decoder.to_dict()  # after "train", where a reader looks for the second stage
        return d

    def __post_init__(self) -> None:
        from .denoiser import DenoiserConfig
        from .latent import NORMALISATIONS

        if self.latent_normalisation not in NORMALISATIONS:  # checked before any corpus is rendered
            raise ValueError(
                f"latent_normalisation={self.latent_normalisation!r}: choose one of {', '.join(NORMALISATIONS)}."
            )
        DenoiserConfig(position_channels=self.position_channels)  # raises on a bad value, also before rendering
        if isinstance(self.members, bool) or not isinstance(self.members, int) or self.members < 1:
            raise ValueError(f"members={self.members!r}: give a whole number >= 1 (1: one model; 2 or more: an ensemble).")

    def member_recipe(self, i: int) -> "PretrainRecipe":
        """The recipe of ensemble member ``i``: this one as a single denoiser-stage model, its train seed the
        recipe's own for member 0 and ``derive_seed(seed, "ensemble member", i)`` for the others (member 0 of
        an ensemble is the single model of the same recipe)."""
        if not 0 <= i < self.members:
            raise ValueError(f"member {i}: this recipe has members 0..{self.members - 1}.")
        seed = self.train.seed if i == 0 else derive_seed(self.train.seed, "ensemble member", i)
        return dataclasses.replace(self, members=1, decoder=None, train=dataclasses.replace(self.train, seed=seed))

    @classmethod
    def from_dict(cls, d: dict) -> "PretrainRecipe":
        """The inverse of :meth:`to_dict` (what ``recipe.json`` stores under ``"recipe"``); fields missing from
        an older recipe take their defaults."""
        d = dict(d)
        train = TrainConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in d.pop("train").items()})
        decoder = d.pop("decoder", None)
        decoder = DecoderTrainConfig(**decoder) if decoder is not None else None
        return cls(train=train, decoder=decoder, **{k: tuple(v) if isinstance(v, list) else v for k, v in d.items()})

    def config_hash(self) -> str:
        """16 hex digits of the SHA-256 of the recipe, the world version and the world's render settings.

        ``threads`` and ``save_every`` change neither the model nor (up to float rounding) the result,
        so they are left out.
        """
        from bench.world import WORLD_VERSION, WorldConfig

        d = self.to_dict()
        d["train"] = {k: v for k, v in d["train"].items() if k not in ("threads", "save_every")}
        if "decoder" in d:
            d["decoder"] = {k: v for k, v in d["decoder"].items() if k != "threads"}
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
        position_channels=recipe.position_channels,
        world_version=WORLD_VERSION,
    )
    return clips, captions, config


def is_complete(directory: Path) -> bool:
    """Whether ``directory`` holds a finished run (``recipe.json`` says all steps of both stages are done)."""
    path = directory / RECIPE_NAME
    if not path.is_file():
        return False
    meta = json.loads(path.read_text())
    recipe = meta.get("recipe", {})
    denoiser_done = meta.get("steps_done") == recipe.get("train", {}).get("steps")
    decoder = recipe.get("decoder")
    return denoiser_done and (decoder is None or meta.get("decoder", {}).get("steps_done") == decoder["steps"])


def run_pretraining(recipe: PretrainRecipe, out_dir: Path, progress: bool = True, snapshots: bool = False) -> Path:
    """Pretrain a fresh tiny model by ``recipe`` and write it (EMA weights) into ``out_dir``.

    Intermediate checkpoints overwrite ``out_dir`` every ``save_every`` steps, with ``steps_done`` in
    ``recipe.json``, so a killed run leaves a usable (if less trained) model. ``snapshots`` also keeps each
    one under ``out_dir/snapshots/step-NNNNNN/`` (denoiser stage only; constant learning rate only).
    """
    out_dir = Path(out_dir)
    if recipe.members > 1:
        return _run_ensemble(recipe, out_dir, progress, snapshots)
    clips, captions, config = load_corpus(recipe, progress=progress)
    model = fresh_model(config, recipe.train.seed)
    explained = model.latent.fit(clips, normalisation=config.latent_normalisation)  # the linear latent: PCA of the corpus' packed 4-frame 2x2 cells
    started = time.time()
    record: dict = {}  # the denoiser stage's latest recipe.json, which the decoder stage extends

    def save(m: TinyBackend, step: int, losses: list[float]) -> None:
        meta = {
            **_denoiser_meta(recipe, config.world_version, step, explained, time.time() - started, len(losses)),
            **_loss_summary(losses, "final_train_loss_mean_last_100", "train_loss_every_50"),
            "command": _command(recipe),
        }
        record.update(_write(m, out_dir, meta))
        if snapshots and recipe.train.min_lr_ratio == 1.0:
            short = dataclasses.replace(recipe, train=dataclasses.replace(recipe.train, steps=step), decoder=None)
            _write(m, out_dir / "snapshots" / f"step-{step:06d}", {**meta, "recipe": short.to_dict(), "config_hash": short.config_hash()})

    pretrain(model, clips, captions, recipe.train, save=save, progress=progress)
    if recipe.decoder is not None:
        _decoder_stage(model, clips, recipe.decoder, out_dir, record, progress)
    return out_dir


def _run_ensemble(recipe: PretrainRecipe, out_dir: Path, progress: bool, snapshots: bool) -> Path:
    """:func:`run_pretraining` of an ensemble: train each :meth:`~PretrainRecipe.member_recipe` into
    ``out_dir/members/member-i/`` (in parallel processes, ``train.threads`` split among them), join them
    with :meth:`TinyBackend.from_members`, write the ensemble, then run the decoder stage on it.

    A member directory that already holds the finished run of that member's recipe is reused, so a killed
    run resumes where it stopped and a failed member loses none of the others.
    """
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    started = time.time()
    workers = max(1, min(recipe.members, recipe.train.threads))
    threads = max(1, recipe.train.threads // workers)
    jobs = {i: dataclasses.replace(r, train=dataclasses.replace(r.train, threads=threads))
            for i in range(recipe.members) for r in [recipe.member_recipe(i)]}
    directories = {i: out_dir / "members" / f"member-{i}" for i in jobs}
    todo = [i for i in jobs if not _holds(directories[i], jobs[i])]
    if workers == 1 or len(todo) <= 1:
        for i in todo:
            run_pretraining(jobs[i], directories[i], progress=progress, snapshots=snapshots)
    else:  # spawn: a fresh interpreter per member, so each sets its own torch thread count
        with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
            futures = [pool.submit(run_pretraining, jobs[i], directories[i], progress and i == todo[0], snapshots)
                       for i in todo]
            for future in futures:
                future.result()  # re-raises a member's error; the finished members stay on disk
    members = [TinyBackend.load(directories[i]) for i in jobs]
    metas = [json.loads((directories[i] / RECIPE_NAME).read_text()) for i in jobs]
    model = TinyBackend.from_members(members)
    seconds = time.time() - started
    meta = {  # wall_seconds: this call's denoiser stage, all members (none for members it reused)
        **_denoiser_meta(recipe, model.config.world_version, recipe.train.steps, metas[0]["latent_explained_variance"],
                         seconds, recipe.train.steps),
        "final_train_loss_mean_last_100": sum(m["final_train_loss_mean_last_100"] for m in metas) / len(metas),
        "members": [
            {key: m[key] for key in ("config_hash", "weights_sha256", "wall_seconds", "seconds_per_step",
                                     "final_train_loss_mean_last_100", "train_loss_every_50")}
            | {"seed": jobs[i].train.seed, "threads": threads}
            for i, m in zip(jobs, metas)
        ],
        "command": _command(recipe),
    }
    record = _write(model, out_dir, meta)
    if recipe.decoder is not None:
        clips, _, _ = load_corpus(recipe, progress=progress)
        _decoder_stage(model, clips, recipe.decoder, out_dir, record, progress)
    return out_dir


def _denoiser_meta(recipe: PretrainRecipe, world_version: str, step: int, explained: float, seconds: float,
                   steps_run: int) -> dict:
    """The head of a denoiser stage's ``recipe.json``, the same for one model and an ensemble."""
    return {
        "recipe": recipe.to_dict(),
        "config_hash": recipe.config_hash(),
        "world_version": world_version,
        "steps_done": step,
        "latent_explained_variance": round(explained, 5),
        "wall_seconds": round(seconds, 1),
        "seconds_per_step": round(seconds / max(1, steps_run), 3),
    }


def _command(recipe: PretrainRecipe) -> str:
    return f"motive-bench pretrain --steps {recipe.train.steps} --seed {recipe.train.seed}"


def _holds(directory: Path, recipe: PretrainRecipe) -> bool:
    """Whether ``directory`` holds the finished run of ``recipe`` (by config hash)."""
    return is_complete(directory) and json.loads((directory / RECIPE_NAME).read_text()).get("config_hash") == recipe.config_hash()


def add_decoder(checkpoint: Path, decoder: DecoderTrainConfig, out_dir: Path, progress: bool = True) -> Path:
    """Run only the decoder stage on a finished denoiser-only run in ``checkpoint``; write the result to ``out_dir``.

    The stage reads the corpus, the fitted latent and ``decoder`` alone, so the weights equal those of a
    full :func:`run_pretraining` of the recipe with ``decoder`` (bit for bit on the same machine and thread
    count); ``recipe.json`` records that recipe, its hash, and both stages' wall time.

    Raises:
        ValueError: ``checkpoint`` is not a finished run, or already has a learned decoder.
    """
    checkpoint, out_dir = Path(checkpoint), Path(out_dir)
    if not is_complete(checkpoint):
        raise ValueError(f"{str(checkpoint)!r} is not a finished pretraining run (its {RECIPE_NAME} is missing or "
                         "says steps remain); finish it with `motive-bench pretrain` first.")
    meta = json.loads((checkpoint / RECIPE_NAME).read_text())
    recipe = PretrainRecipe.from_dict(meta["recipe"])
    if recipe.decoder is not None:
        raise ValueError(f"{str(checkpoint)!r} already has a learned decoder; start from its denoiser-only run.")
    recipe = dataclasses.replace(recipe, decoder=decoder)
    model = TinyBackend.load(checkpoint)
    clips, _, _ = load_corpus(recipe, progress=progress)
    _decoder_stage(model, clips, decoder, out_dir, {**meta, "recipe": recipe.to_dict(), "config_hash": recipe.config_hash()}, progress)
    return out_dir


def _decoder_stage(model: TinyBackend, clips: torch.Tensor, cfg: DecoderTrainConfig, out_dir: Path, record: dict,
                   progress: bool) -> None:
    """Pretraining's second stage: give ``model`` a fresh learned decoder, train it, and write it to ``out_dir``
    with ``record`` (the finished denoiser stage's ``recipe.json``) extended by the stage."""
    started = time.time()
    model.set_decoder(fresh_decoder(model, cfg))
    losses = train_decoder(model, clips, cfg, progress=progress)
    meta = dict(record)
    seconds = time.time() - started
    meta["decoder"] = {
        "steps_done": cfg.steps,
        "wall_seconds": round(seconds, 1),
        "seconds_per_step": round(seconds / cfg.steps, 3),
        **_loss_summary(losses, "final_loss_mean_last_100", "loss_every_50"),
    }
    meta["wall_seconds"] = round(meta["wall_seconds"] + seconds, 1)  # both stages
    _write(model, out_dir, meta)


def _loss_summary(losses: list[float], last_name: str, curve_name: str) -> dict:
    tail = losses[-100:]
    return {
        last_name: sum(tail) / max(1, len(tail)),
        curve_name: [round(sum(losses[i : i + 50]) / len(losses[i : i + 50]), 5) for i in range(0, len(losses), 50)],
    }


def _write(model: TinyBackend, out_dir: Path, meta: dict) -> dict:
    """Save ``model`` into ``out_dir`` and its ``recipe.json``: ``meta`` plus the weights' SHA-256 and parameter
    counts (returned)."""
    model.save(out_dir)
    meta = dict(meta)
    meta["weights_sha256"] = sha256_file(out_dir / "model.safetensors")
    meta["parameters"] = {
        "denoiser": sum(p.numel() for _, p in model.trainable_parameters()),
        "text_encoder": sum(p.numel() for p in model.text_encoder.parameters()),
        **({"decoder": sum(p.numel() for p in model.decoder.parameters())} if model.decoder is not None else {}),
    }
    (out_dir / RECIPE_NAME).write_text(json.dumps(meta, indent=2) + "\n")
    return meta


def cached_pretraining(recipe: PretrainRecipe, cache_dir: Path | None = None, force: bool = False, progress: bool = True) -> tuple[Path, bool]:
    """The cached model for ``recipe`` (training it first if absent or ``force``): ``(directory, was_cached)``.

    ``force`` retrains all of it, an ensemble's finished members too (without it a rerun reuses them).
    """
    import shutil

    directory = Path(cache_dir or default_cache_dir()) / f"tiny-{recipe.config_hash()}"
    if is_complete(directory) and not force:
        return directory, True
    if force:
        shutil.rmtree(directory / "members", ignore_errors=True)
    return run_pretraining(recipe, directory, progress=progress), False
