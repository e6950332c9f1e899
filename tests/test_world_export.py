"""mp4 writing/reading and the ``motive-bench world`` export (real H.264 files and a metadata CSV)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from bench.cli import main
from bench.videoio import VideoIOError, read_video, write_mp4, write_mp4_many
from bench.world import Appearance, WorldConfig, make_spec, render
from bench.world.export import upscale_frames

CFG = WorldConfig()


def test_mp4_round_trip_keeps_frame_count_and_colours(tmp_path):
    spec = make_spec("x", "bounce", "plausible", Appearance("ball", "red", "large", "plain", "plain", "gray"), 1, CFG)
    clip = render(spec, CFG)
    path = write_mp4(tmp_path / "clip.mp4", clip, fps=CFG.fps)
    assert path.read_bytes()[4:8] == b"ftyp"
    back, fps = read_video(path)
    assert back.shape == clip.shape and fps == pytest.approx(8.0)
    assert np.abs(back.astype(np.int16) - clip).mean() < 4.0
    # the background stays gray and the ball's pixels stay red after the round trip
    np.testing.assert_allclose(back[0, 2, 2], (128, 128, 128), atol=6)
    red = clip[..., 0].astype(int) - clip[..., 2] > 120
    assert red.sum() > 100 and (back[red][:, 0].astype(int) - back[red][:, 2]).mean() > 100


def test_write_mp4_refuses_bad_frames(tmp_path):
    with pytest.raises(VideoIOError, match="uint8"):
        write_mp4(tmp_path / "a.mp4", np.zeros((3, 16, 16, 3), np.float32), fps=8)
    with pytest.raises(VideoIOError, match="even"):
        write_mp4(tmp_path / "a.mp4", np.zeros((3, 15, 16, 3), np.uint8), fps=8)
    with pytest.raises(VideoIOError, match="cannot open"):
        read_video(tmp_path / "missing.mp4")


def test_many_clips_in_one_encoder_land_in_their_own_files(tmp_path):
    colours = [(200, 30, 30), (30, 200, 30), (30, 30, 200)]
    clips = [np.broadcast_to(np.array(c, np.uint8), (9, 16, 16, 3)).copy() for c in colours]
    clips[1][4:] = 255  # a change mid-clip must stay inside clip 1
    paths = [tmp_path / "a" / "red.mp4", tmp_path / "b" / "green.mp4", tmp_path / "blue.mp4"]
    seen = []
    write_mp4_many(paths, iter(clips), fps=8, on_clip=seen.append)
    assert seen == [0, 1, 2] and not list(tmp_path.glob("**/.mp4s-*"))
    for path, clip in zip(paths, clips):
        back, fps = read_video(path)
        assert back.shape == clip.shape and fps == pytest.approx(8.0)
        assert np.abs(back.astype(np.int16) - clip).mean() < 4.0, path.name


def test_write_mp4_many_refuses_mismatches(tmp_path):
    one = np.zeros((5, 16, 16, 3), np.uint8)
    with pytest.raises(VideoIOError, match="one shape"):
        write_mp4_many([tmp_path / "a.mp4", tmp_path / "b.mp4"], [one, np.zeros((5, 16, 18, 3), np.uint8)], fps=8)
    with pytest.raises(VideoIOError, match="got 1 clips for 2 paths"):
        write_mp4_many([tmp_path / "a.mp4", tmp_path / "b.mp4"], [one], fps=8)
    assert not list(tmp_path.glob("*.mp4"))


def test_upscale_is_nearest_neighbour():
    frames = np.arange(2 * 2 * 2 * 3, dtype=np.uint8).reshape(2, 2, 2, 3)
    big = upscale_frames(frames, 3)
    assert big.shape == (2, 6, 6, 3) and (big[:, ::3, ::3] == frames).all() and (big[:, 2, 2] == frames[:, 0, 0]).all()


def test_world_command_writes_mp4s_and_a_readable_csv(tmp_path):
    out = tmp_path / "world"
    assert main(["world", "--out", str(out), "--n", "4", "--sets", "corpus"]) == 0
    table = pd.read_csv(out / "metadata.csv")
    assert list(table["clip_id"]) == [f"corpus-0000{i}" for i in range(4)]
    assert {"category", "label", "caption", "seed", "params", "world_version", "path"} <= set(table.columns)
    for path in table["path"]:
        frames, _ = read_video(out / path)
        assert frames.shape == (17, 32, 32, 3)
    info = json.loads((out / "world.json").read_text())
    assert info["counts"] == {"corpus": 4} and info["world_constants"]["gravity_px_per_frame2"] == 0.5
    assert json.loads((out / "manifest.json").read_text())["stage"] == "world"


def test_world_command_reports_bad_input(tmp_path, capsys):
    assert main(["world", "--out", str(tmp_path), "--frames", "16"]) == 2
    assert "4n+1" in capsys.readouterr().err
    assert main(["world", "--out", str(tmp_path), "--sets", "training"]) == 2
    assert "training" in capsys.readouterr().err
