"""Video standardisation: read any OpenCV-readable file and bring it to one frame count, fps and size.

Motive shares one noise tensor ``eps_fix`` across every clip and query, so every clip must have the
same latent shape: one frame count ``F = 4n+1``, one fps and one ``H x W``. This module holds

* :class:`VideoStandard` - the target format and the rules used to reach it;
* :func:`read_video` - decode a file to ``uint8`` RGB frames ``(T, H, W, 3)`` and its fps, or raise
  :class:`~curation.errors.BadVideoError` naming the file and the reason;
* :func:`standardise` - uniform temporal resampling to the target fps, a window of ``F`` frames, the
  too-short rule (pad or reject), and the spatial resize;
* :func:`load_video` / :func:`load_folder` - the two together; the folder loader lists, skips and
  counts unreadable files instead of aborting.

Choices the paper leaves open (recorded by :meth:`VideoStandard.to_dict` in every manifest):

* temporal resampling maps target frame ``i`` (time ``i / fps``) to the nearest source frame
  (``round(i * fps_src / fps)``): uniform in time, no frame blending, so motion is never smeared;
* the window of ``F`` frames is the centre of the resampled clip (``window="center"``) or its start;
* a clip shorter than ``F`` resampled frames is rejected (``short_rule="reject"``) or padded by
  holding its last frame (``short_rule="pad"``) provided at least ``min_fraction`` of the frames are
  real; the held frames have zero flow, so they carry no motion into the mask;
* spatial resize keeps the aspect ratio and centre-crops (``resize="crop"``) or stretches, with
  ``cv2.INTER_AREA`` when shrinking and ``cv2.INTER_LINEAR`` when enlarging.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch

from curation.errors import BadVideoError

VIDEO_SUFFIXES = (".mp4", ".avi", ".webm", ".mov", ".mkv", ".m4v", ".mpg", ".mpeg", ".gif")


@dataclass(frozen=True)
class VideoStandard:
    """The one format every clip is brought to (a backend's ``video_format``) and how to reach it."""

    frames: int
    height: int
    width: int
    fps: float
    short_rule: str = "pad"  # "pad" (hold the last frame) or "reject"
    min_fraction: float = 0.5  # with "pad": the least share of real frames accepted
    window: str = "center"  # "center" or "start"
    resize: str = "crop"  # "crop" (keep aspect, centre-crop) or "stretch"

    def __post_init__(self) -> None:
        if self.frames < 1 or self.height < 1 or self.width < 1 or not self.fps > 0:
            raise BadVideoError(
                f"VideoStandard got frames={self.frames}, size={self.height}x{self.width}, fps={self.fps}; "
                "expected positive values (frames = 4n+1 for video backends)."
            )
        if self.short_rule not in ("pad", "reject"):
            raise BadVideoError(f"short_rule={self.short_rule!r}; expected 'pad' or 'reject'.")
        if self.window not in ("center", "start"):
            raise BadVideoError(f"window={self.window!r}; expected 'center' or 'start'.")
        if self.resize not in ("crop", "stretch"):
            raise BadVideoError(f"resize={self.resize!r}; expected 'crop' or 'stretch'.")
        if not 0.0 < self.min_fraction <= 1.0:
            raise BadVideoError(f"min_fraction={self.min_fraction}; expected a share in (0, 1].")

    @classmethod
    def from_backend(cls, video_format: tuple[int, int, int, float], **rules: Any) -> "VideoStandard":
        """From a backend's ``video_format = (frames, height, width, fps)`` plus optional rules."""
        frames, height, width, fps = video_format
        return cls(frames=int(frames), height=int(height), width=int(width), fps=float(fps), **rules)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def read_video(path: str | os.PathLike) -> tuple[np.ndarray, float]:
    """Decode every frame of ``path`` with OpenCV.

    Returns ``(frames, fps)``: ``frames`` is ``uint8`` of shape ``(T, H, W, 3)`` in RGB order.
    Raises :class:`BadVideoError` (with ``.path``) when the file is missing, empty, not a video,
    corrupt, or reports no usable fps.
    """
    path = Path(path)
    if not path.is_file():
        raise BadVideoError(f"{path}: no such file; give the path of an existing video file.", str(path))
    if path.stat().st_size == 0:
        raise BadVideoError(f"{path}: the file is empty (0 bytes); re-export or remove it.", str(path))
    cap = cv2.VideoCapture(str(path))
    try:
        if not cap.isOpened():
            raise BadVideoError(
                f"{path}: OpenCV cannot open it (unknown container or corrupt header); "
                "expected a video OpenCV/FFmpeg can decode (mp4, avi, webm, ...).", str(path))
        fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
        frames = []
        while True:
            ok, frame = cap.read()
            if not ok:
                break
            frames.append(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
    finally:
        cap.release()
    if not frames:
        raise BadVideoError(f"{path}: no frame could be decoded (corrupt or empty stream); "
                            "re-encode the file or remove it from the corpus.", str(path))
    if not np.isfinite(fps) or fps <= 0 or fps > 1000:
        raise BadVideoError(f"{path}: the container reports fps={fps}; expected a positive frame rate. "
                            "Re-mux the file with a frame rate.", str(path))
    shapes = {f.shape for f in frames}
    if len(shapes) != 1:
        raise BadVideoError(f"{path}: frames change size mid-stream ({sorted(shapes)}); re-encode it.", str(path))
    return np.stack(frames), fps


def _resample_indices(n_src: int, fps_src: float, fps: float) -> np.ndarray:
    """Indices of source frames nearest to the target times ``i / fps`` inside the clip's duration."""
    n_target = int(np.floor((n_src - 1) * fps / fps_src + 1e-9)) + 1
    idx = np.rint(np.arange(n_target) * (fps_src / fps)).astype(np.int64)
    return np.clip(idx, 0, n_src - 1)


def _resize(frame: np.ndarray, height: int, width: int, mode: str) -> np.ndarray:
    h, w = frame.shape[:2]
    if mode == "crop":
        scale = max(height / h, width / w)
        rh, rw = max(height, int(round(h * scale))), max(width, int(round(w * scale)))
    else:
        rh, rw = height, width
    interp = cv2.INTER_AREA if rh * rw < h * w else cv2.INTER_LINEAR
    out = cv2.resize(frame, (rw, rh), interpolation=interp) if (rh, rw) != (h, w) else frame
    top, left = (rh - height) // 2, (rw - width) // 2
    return out[top: top + height, left: left + width]


def standardise(frames: np.ndarray, fps: float, standard: VideoStandard, name: str = "<array>") -> torch.Tensor:
    """Bring decoded frames to ``standard``.

    ``frames``: ``uint8`` ``(T, H, W, 3)`` RGB at ``fps``. Returns ``float32`` ``(3, F, H_s, W_s)`` in
    ``[-1, 1]``. Raises :class:`BadVideoError` when the clip is too short under the configured rule.
    """
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.shape[0] == 0:
        raise BadVideoError(f"{name}: frames of shape {tuple(frames.shape)}; expected (T, H, W, 3) with T >= 1.", name)
    idx = _resample_indices(frames.shape[0], fps, standard.fps)
    need = standard.frames
    if len(idx) < need:
        have = len(idx)
        if standard.short_rule == "reject" or have < standard.min_fraction * need:
            raise BadVideoError(
                f"{name}: {frames.shape[0]} frames at {fps:g} fps give {have} frames at {standard.fps:g} fps; "
                f"expected at least {need} (short_rule={standard.short_rule!r}, min_fraction="
                f"{standard.min_fraction}). Use a longer clip, or short_rule='pad' with a lower min_fraction.",
                name)
        idx = np.concatenate([idx, np.full(need - have, idx[-1])])
    else:
        start = (len(idx) - need) // 2 if standard.window == "center" else 0
        idx = idx[start: start + need]
    out = np.stack([_resize(frames[i], standard.height, standard.width, standard.resize) for i in idx])
    video = torch.from_numpy(out).permute(3, 0, 1, 2).float()
    return video / 127.5 - 1.0


def load_video(path: str | os.PathLike, standard: VideoStandard) -> torch.Tensor:
    """:func:`read_video` then :func:`standardise`: ``float32`` ``(3, F, H, W)`` in ``[-1, 1]``."""
    frames, fps = read_video(path)
    return standardise(frames, fps, standard, name=str(path))


def load_folder(
    folder: str | os.PathLike, standard: VideoStandard
) -> tuple[dict[str, torch.Tensor], list[tuple[str, str]]]:
    """Standardise every video file in ``folder`` (sorted by name, non-recursive).

    Returns ``(clips, failures)``: ``clips`` maps the file stem to ``(3, F, H, W)`` float32; ``failures``
    lists ``(file name, reason)`` for each file that could not be read or standardised - these are
    skipped and counted, nothing else is lost.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise BadVideoError(f"{folder}: not a directory; give a folder of video files.", str(folder))
    clips: dict[str, torch.Tensor] = {}
    failures: list[tuple[str, str]] = []
    for path in sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in VIDEO_SUFFIXES):
        try:
            clips[path.stem] = load_video(path, standard)
        except BadVideoError as exc:
            failures.append((path.name, str(exc)))
    return clips, failures


def to_uint8_frames(video: torch.Tensor) -> np.ndarray:
    """``(3, F, H, W)`` float in ``[-1, 1]`` -> ``uint8`` ``(F, H, W, 3)`` RGB (for flow estimators)."""
    if video.ndim != 4 or video.shape[0] != 3:
        raise BadVideoError(f"video of shape {tuple(video.shape)}; expected (3, F, H, W) in [-1, 1].")
    arr = ((video.detach().float().clamp(-1, 1) + 1.0) * 127.5).round().to(torch.uint8)
    return arr.permute(1, 2, 3, 0).contiguous().cpu().numpy()
