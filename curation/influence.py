"""Cosine influence scores between projected training-clip gradients and query gradients.

The score of clip ``i`` for query ``j`` is the cosine of their projected gradients (identity
preconditioner), as in Motive. Any positive scalar on a gradient (the paper's 1/F frame scaling, a loss
weight) cancels in a cosine, so it cannot change a score or a ranking. A row that is all zeros has no
direction; its cosine is defined as 0 here.

:func:`remove_common_component` (an option, not in the paper) takes out of every unit-normalised
gradient the component shared by the whole corpus before the cosine. On the tiny model the corpus's unit
gradients have a common mean of norm about 0.25 (the same direction, cosine 0.83, with an independent
noise draw per clip, so it is not an artefact of the shared ``eps_fix``); the mean cosine of a clip over
all queries then tracks its alignment with that direction (Pearson 0.98 on seed 0), so the
vote ranks "aligned with every query" before "like its own queries" (reports/selection-study).
"""

from __future__ import annotations

from typing import Iterator

import numpy as np
import torch

from curation.errors import NonFiniteError, SelectionError, ShapeError

DEFAULT_BLOCK_ROWS = 4096
CENTRE_MODES = ("none", "mean", "project")


def _as_matrix(a: np.ndarray | torch.Tensor, name: str) -> np.ndarray:
    if isinstance(a, torch.Tensor):
        a = a.detach().cpu().numpy()
    a = np.asarray(a)
    if a.ndim != 2:
        raise ShapeError(f"{name} must be a 2-D (rows, k) array, got shape {a.shape}")
    return a


def _unit_rows(a: np.ndarray, name: str, offset: int = 0) -> np.ndarray:
    a = np.asarray(a, dtype=np.float32)
    if not np.isfinite(a).all():
        bad = int(np.nonzero(~np.isfinite(a).all(axis=1))[0][0]) + offset
        raise NonFiniteError(f"{name} row {bad} holds NaN/Inf; drop or recompute that feature before scoring")
    norms = np.linalg.norm(a, axis=1, keepdims=True)
    return a / np.maximum(norms, 1e-30)


def iter_cosine_blocks(train: np.ndarray | torch.Tensor, query: np.ndarray | torch.Tensor,
                       block_rows: int = DEFAULT_BLOCK_ROWS) -> Iterator[tuple[int, np.ndarray]]:
    """Yield ``(start, scores)`` with ``scores`` float32 ``(rows, M)`` for train rows ``start:start+rows``.

    ``train``: ``(N, k)`` (e.g. the store's memory map, read block by block); ``query``: ``(M, k)``.
    Only one block of ``block_rows x M`` scores is in memory at a time.
    """
    train = _as_matrix(train, "train")
    query = _as_matrix(query, "query")
    if query.shape[0] == 0:
        raise SelectionError("the query set is empty: give at least one query feature row")
    if train.shape[1] != query.shape[1]:
        raise ShapeError(f"train features have k={train.shape[1]} but queries have k={query.shape[1]}; "
                         f"project both with the same ProjectorSpec")
    if block_rows < 1:
        raise ValueError(f"block_rows must be >= 1, got {block_rows}")
    q = _unit_rows(query, "query").T.copy()  # (k, M)
    for start in range(0, train.shape[0], block_rows):
        t = np.asarray(train[start : start + block_rows], dtype=np.float32)
        raw = t @ q  # (rows, M); a NaN/Inf in a train row spreads to its whole row of scores
        norms = np.sqrt(np.einsum("ij,ij->i", t, t, dtype=np.float64)).astype(np.float32)
        if not (np.isfinite(raw).all() and np.isfinite(norms).all()):
            _unit_rows(t, "train", start)  # raises, naming the row
        raw /= np.maximum(norms, 1e-30)[:, None]
        yield start, raw


def cosine_scores(train: np.ndarray | torch.Tensor, query: np.ndarray | torch.Tensor,
                  block_rows: int = DEFAULT_BLOCK_ROWS) -> np.ndarray:
    """``(N, M)`` float32 cosines between every train row ``(N, k)`` and query row ``(M, k)``, computed
    in blocks of ``block_rows`` train rows (the train matrix is never normalised as a whole)."""
    train = _as_matrix(train, "train")
    out = np.empty((train.shape[0], _as_matrix(query, "query").shape[0]), dtype=np.float32)
    for start, block in iter_cosine_blocks(train, query, block_rows):
        out[start : start + block.shape[0]] = block
    return out


def remove_common_component(train: np.ndarray | torch.Tensor, query: np.ndarray | torch.Tensor,
                            mode: str = "mean") -> tuple[np.ndarray, np.ndarray, dict[str, float]]:
    """Take the corpus's common direction out of the train ``(N, k)`` and query ``(M, k)`` features.

    Rows are first scaled to unit length (a cosine ignores the scale, and a raw mean would be dominated by
    the largest gradients; with it, clips of near-zero gradient become ``-mean`` and score high). ``m`` is
    the mean of the non-zero unit train rows. ``mode``:

    * ``"mean"``: subtract ``m`` from every non-zero unit row, train and query (centring; the cosine of the
      centred rows is a Pearson-like correlation over the k coordinates);
    * ``"project"``: subtract each row's component along ``m / |m|`` (the common direction projected out);
    * ``"none"``: return the rows unchanged (float32).

    The projection being linear, centring projected features equals projecting centred gradients.
    All-zero rows stay zero (no direction; cosine 0). Returns ``(train', query', info)`` with
    ``info = {"mode", "common_norm": |m|}`` (``None`` for ``"none"``).
    """
    if mode not in CENTRE_MODES:
        raise SelectionError(f"centre mode {mode!r}; expected one of {CENTRE_MODES}")
    t = _as_matrix(train, "train").astype(np.float32)
    q = _as_matrix(query, "query").astype(np.float32)
    if t.shape[1] != q.shape[1]:
        raise ShapeError(f"train features have k={t.shape[1]} but queries have k={q.shape[1]}; "
                         f"project both with the same ProjectorSpec")
    if mode == "none":
        return t, q, {"mode": mode, "common_norm": None}
    tu, qu = _unit_rows(t, "train"), _unit_rows(q, "query")
    tz = np.linalg.norm(tu, axis=1) > 0
    qz = np.linalg.norm(qu, axis=1) > 0
    if not tz.any():
        raise SelectionError("every train feature row is zero; there is no common direction to remove")
    m = tu[tz].astype(np.float64).mean(axis=0)
    norm = float(np.linalg.norm(m))
    if mode == "mean":
        tu[tz] -= m.astype(np.float32)
        qu[qz] -= m.astype(np.float32)
    elif norm > 0:
        d = (m / norm).astype(np.float32)
        tu -= np.outer(tu @ d, d)
        qu -= np.outer(qu @ d, d)
    return tu, qu, {"mode": mode, "common_norm": norm}
