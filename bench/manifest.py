"""Run directories and per-stage ``manifest.json`` files.

Every stage writes ``<run_dir>/<stage>/manifest.json`` with the resolved config, the seeds it used,
package versions, the git revision and SHA-256 hashes of its inputs, so any artifact can be traced
to what produced it. Heavy files go under ``<run_dir>/artifacts/`` (git-ignored).
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import hashlib
import importlib.metadata
import json
import platform
import subprocess
from pathlib import Path
from typing import Any, Mapping

_PACKAGES = ("motive-bench", "torch", "diffusers", "numpy", "opencv-python-headless", "pandas", "scipy")


def sha256_file(path: str | Path, chunk: int = 1 << 20) -> str:
    """Hex SHA-256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def sha256_json(obj: Any) -> str:
    """Hex SHA-256 of an object's canonical JSON (sorted keys), for config hashes."""
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()


def asdict_omitting_defaults(obj: Any, names: tuple[str, ...]) -> dict[str, Any]:
    """``dataclasses.asdict(obj)`` without the fields ``names`` where they hold their default value.

    For config fields added after records were written: a record that leaves them at their defaults keeps
    the bytes and config hash it had before the field existed.
    """
    d = dataclasses.asdict(obj)
    defaults = {f.name: f.default for f in dataclasses.fields(obj)}
    for name in names:
        if getattr(obj, name) == defaults[name]:
            d.pop(name)
    return d


def package_versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for name in _PACKAGES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = None
    return out


def git_revision(cwd: str | Path | None = None) -> str | None:
    """The current commit (with ``-dirty`` if the tree has changes), or None outside a git checkout."""
    cwd = Path(cwd) if cwd else Path(__file__).resolve().parent
    try:
        rev = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, timeout=5, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=cwd, capture_output=True, text=True, timeout=5, check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return rev + ("-dirty" if dirty else "")


def build_manifest(
    stage: str,
    config: Mapping[str, Any],
    seeds: Mapping[str, int] | None = None,
    inputs: Mapping[str, str | Path] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A manifest dict for one stage; ``inputs`` maps a role to a file whose SHA-256 is recorded."""
    return {
        "stage": stage,
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "config": dict(config),
        "seeds": dict(seeds or {}),
        "inputs": {role: {"path": str(p), "sha256": sha256_file(p)} for role, p in (inputs or {}).items()},
        "packages": package_versions(),
        "python": platform.python_version(),
        "git_revision": git_revision(),
        **dict(extra or {}),
    }


def write_manifest(directory: str | Path, manifest: Mapping[str, Any]) -> Path:
    """Write ``manifest.json`` atomically into ``directory`` (created if needed); returns its path."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "manifest.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(manifest, indent=2, sort_keys=True, default=str) + "\n")
    tmp.replace(path)
    return path
