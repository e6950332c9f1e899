"""``motive-bench pretrain``: pretrain the tiny backend on the synthetic world (cached by config hash).

With default arguments it reproduces the recipe of the committed checkpoint
(``bench/backends/tiny/checkpoint/recipe.json``) and says so; the result lands in
``<cache>/tiny-<hash>/`` (``--cache``, default ``$MOTIVE_BENCH_CACHE`` or ``~/.cache/motive-bench``) and a
second call with the same recipe returns the cached model at once (``--force`` retrains).
``--out DIR`` also copies the model there. The committed recipe has two stages, the denoiser (``--steps``)
and the learned decoder (``--decoder-steps``; 0 leaves it out, so the model decodes linearly). With
``--members N`` (N > 1) the denoiser stage trains N models apart, in parallel processes that share
``--threads``, and joins them into an ensemble that averages their velocities; each member's run is kept
under ``<cache>/tiny-<hash>/members/`` and reused if the command is run again.
"""

from __future__ import annotations

import argparse

NAME = "pretrain"
HELP = "pretrain the tiny backend on the synthetic world (rectified flow; cached by config hash)"
ORDER = 15


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--steps", type=int, default=None, help="optimizer steps (default: the committed recipe's)")
    parser.add_argument("--decoder-steps", type=int, default=None,
                        help="steps of the learned-decoder stage (default: the committed recipe's; 0: no learned decoder)")
    parser.add_argument("--batch-size", type=int, default=None, help="clips per step (default: the committed recipe's)")
    parser.add_argument("--seed", type=int, default=0, help="base seed of every draw (default 0)")
    parser.add_argument("--corpus-size", type=int, default=None, help="corpus clips (default: the committed recipe's)")
    parser.add_argument("--members", type=int, default=None,
                        help="denoisers in the ensemble, trained apart in parallel (default: the committed recipe's; 1: one model)")
    parser.add_argument("--threads", type=int, default=2,
                        help="torch CPU threads in all (default 2; an ensemble splits them among its members)")
    parser.add_argument("--cache", default=None, help="cache directory (default $MOTIVE_BENCH_CACHE or ~/.cache/motive-bench)")
    parser.add_argument("--out", default=None, help="also copy the pretrained model to this directory")
    parser.add_argument("--force", action="store_true", help="retrain even if the cache has this recipe")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bars")


def run(args: argparse.Namespace) -> int:
    import dataclasses
    import json
    import shutil
    from pathlib import Path

    from bench.backends.registry import embedded_checkpoint
    from bench.backends.tiny.recipe import RECIPE_NAME, PretrainRecipe, cached_pretraining
    from bench.errors import ConfigError

    committed = json.loads((embedded_checkpoint() / RECIPE_NAME).read_text())
    base = committed["recipe"]
    train = {**base["train"], "seed": args.seed, "threads": args.threads}
    if args.steps is not None:
        train["steps"] = args.steps
    if args.batch_size is not None:
        train["batch_size"] = args.batch_size
    for name in ("steps", "batch_size"):
        if train[name] < 1:
            raise ConfigError(f"--{name.replace('_', '-')} {train[name]} must be >= 1.")
    train["save_every"] = min(train["save_every"], train["steps"])
    decoder = base.get("decoder")
    if args.decoder_steps is not None:
        if args.decoder_steps < 0:
            raise ConfigError(f"--decoder-steps {args.decoder_steps} must be >= 0 (0: no learned decoder).")
        decoder = {**(decoder or {}), "steps": args.decoder_steps} if args.decoder_steps else None
    if decoder is not None:
        decoder = {**decoder, "seed": args.seed, "threads": args.threads}
    recipe = PretrainRecipe.from_dict({**base, "train": train, "decoder": decoder})
    if args.corpus_size is not None:
        recipe = dataclasses.replace(recipe, corpus_size=args.corpus_size)
    if args.members is not None:
        if args.members < 1:
            raise ConfigError(f"--members {args.members} must be >= 1 (1: one model; 2 or more: an ensemble).")
        recipe = dataclasses.replace(recipe, members=args.members)
    if recipe.corpus_size < 1:
        raise ConfigError(f"--corpus-size {recipe.corpus_size} must be >= 1.")
    same = recipe.config_hash() == committed["config_hash"]
    print(f"recipe {recipe.config_hash()}" + (" (the committed checkpoint's recipe)" if same else " (differs from the committed checkpoint's)"))
    directory, cached = cached_pretraining(
        recipe, Path(args.cache) if args.cache else None, force=args.force, progress=not args.no_progress
    )
    meta = json.loads((directory / RECIPE_NAME).read_text())
    print(f"{'cached' if cached else 'trained'} model: {directory}")
    print(f"steps {meta['steps_done']}, {meta['wall_seconds']} s, final train loss {meta['final_train_loss_mean_last_100']:.4f}")
    if "decoder" in meta:
        print(f"decoder steps {meta['decoder']['steps_done']}, {meta['decoder']['wall_seconds']} s, "
              f"final reconstruction loss {meta['decoder']['final_loss_mean_last_100']:.5f}")
    if same:
        print(f"committed checkpoint: final train loss {committed['final_train_loss_mean_last_100']:.4f}, "
              f"weights sha256 {committed['weights_sha256'][:16]}…; this run {meta['weights_sha256'][:16]}…")
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        for name in ("config.json", "model.safetensors", RECIPE_NAME):
            shutil.copy2(directory / name, out / name)
        print(f"copied to {out}")
    return 0
