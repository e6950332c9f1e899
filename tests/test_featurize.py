"""Per-clip gradient features on a toy model: streamed projection equals projecting the flat gradient,
resume skips done rows, non-finite and all-zero-mask rows are marked failed and counted."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from _toy_attributable import ToyModel
from curation.featurize import ZERO_MASK_REASON, GradientFeaturizer
from curation.methods import attribution_selection, check_query_categories, full_selection, magnitude_selection
from curation.errors import SelectionError
from curation.objective import ObjectiveConfig
from curation.projection import ProjectorSpec, make_projector
from curation.store import FeatureStore

SHAPE = (3, 9, 16, 16)


def _videos(n: int) -> dict[str, torch.Tensor]:
    gen = torch.Generator().manual_seed(3)
    return {f"c{i}": torch.rand(SHAPE, generator=gen) * 2 - 1 for i in range(n)}


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture()
def feat():
    model = ToyModel()
    d = sum(p.numel() for _, p in model.trainable_parameters())
    proj = make_projector(ProjectorSpec.create("fastfood", d, 32, seed=1))
    return GradientFeaturizer(model, proj, ObjectiveConfig(noise_seed=5))


def test_streamed_feature_equals_projected_flat_gradient(feat):
    video = _videos(1)["c0"]
    lat, emb = feat.encode(video, "a ball bounces")
    mask = np.random.default_rng(0).random(lat.shape[2:]).astype(np.float32)
    g = feat.gradient(lat, emb, mask)
    flat = feat.flat_gradient(lat, emb, mask)
    np.testing.assert_allclose(g.feature, feat.projector.project(flat).numpy(), rtol=1e-5, atol=1e-6)
    assert g.grad_norm == pytest.approx(float(flat.norm()), rel=1e-5)
    assert all(p.grad is None for _, p in feat.params)  # buffers released after each clip
    # frozen embedding gets no gradient and is not in the feature
    assert "embed.weight" not in [n for n, _ in feat.params]


def test_shared_forward_equals_separate_passes(feat):
    lat, emb = feat.encode(_videos(1)["c0"], "a ball bounces")
    mask = np.random.default_rng(1).random(lat.shape[2:]).astype(np.float32)
    pair = feat.gradients(lat, emb, [mask, None])
    np.testing.assert_allclose(pair[0].feature, feat.gradient(lat, emb, mask).feature, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(pair[1].feature, feat.gradient(lat, emb, None).feature, rtol=1e-5, atol=1e-7)


def test_mask_changes_feature_and_ones_equals_none(feat):
    lat, emb = feat.encode(_videos(1)["c0"], "a ball bounces")
    ones = feat.gradient(lat, emb, np.ones(lat.shape[2:], np.float32)).feature
    np.testing.assert_allclose(ones, feat.gradient(lat, emb, None).feature, rtol=1e-6)
    part = np.zeros(lat.shape[2:], np.float32)
    part[1] = 1.0
    cos = np.dot(ones, feat.gradient(lat, emb, part).feature) / np.linalg.norm(ones) / np.linalg.norm(
        feat.gradient(lat, emb, part).feature)
    assert cos < 0.999


def test_store_resume_failures_and_counts(feat, tmp_path):
    videos = _videos(5)
    items = [(cid, "a cube slides") for cid in videos]
    geom = (feat.model.latent_geometry.latent_shape(*SHAPE[1:]))[1:]
    masks = {cid: np.ones(geom, np.float32) for cid in videos}
    masks["c3"] = np.zeros(geom, np.float32)
    bad = {"c1"}
    real_encode = feat.encode

    def encode(video, caption):
        lat, emb = real_encode(video, caption)
        return (lat * float("nan"), emb) if video is videos["c1"] else (lat, emb)

    feat.encode = encode
    store = FeatureStore.create(tmp_path / "s", 5, 32, {"spec": feat.projector.spec.to_dict()})
    whole = FeatureStore.create(tmp_path / "w", 5, 32, {"spec": feat.projector.spec.to_dict()})
    counts = feat.featurize({"motive": store, "whole": whole}, items, videos.__getitem__,
                            {"motive": masks.__getitem__, "whole": None}, zero_mask=lambda cid: not masks[cid].any())
    assert counts["motive"] == {"done": 3, "failed_nonfinite": 1, "failed_zero_mask": 1, "skipped": 0}
    assert counts["whole"] == {"done": 4, "failed_nonfinite": 1, "failed_zero_mask": 0, "skipped": 0}
    # the mask here is all ones, so the shared forward pass gives the whole-video feature exactly
    np.testing.assert_allclose(store.features[0], whole.features[0], rtol=1e-6)
    rows = store.rows()
    assert list(rows.status) == ["done", "failed", "done", "failed", "done"]
    assert rows.reason[3] == ZERO_MASK_REASON and "non-finite" in rows.reason[1]
    assert rows.clip_id[0] == "c0" and rows.mask_coverage[0] == 1.0 and rows.grad_norm[0] > 0
    first = np.array(store.features[0])
    store.close()
    again = FeatureStore.open(tmp_path / "s", {"spec": feat.projector.spec.to_dict()})
    counts2 = feat.featurize({"m": again}, items, videos.__getitem__, {"m": masks.__getitem__})
    assert counts2["m"]["done"] == 0 and counts2["m"]["skipped"] == 5
    np.testing.assert_array_equal(again.features[0], first)


def test_attribution_selection_excludes_failed_and_downweights():
    rng = np.random.default_rng(0)
    base = rng.normal(size=8)
    q = base + 0.05 * rng.normal(size=(4, 8))
    feats = rng.normal(size=(20, 8))
    feats[:5] = base + 0.01 * rng.normal(size=(5, 8))  # rows 0..4 align with every query
    valid = np.ones(20, bool)
    valid[0] = False
    sel = attribution_selection(feats, valid, q, fraction=0.2)
    assert set(sel.selected.tolist()) >= {1, 2, 3, 4} and 0 not in sel.selected and sel.order[-1] == 0
    w = np.ones(20)
    w[1] = 0.0
    sel_w = attribution_selection(feats, valid, q, weights=w, fraction=0.2)
    assert 1 not in sel_w.selected and sel_w.params["downweighted_rows"] == 1


def test_category_with_no_queries_is_an_error():
    with pytest.raises(SelectionError, match=r"no query clip for category \['spin'\]"):
        check_query_categories(["bounce", "roll"], ["bounce", "spin", "roll"])
    with pytest.raises(SelectionError, match="spin"):
        attribution_selection(np.ones((10, 4)), np.ones(10, bool), np.ones((2, 4)),
                              query_categories=["bounce", "roll"], categories=["bounce", "spin"])


def test_magnitude_and_full():
    sel = magnitude_selection(np.arange(10.0), fraction=0.2)
    assert sel.selected.tolist() == [9, 8] and sel.rule == "motion_magnitude"
    assert full_selection(7).count == 7
