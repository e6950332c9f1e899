"""The tiny backend: latent, vocabulary, protocol conformance, seeding, save/load, training, embedded checkpoint."""

from __future__ import annotations

import dataclasses
import json

import pytest
import torch

from bench.backends.base import Backend
from bench.backends.registry import embedded_checkpoint, load_backend
from bench.backends.tiny import latent
from bench.backends.tiny.model import TinyBackend, TinyConfig
from bench.backends.tiny.recipe import RECIPE_NAME
from bench.backends.tiny.train import TrainConfig, fresh_model, pretrain
from bench.errors import BackendError
from bench.manifest import sha256_file
from curation.protocols import AttributableModel

@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """One torch thread: these models are tiny and the machine is shared (restored afterwards)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


VOCAB = ("a", "red", "blue", "ball", "box", "falls", "rolls", "on", "gray", "background")


def small(seed: int = 0) -> TinyBackend:
    cfg = TinyConfig(vocabulary=VOCAB, frames=9, height=16, width=16, latent_channels=4, block_out_channels=(16, 16),
                     text_width=16, text_layers=1, text_heads=2, attention_head_dim=8, norm_num_groups=8)
    model = fresh_model(cfg, seed)
    with torch.no_grad():  # the output layer starts at zero; give it seeded weights so prompts matter
        model.denoiser.unet.conv_out.weight.normal_(0.0, 0.05, generator=torch.Generator().manual_seed(seed))
    return model


def clips(n: int, seed: int = 0) -> torch.Tensor:
    return torch.rand(n, 3, 9, 16, 16, generator=torch.Generator().manual_seed(seed)) * 2 - 1


def test_packing_roundtrip():
    x = clips(2)
    p = latent.pack(x)
    assert p.shape == (2, 48, 3, 8, 8)
    assert torch.equal(latent.unpack(p), x)
    # latent frame 1 holds pixel frames 1..4 of pixel (0, 0) in channels (colour, frame, dy=0, dx=0)
    assert torch.equal(p[0, :, 1, 0, 0].reshape(3, 4, 2, 2)[:, :, 0, 0], x[0, :, 1:5, 0, 0])


def test_linear_latent_is_exact_on_data_of_its_rank():
    gen = torch.Generator().manual_seed(0)
    # static videos mixing 2 colours with per-pixel weights: each packed 48-vector lies in the span of
    # 2 colours x 4 pixels of its 2x2 cell = 8 directions, so 8 components reconstruct them exactly
    weights = torch.rand(6, 2, 16, 16, generator=gen)
    colours = torch.tensor([[0.8, -0.2, 0.1], [-0.3, 0.5, 0.9]])
    video = torch.einsum("njhw,jc->nchw", weights, colours)[:, :, None].expand(6, 3, 9, 16, 16).contiguous()
    lat = latent.LinearLatent(8)
    explained = lat.fit(video)
    z = lat.encode(video)
    assert z.shape == (6, 8, 3, 8, 8) and lat.geometry.latent_shape(9, 16, 16) == (8, 3, 8, 8)
    assert explained > 0.999999
    assert torch.allclose(lat.decode(z), video, atol=1e-4)
    assert torch.allclose(z[:, :2].std(dim=(0, 2, 3, 4)), torch.ones(2), atol=0.05)  # whitened


def test_global_normalisation_keeps_the_pca_geometry_with_one_scale():
    video = clips(4, seed=3)
    chan, glob = latent.LinearLatent(6), latent.LinearLatent(6)
    assert chan.fit(video) == glob.fit(video, normalisation="global")  # same components kept
    assert torch.equal(chan.components, glob.components)
    # one scale for every channel: the root mean of the kept variances, so the latent is unit variance on average
    assert torch.allclose(glob.std, chan.std.pow(2).mean().sqrt().expand(6))
    z = glob.encode(video)
    assert abs(float(z.pow(2).mean()) - 1.0) < 0.05
    var = z.var(dim=(0, 2, 3, 4))
    assert var[0] > 1.2 * var[-1]  # the PCA order survives: the first channel carries the most variance
    assert torch.allclose(glob.decode(z), chan.decode(chan.encode(video)), atol=1e-5)  # same reconstruction
    with pytest.raises(ValueError, match="normalisation"):
        latent.LinearLatent(6).fit(video, normalisation="pixel")


def test_recipe_and_config_record_the_normalisation_only_when_not_the_default():
    from bench.backends.tiny.recipe import PretrainRecipe

    plain, glob = PretrainRecipe(), PretrainRecipe(latent_normalisation="global")
    assert "latent_normalisation" not in plain.to_dict()  # existing recipe hashes are unchanged
    assert glob.config_hash() != plain.config_hash()
    assert PretrainRecipe.from_dict(json.loads(json.dumps(glob.to_dict()))) == glob
    cfg = TinyConfig(vocabulary=VOCAB, latent_normalisation="global")
    assert TinyConfig.from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg
    assert "latent_normalisation" not in TinyConfig(vocabulary=VOCAB).to_dict()
    with pytest.raises(ValueError, match="latent_normalisation"):
        PretrainRecipe(latent_normalisation="pixel")


def test_protocols_and_shapes():
    m = small()
    assert isinstance(m, Backend) and isinstance(m, AttributableModel)
    assert m.video_format == (9, 16, 16, 8)
    lat = m.encode_video(clips(2))
    emb = m.encode_prompt(["a red ball falls", ""])
    assert emb.shape == (2, 64) and torch.equal(emb[1], m.text_encoder.null.detach())
    v = m.velocity(lat, torch.tensor([751.0, 751.0]), emb)
    assert v.shape == lat.shape and v.dtype == torch.float32
    v.square().mean().backward()
    named = list(m.trainable_parameters())
    assert [n for n, _ in named] == [f"denoiser.{n}" for n, _ in m.denoiser.named_parameters()]
    assert all(p.grad is not None for _, p in named)
    assert all(p.grad is None for p in m.text_encoder.parameters())  # frozen


def test_out_of_vocabulary_words_are_named():
    with pytest.raises(BackendError, match=r"\['dragon', 'flies'\]"):
        small().encode_prompt(["a red dragon flies on a gray background"])
    with pytest.raises(BackendError, match="wrong shape|expected \\(B, 3, 9, 16, 16\\)"):
        small().encode_video(torch.zeros(1, 3, 8, 16, 16))


def test_generate_is_seeded_per_video():
    m = small()
    a = m.generate(["a red ball falls", "a blue box rolls"], [1, 2], steps=3)
    b = m.generate(["a blue box rolls"], [2], steps=3)
    assert a.shape == (2, 3, 9, 16, 16) and a.abs().max() <= 1.0
    # same (prompt, seed): same video in any batch, up to float rounding (Heun's last step, from sigma 0.001,
    # magnifies the batch-dependent rounding of the convolutions to ~1e-5: far below one 8-bit level, 8e-3)
    assert torch.allclose(a[1:], b, atol=1e-4)
    euler = [m.generate(p, s, steps=3, sampler="euler") for p, s in ((["a red ball falls", "a blue box rolls"], [1, 2]), (["a blue box rolls"], [2]))]
    assert torch.allclose(euler[0][1:], euler[1], atol=1e-6)
    assert not torch.allclose(a[0], m.generate(["a red ball falls"], [3], steps=3)[0])
    assert not torch.allclose(b, m.generate(["a blue box rolls"], [2], steps=3, guidance=3.0))


def test_guidance_above_limits_guidance_to_high_noise():
    m = small()
    p, s = ["a blue box rolls"], [2]
    guided, plain = m.generate(p, s, steps=4, guidance=3.0), m.generate(p, s, steps=4)
    from bench.backends.tiny.sampler import sample

    assert torch.equal(sample(m, p, s, steps=4, guidance=3.0, guidance_above=0.0), guided)  # the default
    assert torch.equal(sample(m, p, s, steps=4, guidance=3.0, guidance_above=1.0), plain)  # never guided
    half = sample(m, p, s, steps=4, guidance=3.0, guidance_above=0.5)  # guided at sigma 1 and 0.75 only
    assert not torch.allclose(half, guided) and not torch.allclose(half, plain)


def test_place_guidance_contrasts_the_prompt_with_itself_without_its_start_place(monkeypatch):
    from bench.backends.tiny.sampler import sample

    places = ("at", "the", "left", "far", "in", "middle")
    cfg = TinyConfig(vocabulary=VOCAB + places, frames=9, height=16, width=16, latent_channels=4, block_out_channels=(16, 16),
                     text_width=16, text_layers=1, text_heads=2, attention_head_dim=8, norm_num_groups=8)
    m = fresh_model(cfg, 0)
    with torch.no_grad():
        m.denoiser.unet.conv_out.weight.normal_(0.0, 0.05, generator=torch.Generator().manual_seed(0))
    p, s = ["a red ball falls at the far left on a gray background"], [1]
    off = sample(m, p, s, steps=4, guidance=3.0)
    on = sample(m, p, s, steps=4, guidance=3.0, place_guidance=1.0)
    assert not torch.allclose(on, off, atol=1e-4)
    assert torch.equal(sample(m, p, s, steps=4, guidance=3.0, place_guidance=1.0, place_guidance_above=1.0), off)  # never applied
    # a prompt that names no place gets no place term
    q = ["a red ball falls on a gray background"]
    assert torch.equal(sample(m, q, s, steps=4, guidance=3.0, place_guidance=2.0), sample(m, q, s, steps=4, guidance=3.0))
    # the formula, read off one Euler step from sigma 1 (z_0 = z_1 - v) with the decode made the identity
    monkeypatch.setattr(m, "decode_latents", lambda z, linear=False: z)
    from bench.backends.tiny.sampler import initial_noise

    z = initial_noise(m, s)
    t = torch.full((1,), 1000.0)
    v, v_null, v_placeless = (m.velocity(z, t, m.encode_prompt([x])) for x in (p[0], "", q[0]))
    want = z - (v_null + 3.0 * ((v - v_null) + 0.5 * (v - v_placeless)))
    got = sample(m, p, s, steps=1, guidance=3.0, sampler="euler", place_guidance=0.5)
    assert torch.allclose(got, want, atol=1e-5)
    with pytest.raises(BackendError, match="place_guidance=-1.0.*>= 0"):
        sample(m, p, s, steps=1, place_guidance=-1.0)


def test_guidance_variants_reduce_to_plain_guidance_and_do_what_they_say():
    from bench.backends.tiny.sampler import guide

    g = torch.Generator().manual_seed(0)
    z, v, v_null = (torch.randn(3, 2, 3, 4, 4, generator=g) for _ in range(3))
    sigma, scale = 0.6, 5.0
    plain = guide(v, v_null, z, sigma, scale)
    assert torch.allclose(plain, v_null + scale * (v - v_null))
    # projected guidance with the parallel part kept whole is plain guidance, computed through the x0 route
    assert torch.allclose(guide(v, v_null, z, sigma, scale, parallel=1.0 - 1e-9), plain, atol=1e-4)
    # with it dropped, the guided clean latent moves from the prompt's only orthogonally to the prompt's prediction
    x0 = z - sigma * v
    moved = (z - sigma * guide(v, v_null, z, sigma, scale, parallel=0.0)) - x0
    assert torch.allclose((moved * x0).sum(dim=(1, 2, 3, 4)), torch.zeros(3), atol=1e-3)
    # full rescale gives the guided velocity the prompt velocity's spread
    rescaled = guide(v, v_null, z, sigma, scale, rescale=1.0)
    assert torch.allclose(rescaled.std(dim=(1, 2, 3, 4)), v.std(dim=(1, 2, 3, 4)), rtol=1e-4)


def test_stochastic_sampler_is_seeded_per_video_and_differs_from_the_ode():
    m = small()
    a = m.generate(["a red ball falls", "a blue box rolls"], [1, 2], steps=3, sampler="stochastic")
    b = m.generate(["a blue box rolls"], [2], steps=3, sampler="stochastic")
    assert torch.allclose(a[1:], b, atol=1e-6)  # its per-step noise is the video's own, not the batch's
    assert torch.equal(b, m.generate(["a blue box rolls"], [2], steps=3, sampler="stochastic"))
    assert not torch.allclose(b, m.generate(["a blue box rolls"], [2], steps=3), atol=1e-4)
    with pytest.raises(BackendError, match="unknown sampler 'ddim'.*euler, heun, stochastic"):
        m.generate(["a blue box rolls"], [2], steps=3, sampler="ddim")


def test_heun_sampler_solves_the_same_ode_with_second_order_error():
    """Heun and Euler integrate one ODE: against a fine Euler solution, Heun's error at a few steps is far
    below Euler's at the same steps and shrinks about 4x when the steps double (Euler's about 2x)."""
    from bench.backends.tiny.sampler import sample

    m = small()
    p, s = ["a red ball falls", "a blue box rolls"], [1, 2]
    fine = sample(m, p, s, steps=400, guidance=3.0)
    err = {(name, n): float((sample(m, p, s, steps=n, guidance=3.0, sampler=name) - fine).abs().max())
           for name in ("euler", "heun") for n in (4, 8)}
    assert err["heun", 4] < err["euler", 4] / 3
    assert err["heun", 8] < err["heun", 4] / 2.5
    assert err["euler", 8] > err["euler", 4] / 2.5
    assert torch.allclose(sample(m, p[1:], s[1:], steps=4, sampler="heun"), sample(m, p, s, steps=4, sampler="heun")[1:], atol=1e-5)


def test_save_load_roundtrip(tmp_path):
    m = small(seed=5)
    m.latent.fit(clips(3))
    m.save(tmp_path / "m")
    again = load_backend("tiny", tmp_path / "m")
    assert again.config == m.config
    lat, t = m.encode_video(clips(1)), torch.tensor([300.0])
    with torch.no_grad():
        assert torch.equal(m.velocity(lat, t, m.encode_prompt(["a red ball"])), again.velocity(lat, t, again.encode_prompt(["a red ball"])))
    (tmp_path / "m" / "model.safetensors").unlink()
    with pytest.raises(BackendError, match="model.safetensors"):
        TinyBackend.load(tmp_path / "m")


def test_training_is_seeded_and_learns():
    data = ((clips(8, seed=1) > 0).to(torch.uint8) * 255)
    caps = [("a red ball falls",), ("a blue box rolls", "a blue box rolls on a gray background")] * 4
    cfg = TrainConfig(steps=6, batch_size=4, warmup=1, lr=2e-3, threads=1, save_every=100)
    runs = []
    for _ in range(2):
        m = small(seed=3)
        losses = pretrain(m, data, caps, cfg, progress=False)
        runs.append((losses, m.state_dict()))
    assert runs[0][0] == runs[1][0]
    assert all(torch.equal(runs[0][1][k], runs[1][1][k]) for k in runs[0][1])
    assert not torch.equal(runs[0][1]["denoiser.unet.conv_in.weight"], small(seed=3).state_dict()["denoiser.unet.conv_in.weight"])


def test_bfloat16_training_is_seeded_stays_close_to_float32_and_is_recorded_only_when_chosen():
    from bench.backends.tiny.recipe import PretrainRecipe

    data = ((clips(8, seed=1) > 0).to(torch.uint8) * 255)
    caps = [("a red ball falls",), ("a blue box rolls",)] * 4
    runs = {}
    for precision in ("float32", "bfloat16", "bfloat16"):
        m = small(seed=3)
        cfg = TrainConfig(steps=6, batch_size=4, warmup=1, lr=2e-3, threads=1, save_every=100, precision=precision)
        runs.setdefault(precision, []).append((pretrain(m, data, caps, cfg, progress=False), m.state_dict()))
    (l16, w16), (l16b, w16b) = runs["bfloat16"]
    (l32, w32), = runs["float32"]
    assert l16 == l16b and all(torch.equal(w16[k], w16b[k]) for k in w16)  # seeded
    assert l16 != l32 and all(abs(a - b) < 0.05 * b for a, b in zip(l16, l32))  # other rounding, same run
    assert all(w.dtype == torch.float32 for w in w16.values())  # the weights stay float32
    assert "precision" not in PretrainRecipe().to_dict()["train"]  # recipes written before the field keep their hash
    half = PretrainRecipe(train=TrainConfig(precision="bfloat16"))
    assert half.config_hash() != PretrainRecipe().config_hash()
    assert PretrainRecipe.from_dict(json.loads(json.dumps(half.to_dict()))) == half
    with pytest.raises(ValueError, match="precision='float16'.*float32, bfloat16"):
        TrainConfig(precision="float16")


def test_embedded_checkpoint_loads_and_knows_the_world():
    from bench.world import load_test_prompts, vocabulary

    m = load_backend("tiny")
    assert isinstance(m, Backend) and isinstance(m, AttributableModel)
    meta = json.loads((embedded_checkpoint() / RECIPE_NAME).read_text())
    assert meta["weights_sha256"] == sha256_file(embedded_checkpoint() / "model.safetensors")
    from bench.backends.tiny.recipe import PretrainRecipe

    assert PretrainRecipe.from_dict(meta["recipe"]).config_hash() == meta["config_hash"]  # the cache name stays valid
    assert set(m.tokenizer.vocabulary) == set(vocabulary())
    ids = m.tokenize([tp.caption for tp in load_test_prompts()])  # every test prompt is in vocabulary
    assert ids.shape[0] == 50 and (ids > 0).sum(1).min() >= 10
    assert m.video_format == (17, 32, 32, 8)
    assert m.latent_geometry.latent_shape(17, 32, 32) == (12, 5, 16, 16)


def test_pretrained_denoises_better_than_untrained():
    from bench.world import WorldConfig, build_queries, render_many, to_tensor

    from bench.backends.tiny.evaluate import loss_per_sigma

    m = load_backend("tiny")
    specs = build_queries(WorldConfig())[::10]  # 5 held-out plausible clips, one per category pair
    videos = to_tensor(render_many(specs, WorldConfig()))
    prompts = [s.caption for s in specs]
    trained = loss_per_sigma(m, videos, prompts, sigmas=(0.3, 0.75))
    fresh = fresh_model(m.config, 0)
    fresh.latent.load_state_dict(m.latent.state_dict())
    untrained = loss_per_sigma(fresh, videos, prompts, sigmas=(0.3, 0.75))
    assert trained[0.3] < untrained[0.3] and trained[0.75] < 0.7 * untrained[0.75], (trained, untrained)


def test_report_writes_every_seed_set_and_its_spread(tmp_path):
    """``python -m bench.backends.tiny.report`` end to end on the embedded checkpoint, cut to 1 solver step."""
    from bench.backends.tiny import report

    assert report.main(["--out", str(tmp_path), "--steps", "1", "--guidance", "2", "--seed-sets", "2"]) == 0
    res = json.loads((tmp_path / "results.json").read_text())
    g = res["guidance"]["2.0"]
    assert res["seed_sets"] == 2 and len(g["one_object_per_seed_set"]) == 2
    assert g["one_object_share"] == pytest.approx(sum(g["one_object_per_seed_set"]) / 2)
    for share, ci in ((g["one_object_share"], g["one_object_ci95"]), (g["moves_share"], g["moves_ci95"])):
        assert ci[0] <= share <= ci[1]
    rows = (tmp_path / "sample_check.csv").read_text().splitlines()
    assert rows[0].startswith("prompt_id,category,colour,guidance,seed_set,seed") and len(rows) == 1 + 2 * 50
    assert {r.split(",")[4] for r in rows[1:]} == {"0", "1"}
    assert res["reference_renders"]["one_object_share"] >= 0.9  # the checker passes the world's own clips
    for name in ("contact_sheet.png", "sample_check.png", "failure_sheet.png", "loss_per_sigma.csv"):
        assert (tmp_path / name).stat().st_size > 0


def test_sigma_band_draws_stay_in_band_and_the_full_range_is_unchanged():
    from bench.backends.tiny.recipe import PretrainRecipe
    from bench.backends.tiny.train import draw_sigmas

    full = TrainConfig()
    g1, g2 = torch.Generator().manual_seed(5), torch.Generator().manual_seed(5)
    assert torch.equal(draw_sigmas(full, 64, g1), torch.sigmoid(torch.randn(64, generator=g2)))  # old stream
    for sampling in ("logit_normal", "uniform"):
        for band in ((0.0, 0.5), (0.5, 1.0), (0.2, 0.3)):
            s = draw_sigmas(TrainConfig(sigma_sampling=sampling, sigma_range=band), 4000, torch.Generator().manual_seed(0))
            assert s.min() >= band[0] and s.max() <= band[1]
            assert s.std() > 0.2 * (band[1] - band[0])  # spread over the band, not piled on one end
    # logit-normal truncated to the upper half keeps the full law's shape there: its median is the full law's 75th percentile
    s = draw_sigmas(TrainConfig(sigma_range=(0.5, 1.0)), 20000, torch.Generator().manual_seed(1))
    assert abs(float(s.median()) - float(torch.sigmoid(torch.tensor(0.6745)))) < 0.01
    # a recipe without a band hashes as before the field existed; one with a band differs and round-trips
    plain = PretrainRecipe()
    assert "sigma_range" not in plain.to_dict()["train"]
    banded = PretrainRecipe(train=TrainConfig(sigma_range=(0.0, 0.5)))
    assert banded.config_hash() != plain.config_hash()
    assert PretrainRecipe.from_dict(json.loads(json.dumps(banded.to_dict()))) == banded
    with pytest.raises(ValueError, match="sigma_range"):
        TrainConfig(sigma_range=(0.6, 0.4))


def test_failure_sheet_draws_rows_and_says_when_there_are_none(tmp_path):
    from bench.backends.tiny.report import failure_sheet

    video = (torch.rand(17, 32, 32, 3, generator=torch.Generator().manual_seed(0)) * 255).to(torch.uint8).numpy()
    failure_sheet([("p0 bounce: several objects in frame 0", video, video[..., 0] > 128)] * 2, tmp_path / "a.png")
    failure_sheet([], tmp_path / "b.png")
    assert (tmp_path / "a.png").stat().st_size > 0 and (tmp_path / "b.png").stat().st_size > 0


def test_position_channels_append_x_and_y_after_the_latent_and_are_recorded_only_when_chosen():
    from bench.backends.tiny.denoiser import coordinate_channels
    from bench.backends.tiny.recipe import PretrainRecipe

    plain = small(seed=3)
    cfg = dataclasses.replace(plain.config, position_channels=2)
    placed = TinyBackend(cfg)
    unet, ref = placed.denoiser.unet, plain.denoiser.unet
    assert unet.conv_in.in_channels == ref.conv_in.in_channels + 2
    grid = coordinate_channels(3, 5, torch.zeros(()))[0]  # (2, H', W'): x varies along the width, y along the height
    assert torch.equal(grid[0, 1], torch.linspace(-1, 1, 5)) and torch.equal(grid[1, :, 4], torch.linspace(-1, 1, 3))
    assert set(placed.state_dict()) == set(plain.state_dict())  # constants, not weights
    # with zero weights on the two new input channels, the model is the plain one: so they come last
    state = dict(plain.state_dict())
    w = state["denoiser.unet.conv_in.weight"]
    state["denoiser.unet.conv_in.weight"] = torch.cat([w, torch.zeros_like(w[:, :2])], dim=1)
    placed.load_state_dict(state)
    lat, t, emb = torch.randn(2, *plain.latent_geometry.latent_shape(9, 16, 16)), torch.tensor([400.0]), plain.encode_prompt(["a red ball", "a blue box"])
    with torch.no_grad():
        assert torch.equal(placed.velocity(lat, t, emb), plain.velocity(lat, t, emb))
        state["denoiser.unet.conv_in.weight"][:, -2:] = 0.1
        placed.load_state_dict(state)
        assert not torch.allclose(placed.velocity(lat, t, emb), plain.velocity(lat, t, emb))
    assert TinyConfig.from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg
    assert "position_channels" not in plain.config.to_dict() and "position_channels" not in PretrainRecipe().to_dict()
    assert PretrainRecipe(position_channels=2).config_hash() != PretrainRecipe().config_hash()
    with pytest.raises(ValueError, match="position_channels"):
        PretrainRecipe(position_channels=1)


def _members(n: int = 2) -> list[TinyBackend]:
    data = clips(4, seed=7)
    models = [small(seed=10 + i) for i in range(n)]
    for m in models:
        m.latent.fit(data)  # one corpus, so one latent
    return models


def test_an_ensemble_averages_its_members_velocities_each_on_its_own_prompt_embedding(tmp_path):
    a, b = _members()
    state = torch.random.get_rng_state()
    ens = TinyBackend.from_members([a, b])
    assert torch.equal(torch.random.get_rng_state(), state)  # joining models draws nothing from the caller's RNG
    prompts = ["a red ball", ""]
    lat, t = torch.randn(2, *a.latent_geometry.latent_shape(9, 16, 16)), torch.tensor([300.0, 700.0])
    emb = ens.encode_prompt(prompts)
    assert torch.equal(emb, torch.cat([a.encode_prompt(prompts), b.encode_prompt(prompts)], dim=1))
    assert torch.equal(emb[1], ens.text_encoder.null.detach())  # the null prompt is every member's null vector
    with torch.no_grad():
        expected = (a.velocity(lat, t, a.encode_prompt(prompts)) + b.velocity(lat, t, b.encode_prompt(prompts))) / 2
        assert torch.equal(ens.velocity(lat, t, emb), expected)
        assert not torch.allclose(expected, a.velocity(lat, t, a.encode_prompt(prompts)))  # the members differ
    names = [n for n, _ in ens.trainable_parameters()]
    assert names == [f"denoiser.members.{i}.{n}" for i in range(2) for n, _ in a.denoiser.named_parameters()]
    assert ens.config.to_dict()["members"] == 2 and "members" not in a.config.to_dict()
    ens.save(tmp_path / "ens")
    back = TinyBackend.load(tmp_path / "ens")
    assert back.config == ens.config
    with torch.no_grad():
        assert torch.equal(back.velocity(lat, t, back.encode_prompt(prompts)), expected)
    video = back.generate(["a red ball"], [0], steps=2, guidance=3.0)
    assert video.shape == (1, 3, 9, 16, 16) and torch.equal(video, ens.generate(["a red ball"], [0], steps=2, guidance=3.0))


def test_an_ensemble_refuses_members_it_cannot_average_and_pretraining_as_one_model():
    a, b = _members()
    with pytest.raises(BackendError, match="at least 2"):
        TinyBackend.from_members([a])
    wide = TinyBackend(dataclasses.replace(a.config, text_width=32))
    wide.latent.load_state_dict(a.latent.state_dict())
    with pytest.raises(BackendError, match="config differs"):
        TinyBackend.from_members([a, wide])
    other = small(seed=12)
    other.latent.fit(clips(4, seed=8))
    with pytest.raises(BackendError, match="fitted latent differs"):
        TinyBackend.from_members([a, other])
    ens = TinyBackend.from_members([a, b])
    with pytest.raises(BackendError, match="is an ensemble"):
        TinyBackend.from_members([ens, a])
    with pytest.raises(BackendError, match="members=0"):
        TinyBackend(dataclasses.replace(a.config, members=0))
    with pytest.raises(ValueError, match="width 2 x"):
        ens.velocity(torch.randn(1, *a.latent_geometry.latent_shape(9, 16, 16)), torch.tensor([500.0]), a.encode_prompt(["a red ball"]))
    with pytest.raises(ValueError, match="from_members"):
        pretrain(ens, (clips(2) * 127.5 + 127.5).to(torch.uint8), [["a red ball"]] * 2, TrainConfig(steps=1, batch_size=2), progress=False)
