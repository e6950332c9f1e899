"""``motive-bench curate`` end to end on a tiny world and a small random-weight tiny model, and the
guarantee that labels never reach the curation code."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pandas as pd
import pytest
import torch

from bench.cli import main

ROOT = Path(__file__).resolve().parents[1]


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def small_backend(tmp_path_factory):
    from bench.backends.tiny.model import TinyBackend, TinyConfig
    from bench.world.captions import vocabulary

    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("tiny")
    cfg = TinyConfig(vocabulary=tuple(vocabulary()), frames=9, height=16, width=16,
                     block_out_channels=(16, 16, 16), norm_num_groups=8,
                     attention_head_dim=8, text_width=16, text_layers=1, text_heads=2)
    TinyBackend(cfg).save(path)
    return path


def test_curate_end_to_end(small_backend, tmp_path):
    from bench.curate import CurateConfig, run_curate

    out = tmp_path / "run"
    doc = run_curate(CurateConfig(n_clips=12, seeds=(0, 1), fraction=0.25, backend_path=str(small_backend),
                                  queries_per_category=1, measure_cost=False), out)
    quality = pd.read_csv(out / "quality.csv")
    assert set(quality.method) == {"motive", "whole_video", "motion_magnitude", "random", "full"}
    assert set(quality.seed) == {0, 1}
    full = quality[(quality.method == "full") & (quality.metric == "plausible_share") & (quality.category == "all")]
    assert full.value.tolist() == [0.5, 0.5]  # the default mix is half plausible
    for seed in (0, 1):
        sel = json.loads((out / f"seed-{seed}" / "selections" / "motive" / "selection.json").read_text())
        assert sel["count"] == 3 and len(sel["selected_ids"]) == 3
        for stage in ("world", "masks", "features", "selections"):
            assert (out / f"seed-{seed}" / stage / "manifest.json").exists()
    summ = doc["per_seed"]["0"]["summaries"]
    masks = pd.read_csv(out / "seed-0" / "masks.csv")
    # every static clip has an all-zero mask and is excluded from Motive, and counted as such
    assert summ["corpus-motive"]["failed_zero_mask"] == int(masks.zero_mask.sum()) >= 1
    assert summ["corpus-whole_video"]["failed_total"] == 0
    assert (out / "quality.png").stat().st_size > 1000
    assert set(doc["verdicts"]) >= {"vs_random", "vs_motion_magnitude", "vs_whole_video", "meets_target"}

    # a second run resumes from the stores and the mask cache and gives the same selection
    again = run_curate(CurateConfig(n_clips=12, seeds=(0,), fraction=0.25, backend_path=str(small_backend),
                                    queries_per_category=1, measure_cost=False), out)
    assert again["per_seed"]["0"]["summaries"]["corpus-motive"]["skipped"] == 12
    assert again["per_seed"]["0"]["mask_summary"]["cache_hits"] == 12 + 10


def test_curate_command_line_reports_bad_options(capsys, tmp_path):
    assert main(["curate", "--fraction", "1.5", "--out", str(tmp_path / "x")]) == 2
    assert "fraction=1.5" in capsys.readouterr().err and not (tmp_path / "x").exists()


def test_labels_never_reach_curation_code():
    """Only bench/curate_quality.py may read a label; curation/ never sees ClipSpec or .label."""
    for path in sorted((ROOT / "curation").rglob("*.py")):
        tree = ast.parse(path.read_text())
        attrs = {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
        assert "label" not in attrs and "labels" not in attrs, path
    tree = ast.parse((ROOT / "bench" / "curate.py").read_text())
    reads = [n for n in ast.walk(tree) if isinstance(n, ast.Attribute) and n.attr == "labels"]
    # bench/curate.py only stores labels into SeedData (one write) and never reads them itself
    assert all(isinstance(getattr(n, "ctx", None), ast.Store) for n in reads)


def test_common_direction_hubs_win_the_plain_vote_and_centring_removes_them():
    """The mechanism of reports/selection-study on made-up features: every gradient shares a common
    direction; 'hub' clips carry more of it and little of their category's own direction. The paper's
    plain cosine + vote over all queries keeps the hubs; removing the common component keeps the clips
    that carry their own category's direction, and the choice is recorded in the selection."""
    import numpy as np

    from curation.methods import attribution_selection

    rng = np.random.default_rng(0)
    k, cats = 64, ["a", "b"]
    common, own = rng.normal(size=k), {c: rng.normal(size=k) for c in cats}
    clip_cats = [cats[i % 2] for i in range(200)]
    hub = np.arange(200) < 20  # 10% of the corpus
    feats = np.stack([(4.0 if h else 1.0) * common + (0.5 if h else 1.0) * own[c]
                      + (1.0 if h else 2.0) * rng.normal(size=k) for c, h in zip(clip_cats, hub)])
    qcats = [c for c in cats for _ in range(5)]
    queries = np.stack([common + own[c] + 0.5 * rng.normal(size=k) for c in qcats])
    valid = np.ones(200, bool)
    plain = attribution_selection(feats, valid, queries, fraction=0.1, query_categories=qcats, centre="none")
    assert hub[plain.selected].mean() >= 0.8 and plain.params["centre"] == "none"
    for centre in ("mean", "project"):
        for vote in ("majority", "within_category"):
            sel = attribution_selection(feats, valid, queries, fraction=0.1, query_categories=qcats, centre=centre,
                                        vote=vote, clip_categories=clip_cats)
            assert hub[sel.selected].mean() <= 0.1, (centre, vote)
            assert sel.params["centre"] == centre and sel.params["common_norm"] > 0.4
    assert attribution_selection(feats, valid, queries, fraction=0.1).params["centre"] == "mean"  # the default
    with pytest.raises(Exception, match="clip_categories"):
        attribution_selection(feats, valid, queries, query_categories=qcats, vote="within_category")


def test_curate_config_refuses_unknown_centre_and_vote():
    from bench.curate import CurateConfig
    from bench.errors import ConfigError

    with pytest.raises(ConfigError, match="centre"):
        CurateConfig(centre="median")
    with pytest.raises(ConfigError, match="vote"):
        CurateConfig(vote="plurality")


def test_target_verdict_is_not_missed_by_float_rounding():
    from bench.curate_quality import summarise

    rows = [{"seed": s, "method": "motive", "metric": "plausible_share", "category": "all", "value": v}
            for s, v in enumerate([58 / 60, 56 / 60, 57 / 60])]  # mean 0.95 exactly; the float sum gives 0.94999...
    _, verdicts = summarise(pd.DataFrame(rows))
    assert verdicts["meets_target"]


def test_cli_choices_are_the_library_constants():
    """The CLI lists choices literally (it imports no torch to build its parser); they must not drift."""
    from bench.cli import build_parser
    from curation.influence import CENTRE_MODES
    from curation.methods import VOTE_RULES

    import argparse

    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    curate = sub.choices["curate"]
    options = {a.dest: tuple(a.choices) for a in curate._actions if a.choices}
    assert options["vote"] == VOTE_RULES and options["centre"] == CENTRE_MODES
