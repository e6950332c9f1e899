"""WanBackend with tiny random-config Wan components built in-process (as diffusers' own tests do), offline."""

from __future__ import annotations

import json

import pytest
import torch

from bench.backends.base import Backend
from bench.backends.registry import load_backend
from bench.backends.wan import EMBEDS_NAME, SETTINGS_NAME, WanBackend
from bench.errors import BackendError
from curation.protocols import AttributableModel

PROMPTS = ["a red ball falls", "a blue box slides"]


@pytest.fixture(scope="module")
def wan_dir(tmp_path_factory):
    from diffusers import AutoencoderKLWan, WanTransformer3DModel
    from safetensors.torch import save_file

    torch.manual_seed(0)
    root = tmp_path_factory.mktemp("wan")
    WanTransformer3DModel(
        patch_size=(1, 2, 2), num_attention_heads=2, attention_head_dim=12, in_channels=16, out_channels=16,
        text_dim=32, freq_dim=256, ffn_dim=32, num_layers=2, cross_attn_norm=True, rope_max_seq_len=32,
    ).save_pretrained(root / "transformer")
    AutoencoderKLWan(
        base_dim=3, z_dim=16, dim_mult=[1, 1, 1, 1], num_res_blocks=1, temperal_downsample=[False, True, True]
    ).save_pretrained(root / "vae")
    gen = torch.Generator().manual_seed(1)
    save_file({p: torch.randn(8, 32, generator=gen) for p in PROMPTS + [""]}, str(root / EMBEDS_NAME))
    (root / SETTINGS_NAME).write_text(json.dumps({"video_format": [9, 16, 16, 8]}))
    return root


@pytest.fixture(scope="module")
def wan(wan_dir):
    return load_backend("wan", wan_dir)


def test_conforms_to_both_protocols(wan):
    assert isinstance(wan, WanBackend)
    assert isinstance(wan, Backend) and isinstance(wan, AttributableModel)
    assert wan.latent_geometry.latent_shape(9, 16, 16) == (16, 3, 2, 2)
    assert wan.video_format == (9, 16, 16, 8)
    assert wan.dtype == torch.float32  # fp32 on CPU


def test_encode_velocity_and_gradients(wan):
    video = torch.rand(2, 3, 9, 16, 16, generator=torch.Generator().manual_seed(0)) * 2 - 1
    lat = wan.encode_video(video)
    assert lat.shape == (2, 16, 3, 2, 2) and lat.dtype == torch.float32
    emb = wan.encode_prompt(PROMPTS)
    assert emb.shape == (2, 8, 32)
    v = wan.velocity(lat, torch.tensor([751.0, 751.0]), emb)
    assert v.shape == lat.shape
    v.square().mean().backward()
    named = list(wan.trainable_parameters())
    assert named[0][0].startswith("transformer.")
    assert len(named) == len(list(wan.pipe.transformer.parameters()))
    assert all(p.grad is not None for _, p in named if p.requires_grad)
    wan.pipe.transformer.zero_grad(set_to_none=True)
    assert wan.decode_latents(lat).shape == (2, 3, 9, 16, 16)


def test_generate_is_seeded(wan):
    a = wan.generate(PROMPTS, [3, 4], steps=2, guidance=1.0)
    assert a.shape == (2, 3, 9, 16, 16) and a.abs().max() <= 1.0
    b = wan.generate(PROMPTS[1:], [4], steps=2, guidance=2.0)
    c = wan.generate(PROMPTS[1:], [4], steps=2, guidance=1.0)
    assert torch.allclose(a[1:], c, atol=1e-5)  # same (prompt, seed): same video, whatever the batch
    assert not torch.allclose(b, c)  # guidance changes the result


def test_save_load_roundtrip(wan, tmp_path):
    wan.save(tmp_path / "copy")
    again = WanBackend.load(tmp_path / "copy")
    lat = torch.randn(1, 16, 3, 2, 2, generator=torch.Generator().manual_seed(2))
    t, emb = torch.tensor([500.0]), wan.encode_prompt(PROMPTS[:1])
    with torch.no_grad():
        assert torch.allclose(wan.velocity(lat, t, emb), again.velocity(lat, t, emb), atol=1e-6)


def test_unknown_prompt_without_text_encoder(wan):
    with pytest.raises(BackendError, match="no embeddings"):
        wan.encode_prompt(["a green diamond spins"])


def test_missing_files_are_listed(tmp_path):
    (tmp_path / "transformer").mkdir()
    (tmp_path / "transformer" / "config.json").write_text("{}")
    with pytest.raises(BackendError) as err:
        WanBackend.load(tmp_path)
    msg = str(err.value)
    for item in ("transformer/diffusion_pytorch_model.safetensors", "vae/config.json", "text_encoder/config.json", EMBEDS_NAME):
        assert item in msg
    assert "transformer/config.json," not in msg  # present files are not listed
    with pytest.raises(BackendError, match="needs a local diffusers Wan directory"):
        load_backend("wan")
    with pytest.raises(BackendError, match="unknown backend"):
        load_backend("sora")


def test_text_encoder_path(wan_dir, tmp_path):
    """With text_encoder/ + tokenizer/ (a tiny UMT5 and a word-level tokenizer built offline) prompts are encoded."""
    import shutil

    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast, UMT5Config, UMT5EncoderModel

    root = tmp_path / "wan_t5"
    for sub in ("transformer", "vae"):
        shutil.copytree(wan_dir / sub, root / sub)
    (root / SETTINGS_NAME).write_text(json.dumps({"video_format": [9, 16, 16, 8], "max_sequence_length": 8}))
    words = ["<pad>", "</s>", "<unk>", "a", "red", "blue", "ball", "box", "falls", "slides"]
    tok = Tokenizer(models.WordLevel({w: i for i, w in enumerate(words)}, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<pad>", eos_token="</s>", unk_token="<unk>").save_pretrained(root / "tokenizer")
    torch.manual_seed(0)
    UMT5EncoderModel(UMT5Config(vocab_size=len(words), d_model=32, d_kv=8, d_ff=32, num_layers=1, num_heads=2)).save_pretrained(root / "text_encoder")
    wan = WanBackend.load(root)
    emb = wan.encode_prompt(PROMPTS)
    assert emb.shape == (2, 8, 32)
    assert not torch.allclose(emb[0], emb[1])
    assert wan.generate(PROMPTS[:1], [0], steps=1).shape == (1, 3, 9, 16, 16)
