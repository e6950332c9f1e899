"""The video naming protocol ``<prompt_id>-<seed>.mp4``, one folder per model.

``prompt_id`` may itself contain dashes (``bounce-03``); the seed is the trailing run of digits after
the last dash. :func:`collect_videos` turns a folder (or a list of files) into a table of videos.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Iterable

import pandas as pd

from evaluators.errors import NamingError

PATTERN = re.compile(r"^(?P<prompt>[A-Za-z0-9_.]+(?:-[A-Za-z0-9_.]+)*)-(?P<seed>\d+)\.mp4$")
VIDEO_SUFFIXES = (".mp4",)


def parse_video_name(path: str | Path) -> tuple[str, int]:
    """``(prompt_id, seed)`` from a file name like ``bounce-03-7.mp4``; :class:`NamingError` otherwise."""
    name = Path(path).name
    m = PATTERN.match(name)
    if not m:
        raise NamingError(
            f"video file {name!r} does not follow the naming protocol '<prompt_id>-<seed>.mp4' "
            "(e.g. 'bounce-03-0.mp4': prompt 'bounce-03', seed 0). Rename it, one folder per model."
        )
    return m.group("prompt"), int(m.group("seed"))


def collect_videos(source: str | Path | Iterable[str | Path], model: str | None = None) -> pd.DataFrame:
    """A table ``(path, model, prompt, seed)`` of the videos in ``source``.

    ``source`` is a folder of ``.mp4`` files (the model is the folder's name unless ``model`` is given),
    a folder of model folders (one model per sub-folder), or a list of files (the model is each file's
    parent folder name unless given). Every name is checked against the protocol.
    """
    if isinstance(source, (str, Path)) and Path(source).is_dir():
        root = Path(source)
        files = sorted(p for p in root.iterdir() if p.suffix in VIDEO_SUFFIXES)
        subdirs = sorted(p for p in root.iterdir() if p.is_dir() and any(q.suffix in VIDEO_SUFFIXES for q in p.iterdir()))
        if files:
            paths = [(p, model or root.name) for p in files]
        elif subdirs:
            paths = [(p, d.name) for d in subdirs for p in sorted(d.iterdir()) if p.suffix in VIDEO_SUFFIXES]
        else:
            raise NamingError(f"folder {str(root)!r} holds no .mp4 video and no model folder of videos; "
                              "expected <model>/<prompt_id>-<seed>.mp4 files.")
    elif isinstance(source, (str, Path)):
        raise NamingError(f"{str(source)!r} is not a folder; pass a folder of videos or a list of video files.")
    else:
        paths = [(Path(p), model or Path(p).parent.name) for p in source]
    rows = []
    for path, mdl in paths:
        prompt, seed = parse_video_name(path)
        rows.append({"path": str(path), "model": mdl, "prompt": prompt, "seed": seed})
    return pd.DataFrame(rows, columns=["path", "model", "prompt", "seed"])
