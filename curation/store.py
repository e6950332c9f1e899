"""The feature store: memory-mapped N x k float32 features, per-row status flags, sidecars, a manifest.

Layout of a store directory::

    manifest.json   {"format", "format_version", "n_rows", "k", "fields": {...the caller's manifest...}}
    features.npy    (N, k) float32, memory-mapped
    status.npy      (N,) uint8: 0 pending, 1 done, 2 failed
    sidecar/*.jsonl one append-only JSON-lines file per writer (per open store object): clip_id,
                    grad_norm, loss, mask_coverage, ... or a failure reason, for each row it wrote
    rows.csv        written by :meth:`FeatureStore.write_rows_csv` (a consolidated view of the sidecars)

Durability: :meth:`FeatureStore.write_row` writes and flushes the feature, then appends and fsyncs the
sidecar line, and only then sets and flushes the row's status. A kill at any point leaves the row either
done with its feature and sidecar on disk, or pending (it is recomputed once on resume; a duplicate sidecar
line is harmless, the last one wins). No completed row is ever lost or computed again.

Workers: independent processes may open the same store and each own a disjoint index range
(:func:`split_ranges`, :meth:`FeatureStore.pending` with ``start``/``stop``). They write disjoint rows of
the shared memory maps, and each has its own sidecar file, so no lock is needed on a local file system
(not on NFS, whose mmap coherence is not guaranteed).

Reopening with a manifest whose projection spec, model hash, t_fix, noise seed or mask config (any field
of the caller's manifest) differs raises :class:`StoreMismatchError` naming the first differing field.
"""

from __future__ import annotations

import errno
import json
import os
import uuid
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd

from curation.errors import NonFiniteError, ShapeError, StoreError, StoreMismatchError

FORMAT = "motive-feature-store"
FORMAT_VERSION = 1
PENDING, DONE, FAILED = 0, 1, 2


def _canonical(value: Any) -> Any:
    """JSON round-trip so tuples/lists and int/float keys compare as they will after reopening."""
    return json.loads(json.dumps(value, sort_keys=True, default=str))


def split_ranges(n_rows: int, n_workers: int) -> list[tuple[int, int]]:
    """``n_workers`` disjoint contiguous ``(start, stop)`` ranges covering ``0..n_rows`` (sizes differ by <= 1)."""
    if n_workers < 1:
        raise ValueError(f"n_workers must be >= 1, got {n_workers}")
    bounds = [round(i * n_rows / n_workers) for i in range(n_workers + 1)]
    return [(bounds[i], bounds[i + 1]) for i in range(n_workers)]


def _os_error(exc: OSError, action: str, path: Path) -> StoreError:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        hint = "the disk is full: free space or put the store elsewhere (--store-dir)"
    elif exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        hint = "the location is read-only: choose a writable directory, or open the store with mode='r' to read"
    else:
        hint = "check the path and permissions"
    err = StoreError(f"cannot {action} feature store at {path}: {exc.strerror or exc}; {hint}")
    err.errno = exc.errno
    return err


class FeatureStore:
    """An open feature store (see the module docstring). Build with :meth:`create`, :meth:`open` or
    :meth:`open_or_create`; ``mode`` is ``"r+"`` (read-write) or ``"r"`` (read-only, for scoring)."""

    def __init__(self, path: Path, meta: dict[str, Any], mode: str):
        self.path = Path(path)
        self.meta = meta
        self.mode = mode
        self.n_rows: int = int(meta["n_rows"])
        self.k: int = int(meta["k"])
        try:
            self.features: np.memmap = np.load(self.path / "features.npy", mmap_mode=mode)
            self.status: np.memmap = np.load(self.path / "status.npy", mmap_mode=mode)
        except OSError as exc:
            raise _os_error(exc, "open", self.path) from exc
        if self.features.shape != (self.n_rows, self.k) or self.status.shape != (self.n_rows,):
            raise StoreError(f"feature store at {self.path} is damaged: features {self.features.shape}, "
                             f"status {self.status.shape}, manifest says ({self.n_rows}, {self.k}); rebuild it")
        self._sidecar = None

    # ------------------------------------------------------------------ construction
    @classmethod
    def create(cls, path: str | Path, n_rows: int, k: int, manifest: Mapping[str, Any]) -> "FeatureStore":
        """Create an empty store of ``n_rows`` x ``k`` at the directory ``path`` (must not hold a store).

        ``manifest``: the fields a reopen must match (projection spec dict, model hash, t_fix, noise seed,
        mask config, ...). Space is reserved up front, so a full disk fails here, not mid-run.
        """
        path = Path(path)
        if n_rows < 1 or k < 1:
            raise ShapeError(f"a store needs n_rows >= 1 and k >= 1, got n_rows={n_rows}, k={k}")
        if (path / "manifest.json").exists():
            raise StoreError(f"a feature store already exists at {path}; open it (FeatureStore.open) to "
                             f"resume, or delete the directory to start over")
        meta = {"format": FORMAT, "format_version": FORMAT_VERSION, "n_rows": int(n_rows), "k": int(k),
                "fields": _canonical(dict(manifest))}
        try:
            (path / "sidecar").mkdir(parents=True, exist_ok=True)
            for name, shape, dtype in (("features.npy", (n_rows, k), np.float32), ("status.npy", (n_rows,), np.uint8)):
                arr = np.lib.format.open_memmap(path / name, mode="w+", dtype=dtype, shape=shape)
                offset = arr.offset
                del arr
                with open(path / name, "r+b") as fh:  # reserve the blocks: ENOSPC now, not SIGBUS later
                    os.posix_fallocate(fh.fileno(), 0, offset + int(np.prod(shape)) * np.dtype(dtype).itemsize)
            tmp = path / "manifest.json.tmp"
            tmp.write_text(json.dumps(meta, indent=2, sort_keys=True))
            os.replace(tmp, path / "manifest.json")  # the manifest appears last: a half-made store is no store
        except OSError as exc:
            raise _os_error(exc, "create", path) from exc
        return cls(path, meta, "r+")

    @classmethod
    def open(cls, path: str | Path, expected_manifest: Mapping[str, Any] | None = None, mode: str = "r+") -> "FeatureStore":
        """Open an existing store; with ``expected_manifest``, refuse one built differently.

        Raises :class:`StoreMismatchError` (``field`` = the first differing key, in sorted order) when a key
        of ``expected_manifest`` is missing from the store's manifest or has another value.
        """
        path = Path(path)
        if mode not in ("r", "r+"):
            raise ValueError(f"mode must be 'r' or 'r+', got {mode!r}")
        try:
            meta = json.loads((path / "manifest.json").read_text())
        except FileNotFoundError as exc:
            raise StoreError(f"no feature store at {path} (manifest.json missing); create it first") from exc
        except OSError as exc:
            raise _os_error(exc, "open", path) from exc
        if meta.get("format") != FORMAT or meta.get("format_version") != FORMAT_VERSION:
            raise StoreError(f"{path} holds format {meta.get('format')!r} v{meta.get('format_version')}, "
                             f"expected {FORMAT!r} v{FORMAT_VERSION}; rebuild the store with this version")
        if expected_manifest is not None:
            stored = meta["fields"]
            for key, want in sorted(_canonical(dict(expected_manifest)).items()):
                if key not in stored:
                    raise StoreMismatchError(f"feature store at {path} has no {key!r} in its manifest but "
                                             f"{want!r} was expected; rebuild it or use another directory", field=key)
                if stored[key] != want:
                    raise StoreMismatchError(
                        f"feature store at {path} was built with {key}={stored[key]!r}, but this run has "
                        f"{key}={want!r}; features from different settings cannot be mixed: use another store "
                        f"directory or delete this one", field=key)
        return cls(path, meta, mode)

    @classmethod
    def open_or_create(cls, path: str | Path, n_rows: int, k: int, manifest: Mapping[str, Any]) -> "FeatureStore":
        """Resume the store at ``path`` if there is one (checking ``manifest``, ``n_rows`` and ``k``), else create it."""
        if (Path(path) / "manifest.json").exists():
            store = cls.open(path, manifest)
            if (store.n_rows, store.k) != (n_rows, k):
                raise StoreMismatchError(f"feature store at {path} is {store.n_rows} x {store.k}, this run needs "
                                         f"{n_rows} x {k}; use another directory", field="shape")
            return store
        return cls.create(path, n_rows, k, manifest)

    # ------------------------------------------------------------------ state
    @property
    def manifest(self) -> dict[str, Any]:
        """The caller's manifest fields as stored."""
        return dict(self.meta["fields"])

    @property
    def done(self) -> np.ndarray:
        """``(N,)`` bool: rows whose feature is complete."""
        return np.asarray(self.status) == DONE

    def pending(self, start: int = 0, stop: int | None = None, retry_failed: bool = False) -> list[int]:
        """Row indices in ``[start, stop)`` still to compute (failed rows only with ``retry_failed``)."""
        stop = self.n_rows if stop is None else stop
        if not 0 <= start <= stop <= self.n_rows:
            raise ShapeError(f"row range [{start}, {stop}) is outside the store's 0..{self.n_rows}")
        st = np.asarray(self.status[start:stop])
        todo = (st == PENDING) | ((st == FAILED) if retry_failed else False)
        return (np.nonzero(todo)[0] + start).tolist()

    # ------------------------------------------------------------------ writing
    def _check_row(self, i: int) -> int:
        if self.mode != "r+":
            raise StoreError(f"feature store at {self.path} is open read-only; open it with mode='r+' to write")
        if not 0 <= int(i) < self.n_rows:
            raise ShapeError(f"row {i} is outside the store's 0..{self.n_rows - 1}")
        return int(i)

    def _append_sidecar(self, record: dict[str, Any]) -> None:
        if self._sidecar is None:
            name = self.path / "sidecar" / f"{os.getpid()}-{uuid.uuid4().hex[:8]}.jsonl"
            self._sidecar = open(name, "a", encoding="utf-8")
        self._sidecar.write(json.dumps(record, sort_keys=True, default=float) + "\n")
        self._sidecar.flush()
        os.fsync(self._sidecar.fileno())

    def write_row(self, i: int, feature: np.ndarray, **sidecar: Any) -> None:
        """Store row ``i``: ``feature`` float ``(k,)`` (finite) and the sidecar fields (clip_id, grad_norm,
        loss, mask_coverage, ...), then mark it done, in that order (see the module docstring)."""
        i = self._check_row(i)
        feat = np.asarray(feature, dtype=np.float32).reshape(-1)
        if feat.shape != (self.k,):
            raise ShapeError(f"feature for row {i} has {feat.size} values, the store holds k={self.k}")
        if not np.isfinite(feat).all():
            raise NonFiniteError(f"feature for row {i} holds NaN/Inf; mark the row failed instead of storing it")
        try:
            self.features[i] = feat
            self.features.flush()
            self._append_sidecar({"row": i, "status": "done", **sidecar})
            self.status[i] = DONE
            self.status.flush()
        except OSError as exc:
            raise _os_error(exc, "write", self.path) from exc

    def mark_failed(self, i: int, reason: str, **sidecar: Any) -> None:
        """Record that row ``i`` cannot be computed and why; it is skipped by :meth:`pending`."""
        i = self._check_row(i)
        try:
            self._append_sidecar({"row": i, "status": "failed", "reason": str(reason), **sidecar})
            self.status[i] = FAILED
            self.status.flush()
        except OSError as exc:
            raise _os_error(exc, "write", self.path) from exc

    def close(self) -> None:
        """Close this writer's sidecar file (the memory maps close with the object)."""
        if self._sidecar is not None:
            self._sidecar.close()
            self._sidecar = None

    def __enter__(self) -> "FeatureStore":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ reading
    def rows(self) -> pd.DataFrame:
        """One row per store index: ``row``, ``status`` (pending/done/failed) and the latest sidecar fields."""
        latest: dict[int, dict[str, Any]] = {}
        for file in sorted((self.path / "sidecar").glob("*.jsonl")):
            with open(file, encoding="utf-8") as fh:
                for line in fh:
                    if line.endswith("\n"):  # a line cut by a kill has no newline: ignore it
                        rec = json.loads(line)
                        latest[int(rec["row"])] = rec
        names = {0: "pending", 1: "done", 2: "failed"}
        status = np.asarray(self.status)
        records = []
        for i in range(self.n_rows):
            rec = {k: v for k, v in latest.get(i, {}).items() if k not in ("row", "status")}
            if status[i] == PENDING:
                rec = {}
            records.append({"row": i, "status": names[int(status[i])], **rec})
        return pd.DataFrame.from_records(records)

    def write_rows_csv(self) -> Path:
        """Write ``rows.csv`` (the consolidated sidecar) and return its path."""
        out = self.path / "rows.csv"
        try:
            self.rows().to_csv(out, index=False)
        except OSError as exc:
            raise _os_error(exc, "write", self.path) from exc
        return out
