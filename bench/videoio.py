"""Video files: :func:`write_mp4` / :func:`write_mp4_many` (browser-playable H.264) and :func:`read_video`.

Writing uses the ffmpeg binary bundled with ``imageio-ffmpeg`` (libx264, ``yuv420p``, ``+faststart``
so Chromium can start playing before the file is fully read). :func:`write_mp4_many` encodes many
equal-shaped clips in one ffmpeg process (one stream cut by the segment muxer at forced key frames,
one file per clip): ffmpeg's start-up, not encoding, dominates the cost of a 17 x 32 x 32 clip.
H.264 with 4:2:0 chroma needs even sizes; frames are written at their native size (no rescaling),
with a low CRF so colours survive the round trip on tiny clips. Reading uses OpenCV and returns RGB.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from bench.errors import UserError

DEFAULT_CRF = 12  # near-lossless; the files stay a few kB at 32 x 32


class VideoIOError(UserError):
    """A video that cannot be written or read (bad array, odd size, unreadable file)."""


def write_mp4(path: str | Path, frames: np.ndarray, fps: int, crf: int = DEFAULT_CRF) -> Path:
    """Write ``frames`` (``uint8 (F, H, W, 3)`` RGB, even H and W) as an H.264 yuv420p mp4; returns the path."""
    import imageio_ffmpeg

    arr = _checked(frames)
    _, h, w, _ = arr.shape
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = imageio_ffmpeg.write_frames(
        str(path),
        (w, h),
        fps=float(fps),
        codec="libx264",
        pix_fmt_in="rgb24",
        pix_fmt_out="yuv420p",
        macro_block_size=1,
        quality=None,
        output_params=["-crf", str(int(crf)), "-preset", "medium", "-movflags", "+faststart"],
        ffmpeg_log_level="error",
    )
    writer.send(None)  # start the generator
    for frame in arr:
        writer.send(np.ascontiguousarray(frame))
    writer.close()
    return path


def write_mp4_many(
    paths: list[str | Path], clips: Iterable[np.ndarray], fps: int, crf: int = DEFAULT_CRF,
    on_clip: Callable[[int], None] | None = None,
) -> list[Path]:
    """Write clip ``i`` of ``clips`` (each ``uint8 (F, H, W, 3)``, all one shape) to ``paths[i]`` as H.264 mp4.

    One ffmpeg process: key frames are forced every ``F`` frames and the segment muxer starts a new file
    at each, with timestamps reset, so every file is a standalone clip of ``F`` frames (the same codec
    settings as :func:`write_mp4`). ``on_clip(i)`` is called after clip ``i`` is handed to the encoder.
    """
    import imageio_ffmpeg

    paths = [Path(p) for p in paths]
    if not paths:
        return []
    tmp = Path(tempfile.mkdtemp(prefix=".mp4s-", dir=paths[0].parent if paths[0].parent.exists() else None))
    proc = None
    try:
        for i, clip in enumerate(clips):
            arr = _checked(clip)
            if proc is None:
                shape = arr.shape
                proc = _segment_encoder(imageio_ffmpeg.get_ffmpeg_exe(), shape, len(paths), fps, crf, tmp)
            elif arr.shape != shape:
                raise VideoIOError(f"write_mp4_many needs clips of one shape; clip {i} is {arr.shape}, not {shape}.")
            try:
                proc.stdin.write(np.ascontiguousarray(arr).tobytes())
            except BrokenPipeError:
                err = proc.stderr.read().decode(errors="replace")
                raise VideoIOError(f"ffmpeg stopped while encoding clip {i}: {err.strip()[-500:]}") from None
            if on_clip is not None:
                on_clip(i)
        if proc is None or i + 1 != len(paths):
            raise VideoIOError(f"write_mp4_many got {0 if proc is None else i + 1} clips for {len(paths)} paths.")
        proc.stdin.close()
        err = proc.stderr.read().decode(errors="replace")
        if proc.wait() != 0:
            raise VideoIOError(f"ffmpeg failed while encoding {len(paths)} clips: {err.strip()[-500:]}")
        for i, path in enumerate(paths):
            path.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp / f"{i:06d}.mp4", path)
    finally:
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()
        shutil.rmtree(tmp, ignore_errors=True)
    return paths


def _checked(frames: np.ndarray) -> np.ndarray:
    arr = np.asarray(frames)
    if arr.dtype != np.uint8 or arr.ndim != 4 or arr.shape[-1] != 3 or arr.shape[0] < 1:
        raise VideoIOError(
            f"expected uint8 frames of shape (F, H, W, 3) with F >= 1; got dtype {arr.dtype}, "
            f"shape {arr.shape}. Convert with np.clip(x, 0, 255).astype(np.uint8)."
        )
    if arr.shape[1] % 2 or arr.shape[2] % 2:
        raise VideoIOError(
            f"H.264 yuv420p needs even frame sizes; got {arr.shape[1]}x{arr.shape[2]}. Crop or pad by one pixel."
        )
    return arr


def _segment_encoder(exe: str, shape: tuple, n: int, fps: int, crf: int, tmp: Path) -> subprocess.Popen:
    frames, h, w, _ = shape
    cuts = ["-segment_frames", ",".join(str(frames * i) for i in range(1, n))] if n > 1 else []
    cmd = [
        exe, "-y", "-loglevel", "error", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{w}x{h}",
        "-r", str(fps), "-i", "-", "-c:v", "libx264", "-crf", str(int(crf)), "-preset", "medium",
        "-pix_fmt", "yuv420p", "-g", str(frames), "-keyint_min", str(frames), "-sc_threshold", "0", "-bf", "0",
        "-force_key_frames", f"expr:eq(mod(n,{frames}),0)",
        "-f", "segment", *cuts, "-reset_timestamps", "1", "-segment_format", "mp4",
        "-segment_format_options", "movflags=+faststart", str(tmp / "%06d.mp4"),
    ]
    return subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def read_video(path: str | Path) -> tuple[np.ndarray, float]:
    """Read a video file with OpenCV: ``(uint8 (F, H, W, 3) RGB frames, fps)``."""
    import cv2

    cap = cv2.VideoCapture(str(path))
    if not cap.isOpened():
        raise VideoIOError(f"cannot open video {str(path)!r}: it does not exist or OpenCV cannot decode it.")
    fps = float(cap.get(cv2.CAP_PROP_FPS))
    frames = []
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        frames.append(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
    cap.release()
    if not frames:
        raise VideoIOError(f"video {str(path)!r} has no decodable frames.")
    return np.stack(frames), fps
