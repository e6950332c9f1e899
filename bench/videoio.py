"""Video files: :func:`write_mp4` (browser-playable H.264) and :func:`read_video` (OpenCV).

Writing uses the ffmpeg binary bundled with ``imageio-ffmpeg`` (libx264, ``yuv420p``, ``+faststart``
so Chromium can start playing before the file is fully read). H.264 with 4:2:0 chroma needs even
sizes; frames are written at their native size (no rescaling), with a low CRF so colours survive the
round trip on tiny clips. Reading uses OpenCV and returns RGB.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from bench.errors import UserError

DEFAULT_CRF = 12  # near-lossless; the files stay a few kB at 32 x 32


class VideoIOError(UserError):
    """A video that cannot be written or read (bad array, odd size, unreadable file)."""


def write_mp4(path: str | Path, frames: np.ndarray, fps: int, crf: int = DEFAULT_CRF) -> Path:
    """Write ``frames`` (``uint8 (F, H, W, 3)`` RGB, even H and W) as an H.264 yuv420p mp4; returns the path."""
    import imageio_ffmpeg

    arr = np.asarray(frames)
    if arr.dtype != np.uint8 or arr.ndim != 4 or arr.shape[-1] != 3 or arr.shape[0] < 1:
        raise VideoIOError(
            f"write_mp4 expects uint8 frames of shape (F, H, W, 3) with F >= 1; got dtype {arr.dtype}, "
            f"shape {arr.shape}. Convert with np.clip(x, 0, 255).astype(np.uint8)."
        )
    _, h, w, _ = arr.shape
    if h % 2 or w % 2:
        raise VideoIOError(f"H.264 yuv420p needs even frame sizes; got {h}x{w}. Crop or pad by one pixel.")
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
