"""Cosine influence: known answers, scale invariance, blocking, bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from curation.errors import NonFiniteError, SelectionError, ShapeError
from curation.influence import cosine_scores, iter_cosine_blocks


def test_known_cosines():
    train = np.array([[1, 0, 0], [0, 2, 0], [3, 3, 0], [0, 0, 0], [-1, 0, 0]], dtype=np.float32)
    query = np.array([[5, 0, 0], [0, 0, 1]], dtype=np.float32)
    s = cosine_scores(train, query)
    expected = np.array([[1, 0], [0, 0], [np.sqrt(0.5), 0], [0, 0], [-1, 0]], dtype=np.float32)
    assert s.dtype == np.float32 and s.shape == (5, 2)
    np.testing.assert_allclose(s, expected, atol=1e-6)


def test_positive_scaling_such_as_one_over_f_cannot_change_a_score():
    rng = np.random.default_rng(0)
    train, query = rng.normal(size=(50, 16)), rng.normal(size=(4, 16))
    np.testing.assert_allclose(cosine_scores(train / 81.0, query * 7.0), cosine_scores(train, query), atol=1e-6)


def test_blocking_and_input_types_do_not_change_scores():
    rng = np.random.default_rng(1)
    train, query = rng.normal(size=(103, 32)).astype(np.float32), rng.normal(size=(5, 32)).astype(np.float32)
    whole = cosine_scores(train, query, block_rows=1000)
    np.testing.assert_allclose(cosine_scores(train, query, block_rows=7), whole, atol=1e-6)
    np.testing.assert_allclose(cosine_scores(torch.from_numpy(train), torch.from_numpy(query)), whole, atol=1e-6)
    blocks = list(iter_cosine_blocks(train, query, block_rows=50))
    assert [b[0] for b in blocks] == [0, 50, 100] and max(b[1].shape[0] for b in blocks) == 50


def test_bad_input_is_named():
    with pytest.raises(SelectionError, match="empty"):
        cosine_scores(np.ones((3, 4)), np.ones((0, 4)))
    with pytest.raises(ShapeError, match="k=4"):
        cosine_scores(np.ones((3, 4)), np.ones((2, 5)))
    train = np.ones((3, 4))
    train[1, 2] = np.nan
    with pytest.raises(NonFiniteError, match="train row 1"):
        cosine_scores(train, np.ones((2, 4)))
    with pytest.raises(ShapeError):
        cosine_scores(np.ones(4), np.ones((2, 4)))


def test_remove_common_component_centres_or_projects_the_unit_mean_and_keeps_zero_rows():
    from curation.influence import remove_common_component

    rng = np.random.default_rng(2)
    common = rng.normal(size=16)
    train = rng.normal(size=(40, 16)) + 3 * common
    train[:20] *= 50.0  # scale must not matter: rows are unit-normalised first
    train[5] = 0.0
    query = rng.normal(size=(3, 16)) + 3 * common
    t, q, info = remove_common_component(train, query, "mean")
    unit = np.delete(train, 5, 0) / np.linalg.norm(np.delete(train, 5, 0), axis=1, keepdims=True)
    assert info["common_norm"] == pytest.approx(np.linalg.norm(unit.mean(0)), rel=1e-5) and info["common_norm"] > 0.8
    np.testing.assert_allclose(np.delete(t, 5, 0).mean(0), 0.0, atol=1e-5)
    assert not t[5].any()
    tp, qp, _ = remove_common_component(train, query, "project")
    d = unit.mean(0) / np.linalg.norm(unit.mean(0))
    np.testing.assert_allclose(tp @ d, 0.0, atol=1e-5)
    np.testing.assert_allclose(qp @ d, 0.0, atol=1e-5)
    t0, q0, info0 = remove_common_component(train, query, "none")
    np.testing.assert_allclose(cosine_scores(t0, q0), cosine_scores(train, query), atol=1e-6)
    assert info0["common_norm"] is None
    with pytest.raises(SelectionError, match="centre mode"):
        remove_common_component(train, query, "median")
