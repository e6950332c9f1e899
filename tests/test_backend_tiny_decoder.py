"""The tiny backend's learned decoder: starts as the linear decode, learns, saves, and is pretraining's second stage."""

from __future__ import annotations

import dataclasses
import json

import pytest
import torch

from bench.backends.registry import load_backend
from bench.backends.tiny.decoder import DecoderTrainConfig, LatentDecoder, fresh_decoder, train_decoder
from bench.backends.tiny.model import TinyBackend, TinyConfig
from bench.backends.tiny.recipe import RECIPE_NAME, PretrainRecipe, add_decoder, is_complete, run_pretraining
from bench.backends.tiny.train import TrainConfig, fresh_model, pretrain, to_unit
from bench.errors import BackendError


pytestmark = pytest.mark.usefixtures("one_torch_thread")


VOCAB = ("a", "red", "blue", "ball", "box", "falls", "rolls")
SMALL = DecoderTrainConfig(width=16, blocks=1, steps=40, batch_size=8, lr=3e-3, warmup=5, noise_max=0.5, threads=1)


def small() -> TinyBackend:
    cfg = TinyConfig(vocabulary=VOCAB, frames=9, height=16, width=16, latent_channels=4, block_out_channels=(16, 16),
                     text_width=16, text_layers=1, text_heads=2, attention_head_dim=8, norm_num_groups=8)
    return fresh_model(cfg, 0)


def blobs(n: int, seed: int = 0) -> torch.Tensor:
    """uint8 clips ``(n, 3, 9, 16, 16)``: a coloured square on gray, moving one pixel a frame (low rank, not exact)."""
    g = torch.Generator().manual_seed(seed)
    out = torch.full((n, 3, 9, 16, 16), 128, dtype=torch.uint8)
    for i in range(n):
        y, x = torch.randint(0, 8, (2,), generator=g).tolist()
        colour = torch.randint(0, 256, (3,), generator=g, dtype=torch.int64).to(torch.uint8)
        for f in range(9):
            out[i, :, f, y : y + 5, (x + f) % 11 : (x + f) % 11 + 5] = colour.view(3, 1, 1)
    return out


def test_an_untrained_decoder_is_exactly_the_linear_decode():
    m = small()
    m.latent.fit(blobs(16))
    z = torch.randn(3, 4, 3, 8, 8, generator=torch.Generator().manual_seed(1))
    linear = m.decode_latents(z)
    m.set_decoder(fresh_decoder(m, SMALL))
    assert m.config.decoder_width == 16 and m.config.decoder_blocks == 1
    assert torch.equal(m.decode_latents(z), linear)
    assert torch.equal(m.decode_latents(z, linear=True), linear)
    with pytest.raises(ValueError, match="4 channels and 3 frames"):
        m.decoder(torch.zeros(1, 4, 5, 8, 8))
    with pytest.raises(ValueError, match="multiple of its 16 norm groups"):
        LatentDecoder(4, 3, width=20)


def test_training_is_seeded_leaves_the_rest_alone_and_cleans_noisy_latents():
    data = blobs(32)
    runs = []
    for _ in range(2):
        m = small()
        m.latent.fit(data)
        before = {k: v.clone() for k, v in m.state_dict().items()}
        m.set_decoder(fresh_decoder(m, SMALL))
        losses = train_decoder(m, data, SMALL, progress=False)
        runs.append((losses, m.state_dict()))
        assert all(torch.equal(before[k], v) for k, v in m.state_dict().items() if not k.startswith("decoder."))
        assert not any(p.requires_grad for p in m.decoder.parameters())
    assert runs[0][0] == runs[1][0] and all(torch.equal(runs[0][1][k], runs[1][1][k]) for k in runs[0][1])

    held_out = to_unit(blobs(16, seed=9))
    x = m.encode_video(held_out)
    z = x + 0.4 * torch.randn(x.shape, generator=torch.Generator().manual_seed(2))
    err = lambda linear: float(((m.decode_latents(z, linear=linear) - held_out) ** 2).mean())
    assert err(linear=False) < 0.8 * err(linear=True), (err(False), err(True))


def test_the_inputs_hook_replaces_what_is_decoded_and_only_that():
    data = blobs(16)
    cfg = dataclasses.replace(SMALL, steps=5)

    def run(inputs=None):
        m = small()
        m.latent.fit(data)
        m.set_decoder(fresh_decoder(m, cfg))
        seen = []
        hook = None if inputs is None else (lambda idx, z, g: seen.append(idx) or inputs(idx, z, g))
        return train_decoder(m, data, cfg, progress=False, inputs=hook), seen

    plain, _ = run()
    same, seen = run(lambda idx, z, g: z)
    assert same == plain and len(seen) == 5 and all(len(i) == cfg.batch_size for i in seen)
    zeros, _ = run(lambda idx, z, g: torch.zeros_like(z))
    assert zeros != plain


def test_denoiser_training_leaves_a_decoder_untouched():
    m = small()
    m.latent.fit(blobs(8))
    m.set_decoder(fresh_decoder(m, SMALL))
    with torch.no_grad():
        m.decoder.conv_out.weight.normal_(0, 0.1, generator=torch.Generator().manual_seed(0))
    before = {k: v.clone() for k, v in m.decoder.state_dict().items()}
    pretrain(m, blobs(8), [("a red ball falls",)] * 8, TrainConfig(steps=3, batch_size=2, warmup=1, threads=1), progress=False)
    assert all(torch.equal(before[k], v) for k, v in m.decoder.state_dict().items())  # bit for bit, no EMA rounding


def test_save_load_roundtrip_and_mismatched_weights_are_named(tmp_path):
    m = small()
    m.latent.fit(blobs(8))
    plain = m.config.to_dict()
    assert "decoder_width" not in plain and "decoder_blocks" not in plain  # configs written before the field load as before
    m.set_decoder(fresh_decoder(m, SMALL))
    with torch.no_grad():
        m.decoder.conv_out.weight.normal_(0, 0.1, generator=torch.Generator().manual_seed(0))
    m.save(tmp_path / "m")
    again = load_backend("tiny", tmp_path / "m")
    assert again.config == m.config
    z = torch.randn(2, 4, 3, 8, 8, generator=torch.Generator().manual_seed(1))
    assert torch.equal(again.decode_latents(z), m.decode_latents(z))
    assert not torch.equal(again.decode_latents(z), again.decode_latents(z, linear=True))

    meta = json.loads((tmp_path / "m" / "config.json").read_text())
    meta["config"].pop("decoder_width")
    (tmp_path / "m" / "config.json").write_text(json.dumps(meta))
    with pytest.raises(BackendError, match="hold decoder.* tensors but the config has decoder_width=0"):
        TinyBackend.load(tmp_path / "m")


def test_recipe_records_the_decoder_stage_only_when_it_has_one():
    plain = PretrainRecipe()
    assert "decoder" not in plain.to_dict()  # recipes written before the stage keep their hash
    with_dec = PretrainRecipe(decoder=DecoderTrainConfig())
    assert with_dec.config_hash() != plain.config_hash()
    assert PretrainRecipe.from_dict(json.loads(json.dumps(with_dec.to_dict()))) == with_dec
    assert dataclasses.replace(with_dec, decoder=DecoderTrainConfig(threads=1)).config_hash() == with_dec.config_hash()
    with pytest.raises(ValueError, match="noise_max=-1"):
        DecoderTrainConfig(noise_max=-1.0)


def test_the_decoder_stage_on_a_finished_run_gives_the_full_runs_weights(tmp_path):
    """run_pretraining with a decoder == run_pretraining without one, then add_decoder (the stage is independent)."""
    train = TrainConfig(steps=2, batch_size=2, warmup=1, threads=1, save_every=2)
    dec = DecoderTrainConfig(width=16, blocks=1, steps=3, batch_size=2, threads=1)
    full = run_pretraining(PretrainRecipe(train=train, corpus_size=4, decoder=dec), tmp_path / "full", progress=False)
    base = run_pretraining(PretrainRecipe(train=train, corpus_size=4), tmp_path / "base", progress=False)
    added = add_decoder(base, dec, tmp_path / "added", progress=False)

    a, b = TinyBackend.load(full).state_dict(), TinyBackend.load(added).state_dict()
    assert a.keys() == b.keys() and any(k.startswith("decoder.") for k in a)
    assert all(torch.equal(a[k], b[k]) for k in a)
    meta_full, meta_added = (json.loads((d / RECIPE_NAME).read_text()) for d in (full, added))
    assert meta_full["config_hash"] == meta_added["config_hash"] and meta_full["weights_sha256"] == meta_added["weights_sha256"]
    assert meta_full["decoder"]["steps_done"] == 3 and meta_full["parameters"]["decoder"] > 0
    assert is_complete(full) and is_complete(added)

    meta_full["decoder"]["steps_done"] = 1  # as a run killed during the decoder stage leaves it
    (full / RECIPE_NAME).write_text(json.dumps(meta_full))
    assert not is_complete(full)
    with pytest.raises(ValueError, match="not a finished pretraining run"):
        add_decoder(full, dec, tmp_path / "again", progress=False)
    with pytest.raises(ValueError, match="already has a learned decoder"):
        add_decoder(added, dec, tmp_path / "again", progress=False)


def test_an_ensemble_recipe_trains_its_members_apart_joins_them_and_resumes(tmp_path):
    """members=2: member 0 is the single model of the recipe, member 1 another seed; the ensemble holds both
    bit for bit, gets the decoder stage, and a rerun reuses finished members."""
    train = TrainConfig(steps=2, batch_size=2, warmup=1, threads=2, save_every=2)
    dec = DecoderTrainConfig(width=16, blocks=1, steps=2, batch_size=2, threads=1)
    recipe = PretrainRecipe(train=train, corpus_size=4, decoder=dec, members=2)
    assert recipe.member_recipe(0).config_hash() == PretrainRecipe(train=train, corpus_size=4).config_hash()
    assert recipe.member_recipe(1).train.seed not in (0, 1) and recipe.member_recipe(1).decoder is None
    assert "members" not in PretrainRecipe().to_dict() and recipe.to_dict()["members"] == 2
    assert recipe.config_hash() != dataclasses.replace(recipe, members=3).config_hash()

    out = run_pretraining(recipe, tmp_path / "ens", progress=False)  # two spawned processes, one thread each
    single = run_pretraining(dataclasses.replace(recipe.member_recipe(0), train=dataclasses.replace(train, threads=1)),
                             tmp_path / "single", progress=False)
    ens, one = TinyBackend.load(out), TinyBackend.load(single)
    assert ens.config.members == 2 and ens.decoder is not None and is_complete(out)
    e, o = ens.state_dict(), one.state_dict()
    assert all(torch.equal(e[f"denoiser.members.0.{k[len('denoiser.'):]}"], o[k]) for k in o if k.startswith("denoiser."))
    assert not torch.equal(e["denoiser.members.0.unet.conv_in.weight"], e["denoiser.members.1.unet.conv_in.weight"])
    meta = json.loads((out / RECIPE_NAME).read_text())
    assert [m["seed"] for m in meta["members"]] == [0, recipe.member_recipe(1).train.seed]
    assert [m["threads"] for m in meta["members"]] == [1, 1] and meta["decoder"]["steps_done"] == 2

    member_1 = out / "members" / "member-1" / "model.safetensors"
    stamp = member_1.stat().st_mtime_ns
    (out / "members" / "member-0" / RECIPE_NAME).unlink()  # as a run killed inside member 0 leaves it
    again = run_pretraining(recipe, out, progress=False)
    assert member_1.stat().st_mtime_ns == stamp  # member 1 was reused, not retrained
    assert json.loads((again / RECIPE_NAME).read_text())["weights_sha256"] == meta["weights_sha256"]
    with pytest.raises(ValueError, match="members=0"):
        PretrainRecipe(members=0)


def test_forcing_an_ensemble_retrains_its_members(tmp_path):
    from bench.backends.tiny.recipe import cached_pretraining

    train = TrainConfig(steps=1, batch_size=2, warmup=1, threads=1, save_every=1)  # one thread: members in turn, in-process
    recipe = PretrainRecipe(train=train, corpus_size=4, members=2)
    directory, cached = cached_pretraining(recipe, tmp_path, progress=False)
    member = directory / "members" / "member-1" / "model.safetensors"
    stamp = member.stat().st_mtime_ns
    assert not cached and cached_pretraining(recipe, tmp_path, progress=False) == (directory, True)
    again, cached = cached_pretraining(recipe, tmp_path, force=True, progress=False)
    assert again == directory and not cached and member.stat().st_mtime_ns != stamp


def test_specks_are_seeded_small_and_recorded_only_when_used():
    from bench.backends.tiny.decoder import paint_specks

    clips = torch.zeros(64, 3, 9, 16, 16)
    g = lambda: torch.Generator().manual_seed(4)
    a, b = paint_specks(clips, 2.0, g()), paint_specks(clips, 2.0, g())
    assert torch.equal(a, b) and torch.equal(paint_specks(clips, 0.0, g()), clips)
    touched = (a != 0).any(1)  # (B, F, H, W)
    per_frame = touched.sum((2, 3)).float()
    assert 0 < per_frame.max() <= 4 * 8 and per_frame.mean() < 4  # about two 1-2 px squares a clip, on some frames
    assert 0.7 < (touched.sum((1, 2, 3)) > 0).float().mean() < 0.97  # Poisson(2): 1 - e^-2 = 0.86 of clips have one
    assert "specks" not in DecoderTrainConfig().to_dict() and DecoderTrainConfig(specks=2).to_dict()["specks"] == 2
    with pytest.raises(ValueError, match="specks=-1"):
        DecoderTrainConfig(specks=-1.0)


def test_a_decoder_field_added_later_keeps_the_recipe_hash():
    """``specks`` came after the shipped decoder stage was recorded: at its default it is absent from the recipe."""
    plain = PretrainRecipe(decoder=DecoderTrainConfig())
    assert "specks" not in plain.to_dict()["decoder"]
    assert PretrainRecipe(decoder=DecoderTrainConfig(specks=1.0)).config_hash() != plain.config_hash()
