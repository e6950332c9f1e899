"""evaluate() on a folder of model folders, results round trip, the auto-judge, and the four subcommands."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from bench.cli import main
from bench.world import WorldConfig, load_test_prompts, render, world_constants
from evaluators.errors import NamingError, UnknownMetricError
from evaluators.evaluate import TIDY_COLUMNS, evaluate
from evaluators.io import write_video
from evaluators.judge import judge, judge_values
from evaluators.judgments import read_judgments
from evaluators.naming import collect_videos, parse_video_name
from evaluators.results import read_results, write_results

METRICS = ["dynamic_degree", "temporal_flicker", "physics_plausibility"]


@pytest.fixture(scope="module")
def videos(tmp_path_factory):
    """Two models x two test prompts: 'real' renders the plausible reference, 'frozen' its first frame."""
    root = tmp_path_factory.mktemp("videos")
    config = WorldConfig()
    prompts = {p.prompt_id: p for p in load_test_prompts()}
    for pid in ("free_fall-00", "slide-01"):
        clip = render(prompts[pid].to_spec(config), config)
        write_video(root / "real" / f"{pid}-0.mp4", clip, config.fps)
        write_video(root / "frozen" / f"{pid}-0.mp4", np.repeat(clip[:1], len(clip), axis=0), config.fps)
    (root / "frozen" / "bounce-00-0.mp4").write_bytes(b"not a video")
    return root


def test_naming_protocol():
    assert parse_video_name("free_fall-03-12.mp4") == ("free_fall-03", 12)
    for bad in ("bounce.mp4", "bounce-03.avi", "bounce-03-x.mp4"):
        with pytest.raises(NamingError, match="<prompt_id>-<seed>.mp4"):
            parse_video_name(bad)


def test_evaluate_tidy_table_marks_unreadable_and_continues(videos):
    constants = world_constants(WorldConfig())
    ev = evaluate(videos, metrics=METRICS, constants=constants, progress=False)
    pv = ev.per_video
    assert list(pv.columns) == TIDY_COLUMNS
    bad = pv[pv["video"].str.endswith("bounce-00-0.mp4")]
    assert len(bad) == len(METRICS) and bad["status"].str.startswith("unreadable").all() and bad["value"].isna().all()
    agg = ev.aggregates.set_index(["model", "metric"])["value"]
    assert agg[("real", "dynamic_degree")] == 1.0 and agg[("frozen", "dynamic_degree")] == 0.0
    assert agg[("real", "physics_plausibility")] > 0.8 > agg[("frozen", "physics_plausibility")]
    assert ("real", "dynamic_degree.magnitude_mean") in agg.index
    with pytest.raises(UnknownMetricError):
        evaluate(videos, metrics=["smoothness"], progress=False)


def test_results_round_trip_and_judge(videos, tmp_path):
    ev = evaluate(videos, metrics=METRICS, constants=world_constants(WorldConfig()), progress=False)
    write_results(ev, tmp_path)
    data, back = read_results(tmp_path)
    assert data["metrics"]["dynamic_degree"]["higher_is_better"] is True
    assert data["metrics"]["dynamic_degree.threshold"]["higher_is_better"] is None
    assert data["unreadable"] and data["models"]["real"]["temporal_flicker"]["n"] == 2
    j = judge(back.per_video, "real", "frozen", metrics=["physics_plausibility", "dynamic_degree"])
    assert j["choice"].tolist() == ["a", "a"] and j["rater"].iloc[0] == "auto-judge:physics_plausibility+dynamic_degree@0.02"
    assert read_judgments(j)["winner"].tolist() == ["real", "real"]
    assert judge_values({"warp_error": 0.100}, {"warp_error": 0.101}, ["warp_error"]) == "tie"
    assert judge_values({"warp_error": 0.1}, {"warp_error": 0.2}, ["warp_error"]) == "a"


def test_collect_videos_list_and_bad_folder(videos, tmp_path):
    table = collect_videos(sorted((videos / "real").glob("*.mp4")))
    assert set(table["model"]) == {"real"} and len(table) == 2
    with pytest.raises(NamingError):
        collect_videos(tmp_path)


def test_subcommands_end_to_end(videos, tmp_path, capsys):
    out = tmp_path / "res"
    assert main(["evaluate", str(videos), "--out", str(out), "--metrics", *METRICS, "--no-progress"]) == 0
    assert json.loads((out / "results.json").read_text())["schema"] == "motive-bench/results"
    assert (out / "manifest.json").exists()
    jpath = tmp_path / "judgments.csv"
    assert main(["judge", str(out), "--model-a", "real", "--model-b", "frozen", "--out", str(jpath)]) == 0
    assert main(["tally", str(jpath), "--n-boot", "50", "--reference", "real", "--needed", "0.6", "--out", str(tmp_path / "t")]) == 0
    assert pd.read_csv(tmp_path / "t" / "pairs.csv").loc[0, "wins"] == 2
    assert main(["claim", "--win", "50", "--tie", "0", "--loss", "50", "--n", "10"]) == 0
    assert "| 5 | 0 | 5 |" in capsys.readouterr().out
    assert main(["tally", str(tmp_path / "missing.csv")]) == 2  # a named error, no traceback
    assert main(["judge", str(out), "--model-a", "real", "--model-b", "nobody", "--out", str(jpath)]) == 2
