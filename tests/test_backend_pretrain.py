"""``motive-bench pretrain``: trains by the committed recipe's settings, caches by config hash, refuses bad input."""

from __future__ import annotations

import json

import torch

from bench.backends.registry import load_backend
from bench.backends.tiny.recipe import RECIPE_NAME
from bench.cli import main


def test_pretrain_trains_then_reuses_the_cache(tmp_path, capsys):
    before = torch.get_num_threads()
    args = ["pretrain", "--steps", "2", "--decoder-steps", "2", "--corpus-size", "4", "--cache", str(tmp_path), "--no-progress",
            "--threads", "1"]
    try:
        assert main(args + ["--out", str(tmp_path / "copy")]) == 0
        first = capsys.readouterr().out
        assert main(args) == 0
        second = capsys.readouterr().out
    finally:
        torch.set_num_threads(before)
    assert "trained model" in first and "differs from the committed" in first and "decoder steps 2" in first
    assert "cached model" in second
    (cache,) = [p for p in tmp_path.iterdir() if p.name.startswith("tiny-")]
    meta = json.loads((cache / RECIPE_NAME).read_text())
    assert meta["steps_done"] == 2 and meta["recipe"]["corpus_size"] == 4
    assert meta["recipe"]["decoder"]["steps"] == 2 and meta["decoder"]["steps_done"] == 2
    assert cache.name == f"tiny-{meta['config_hash']}"
    model = load_backend("tiny", tmp_path / "copy")
    assert model.video_format == (17, 32, 32, 8) and model.decoder is not None


def test_pretrain_rejects_bad_settings(tmp_path, capsys):
    assert main(["pretrain", "--steps", "0", "--cache", str(tmp_path)]) == 2
    assert "--steps 0 must be >= 1" in capsys.readouterr().err
    assert main(["pretrain", "--decoder-steps", "-1", "--cache", str(tmp_path)]) == 2
    assert "--decoder-steps -1 must be >= 0 (0: no learned decoder)" in capsys.readouterr().err
    assert main(["pretrain", "--members", "0", "--cache", str(tmp_path)]) == 2
    assert "--members 0 must be >= 1" in capsys.readouterr().err
