"""Export of world clips a person can open and watch: one mp4 per clip plus a metadata CSV.

Layout written by :func:`export_sets` under ``out``::

    corpus/<clip_id>.mp4   queries/<clip_id>.mp4   test/<clip_id>.mp4   (plausible reference per prompt)
    metadata.csv           one row per clip: set, path, ClipSpec.to_row() fields (test rows add the prompt)
    world.json             WorldConfig, world_constants, WORLD_VERSION, counts

Videos are written at native size unless ``upscale > 1``, which enlarges every frame by an integer
factor with nearest-neighbour sampling in the exported file only (the arrays used for training are
never rescaled); the factor is recorded in ``world.json``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from bench.errors import WorldError
from bench.videoio import write_mp4_many
from bench.world.physics import world_constants
from bench.world.raster import render
from bench.world.sets import build_corpus, build_queries, load_test_prompts
from bench.world.spec import WORLD_VERSION, ClipSpec, WorldConfig

SETS = ("corpus", "queries", "test")


def upscale_frames(frames: np.ndarray, factor: int) -> np.ndarray:
    """Nearest-neighbour enlargement of ``uint8 (F, H, W, 3)`` by an integer ``factor``."""
    if factor == 1:
        return frames
    return np.repeat(np.repeat(frames, factor, axis=1), factor, axis=2)


def export_clips(
    specs: list[ClipSpec], config: WorldConfig, directory: str | Path, set_name: str,
    upscale: int = 1, progress: bool = True, extra: dict[str, dict[str, Any]] | None = None,
    chunk: int = 500,
) -> list[dict[str, Any]]:
    """Render and write ``specs`` as ``directory/<clip_id>.mp4``; returns their metadata rows in spec order.

    Clips are encoded ``chunk`` at a time in one ffmpeg process each (:func:`bench.videoio.write_mp4_many`).
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(specs), desc=f"world {set_name}", unit="clip")
    for lo in range(0, len(specs), chunk):
        part = specs[lo : lo + chunk]
        write_mp4_many(
            [directory / f"{spec.clip_id}.mp4" for spec in part],
            (upscale_frames(render(spec, config), upscale) for spec in part),
            config.fps,
            on_clip=(lambda _: bar.update(1)) if bar is not None else None,
        )
    if bar is not None:
        bar.close()
    rows = []
    for spec in specs:
        row = {"set": set_name, "path": f"{directory.name}/{spec.clip_id}.mp4", **spec.to_row()}
        row.update((extra or {}).get(spec.clip_id, {}))
        rows.append(row)
    return rows


def export_sets(
    out: str | Path, config: WorldConfig, n: int = 2000, sets: tuple[str, ...] = SETS,
    upscale: int = 1, progress: bool = True,
) -> Path:
    """Export the chosen sets under ``out``; returns the path of ``metadata.csv``."""
    import pandas as pd

    bad = [s for s in sets if s not in SETS]
    if bad:
        raise WorldError(f"unknown set(s) {bad}; expected any of {', '.join(SETS)}.")
    if not isinstance(upscale, int) or not 1 <= upscale <= 16:
        raise WorldError(f"upscale {upscale!r} must be an int in 1..16 (1 = native size, recommended).")
    out = Path(out)
    rows: list[dict[str, Any]] = []
    if "corpus" in sets:
        rows += export_clips(build_corpus(config, n=n), config, out / "corpus", "corpus", upscale, progress)
    if "queries" in sets:
        rows += export_clips(build_queries(config), config, out / "queries", "queries", upscale, progress)
    if "test" in sets:
        prompts = load_test_prompts()
        extra = {f"test-{p.prompt_id}": {"prompt_id": p.prompt_id, "prompt": p.caption} for p in prompts}
        specs = [p.to_spec(config) for p in prompts]
        rows += export_clips(specs, config, out / "test", "test", upscale, progress, extra)
    out.mkdir(parents=True, exist_ok=True)
    csv_path = out / "metadata.csv"
    pd.DataFrame(rows).to_csv(csv_path, index=False)
    info = {
        "world_version": WORLD_VERSION,
        "config": config.to_dict(),
        "upscale": upscale,
        "world_constants": world_constants(config),
        "counts": {s: sum(r["set"] == s for r in rows) for s in sets},
    }
    (out / "world.json").write_text(json.dumps(info, indent=2, sort_keys=True) + "\n")
    return csv_path
