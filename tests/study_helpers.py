"""Helpers of the study tests: tiny video folders and study directories (not a test module)."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from bench.study.create import create_study


def write_h264(path: Path, frames: np.ndarray, fps: int = 8) -> None:
    """A browser-playable H.264 mp4 of ``frames`` (F, H, W, 3) uint8, via imageio-ffmpeg's binary."""
    import imageio_ffmpeg

    f, h, w, _ = frames.shape
    writer = imageio_ffmpeg.write_frames(
        str(path), (w, h), fps=fps, codec="libx264", pix_fmt_out="yuv420p", macro_block_size=16,
        output_params=["-movflags", "+faststart"],
    )
    writer.send(None)
    for frame in frames:
        writer.send(np.ascontiguousarray(frame).tobytes())
    writer.close()


def make_videos(root: Path, models: Sequence[str], prompts: Sequence[str], seeds: Sequence[int] = (0,),
                real: bool = False, frames: int = 9) -> Path:
    """``root/<model>/<prompt>-<seed>.mp4`` for every combination; placeholder bytes unless ``real``."""
    for mi, model in enumerate(models):
        folder = root / model
        folder.mkdir(parents=True, exist_ok=True)
        for pi, prompt in enumerate(prompts):
            for seed in seeds:
                path = folder / f"{prompt}-{seed}.mp4"
                if real:
                    video = np.zeros((frames, 32, 32, 3), np.uint8)
                    for t in range(frames):  # a square moving right, coloured by model and prompt
                        x = (3 * t) % 28
                        video[t, 12:18, x:x + 4] = (200, 40 + 60 * mi, 30 * pi % 255)
                    write_h264(path, video)
                else:
                    path.write_bytes(f"video of {model} for {prompt} seed {seed}".encode())
    return root


def make_study(tmp: Path, models=("zeta_model", "omega_model"), prompts=("bounce-01", "roll-02", "spin-03", "float-04"),
               raters=2, real: bool = False, **kwargs):
    """A study directory in ``tmp/study`` over fresh videos; returns (study_dir, plan, secrets)."""
    make_videos(tmp / "videos", models, prompts, real=real)
    plan, secrets = create_study(tmp / "study", [tmp / "videos"], raters, **kwargs)
    return tmp / "study", plan, secrets
