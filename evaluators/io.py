"""The evaluators' own video reader and writer (OpenCV), independent of the harness and of curation.

Frames are returned as ``uint8`` RGB arrays of shape ``(F, H, W, 3)`` at the file's native size and
frame rate; nothing is resized. A file that cannot be read raises :class:`VideoReadError`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from evaluators.errors import FramesError, VideoReadError

DEFAULT_FPS = 8.0  # used only when a container reports no frame rate


@dataclass(frozen=True)
class Video:
    """A decoded video: ``frames`` uint8 RGB ``(F, H, W, 3)`` and its frame rate ``fps``."""

    frames: np.ndarray
    fps: float

    @property
    def shape(self) -> tuple[int, int, int, int]:
        return tuple(self.frames.shape)  # type: ignore[return-value]


def read_video(path: str | Path, max_frames: int | None = None) -> Video:
    """Decode every frame of ``path`` (or the first ``max_frames``) as uint8 RGB ``(F, H, W, 3)``.

    Raises :class:`VideoReadError` for a missing, empty or undecodable file.
    """
    path = Path(path)
    if not path.is_file():
        raise VideoReadError(f"video {str(path)!r} does not exist; expected a readable video file (e.g. .mp4).")
    cap = cv2.VideoCapture(str(path))
    try:
        if not cap.isOpened():
            raise VideoReadError(
                f"OpenCV could not open {str(path)!r} ({path.stat().st_size} bytes); expected an mp4/avi that "
                "ffmpeg can decode. Re-encode it, e.g. `ffmpeg -i in -c:v libx264 out.mp4`."
            )
        fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
        frames = []
        while max_frames is None or len(frames) < max_frames:
            ok, frame = cap.read()
            if not ok:
                break
            frames.append(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
    finally:
        cap.release()
    if not frames:
        raise VideoReadError(
            f"{str(path)!r} holds no decodable frame ({path.stat().st_size} bytes); expected at least one. "
            "The file is empty or corrupt: regenerate or re-encode it."
        )
    if not np.isfinite(fps) or fps <= 0:
        fps = DEFAULT_FPS
    return Video(frames=np.stack(frames).astype(np.uint8, copy=False), fps=fps)


def write_video(path: str | Path, frames: np.ndarray, fps: float = DEFAULT_FPS) -> Path:
    """Write uint8 RGB ``(F, H, W, 3)`` frames to ``path`` with OpenCV's ``mp4v`` codec (for tests and tools).

    The evaluators read what this writes; browser-playable H.264 export belongs to the harness.
    """
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
        raise FramesError(f"frames must be uint8 (F, H, W, 3); got {frames.dtype} {frames.shape}. Convert before writing.")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    h, w = frames.shape[1:3]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), float(fps), (w, h))
    if not writer.isOpened():
        raise VideoReadError(f"OpenCV could not open {str(path)!r} for writing; check the folder is writable.")
    try:
        for frame in frames:
            writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    finally:
        writer.release()
    return path
