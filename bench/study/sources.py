"""Video folders of a preference study: which folder is which model, and which videos they share.

A model is one folder of ``<prompt_id>-<seed>.mp4`` files (``bounce-03-0.mp4`` is prompt ``bounce-03``,
seed 0). A source given on the command line is ``DIR`` (the model is named after the folder) or
``NAME=DIR``; a ``DIR`` that holds no mp4 itself but has subfolders that do is a run directory, and each
such subfolder is a model. Every model must hold the same set of (prompt, seed) videos; otherwise
:class:`~bench.errors.MissingVideosError` lists every missing file.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Mapping, Sequence

from bench.errors import MissingVideosError, StudyError

# The protocol of evaluators/naming.py: dash-separated prompt words, then the seed after the last dash.
VIDEO_NAME = re.compile(r"^(?P<prompt>[A-Za-z0-9_.]+(?:-[A-Za-z0-9_.]+)*)-(?P<seed>\d+)\.mp4$")
MODEL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]*$")

VideoKey = tuple[str, int]  # (prompt id, seed)


def _mp4s(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() == ".mp4")


def resolve_model_folders(sources: Sequence[str | Path]) -> dict[str, Path]:
    """Map model name -> absolute folder from ``DIR`` / ``NAME=DIR`` sources (see the module docstring).

    Raises :class:`StudyError` for a folder that does not exist or holds no videos, a bad or
    duplicate model name, or fewer than two models in all.
    """
    models: dict[str, Path] = {}

    def add(name: str, folder: Path, given: str) -> None:
        if not MODEL_NAME.match(name):
            raise StudyError(
                f"model name {name!r} (from {given!r}) has characters other than letters, digits and '_.+-'; "
                "give it a plain name with NAME=DIR"
            )
        if name in models:
            raise StudyError(
                f"two sources give the model name {name!r} ({models[name]} and {folder}); "
                "rename one with NAME=DIR"
            )
        models[name] = folder

    for source in sources:
        text = str(source)
        name, sep, folder_text = text.partition("=")
        folder = Path(folder_text if sep else text).expanduser().resolve()
        if not folder.is_dir():
            raise StudyError(f"video folder {str(folder)!r} (from {text!r}) does not exist; pass a folder of <prompt_id>-<seed>.mp4 files")
        if _mp4s(folder):
            add(name if sep else folder.name, folder, text)
            continue
        subs = [d for d in sorted(folder.iterdir()) if d.is_dir() and _mp4s(d)]
        if not subs:
            raise StudyError(
                f"{str(folder)!r} holds no .mp4 files and no subfolders of them; expected one folder of "
                "<prompt_id>-<seed>.mp4 files per model, or a run directory whose subfolders are models"
            )
        if sep:
            raise StudyError(f"{text!r} names a run directory of {len(subs)} models; NAME=DIR is for a single model folder")
        for d in subs:
            add(d.name, d, text)
    if len(models) < 2:
        raise StudyError(f"a preference study needs at least two models; got {sorted(models) or 'none'} from {list(map(str, sources))}")
    return models


def index_videos(models: Mapping[str, Path]) -> dict[str, dict[VideoKey, str]]:
    """Per model, (prompt, seed) -> file name in its folder; every model must hold the same keys.

    Raises :class:`StudyError` for an mp4 whose name breaks the naming protocol, and
    :class:`MissingVideosError` listing each ``model: file`` missing when the folders disagree.
    """
    table: dict[str, dict[VideoKey, str]] = {}
    bad: list[str] = []
    for name, folder in models.items():
        entries: dict[VideoKey, str] = {}
        for path in _mp4s(folder):
            m = VIDEO_NAME.match(path.name)
            if not m:
                bad.append(str(path))
                continue
            key = (m["prompt"], int(m["seed"]))
            if key in entries:
                bad.append(f"{path} (same prompt and seed as {entries[key]})")
                continue
            entries[key] = path.name
        table[name] = entries
    if bad:
        raise StudyError(
            "these videos do not follow the naming protocol <prompt_id>-<seed>.mp4 "
            "(e.g. bounce-03-0.mp4), or repeat a prompt and seed: " + "; ".join(bad) + ". Rename them."
        )
    union = set().union(*(set(v) for v in table.values()))
    missing = [
        f"{name}: {prompt}-{seed}.mp4 (expected in {models[name]})"
        for name in sorted(table)
        for prompt, seed in sorted(union - set(table[name]))
    ]
    if missing:
        raise MissingVideosError(
            f"the model folders do not hold the same videos; {len(missing)} missing:\n  "
            + "\n  ".join(missing)
            + "\nEvery model needs a video for every <prompt_id>-<seed> that any model has: add the missing "
            "files or remove the extra ones."
        )
    return table
