"""The study plan: video folders, balance, attention checks, seeds, round trip."""

from __future__ import annotations

from collections import Counter

import pytest
from study_helpers import make_videos

from bench.errors import MissingVideosError, StudyError, UserError
from bench.study.plan import REPEAT_GAP, build_plan, read_plan, write_plan
from bench.study.sources import index_videos, resolve_model_folders

PROMPTS = ["bounce-01", "roll-02", "spin-03", "float-04", "swing-05"]


def _plan(tmp_path, models=("m_a", "m_b", "m_c"), prompts=PROMPTS, seeds=(0,), raters=4, **kw):
    make_videos(tmp_path / "v", models, prompts, seeds)
    folders = resolve_model_folders([tmp_path / "v"])
    return build_plan(index_videos(folders), folders, raters, **kw)


def test_every_rater_judges_every_prompt_for_every_pairing_once(tmp_path):
    plan = _plan(tmp_path)
    assert plan.pairings == [("m_a", "m_b"), ("m_a", "m_c"), ("m_b", "m_c")]
    for items in plan.raters.values():
        ordinary = Counter((i.prompt, i.model_a, i.model_b) for i in items if not i.check)
        assert ordinary == Counter({(p, a, b): 1 for p in PROMPTS for a, b in plan.pairings})


def test_sides_are_balanced_per_rater_and_drawn_per_judgment(tmp_path):
    plan = _plan(tmp_path, raters=6)
    layouts = set()
    for items in plan.raters.values():
        for a, b in plan.pairings:
            lefts = [i.left for i in items if not i.check and (i.model_a, i.model_b) == (a, b)]
            assert abs(lefts.count(a) - lefts.count(b)) == 1  # 5 prompts: 3 against 2
            assert set(lefts) == {a, b}
        layouts.add(tuple(i.left for i in sorted((i for i in items if not i.check), key=lambda i: (i.model_a, i.model_b, i.prompt))))
    assert len(layouts) > 1  # raters do not all see the same sides


def test_attention_checks_repeat_earlier_pairs_swapped_and_show_identical_videos(tmp_path):
    plan = _plan(tmp_path, n_repeat=3, n_identical=2)
    for items in plan.raters.values():
        assert len(items) == 15 + 3 + 2
        repeats = [(k, i) for k, i in enumerate(items) if i.check == "repeat"]
        identical = [i for i in items if i.check == "identical"]
        assert len(repeats) == 3 and len(identical) == 2
        for k, rep in repeats:
            orig = items[rep.of]
            assert orig.check == "" and k - rep.of > REPEAT_GAP
            assert (orig.prompt, orig.seed, orig.model_a, orig.model_b) == (rep.prompt, rep.seed, rep.model_a, rep.model_b)
            assert rep.left == orig.right and rep.right == orig.left
        assert len({rep.of for _, rep in repeats}) == 3
        for i in identical:
            assert i.model_a == i.model_b == i.left == i.right


def test_plan_is_reproduced_by_its_seed_and_changed_by_another(tmp_path):
    a = _plan(tmp_path, seed=7)
    b = _plan(tmp_path, seed=7)
    c = _plan(tmp_path, seed=8)
    assert a.raters == b.raters and a.fingerprint() == b.fingerprint()
    assert a.raters != c.raters and a.fingerprint() != c.fingerprint()


def test_several_seeds_per_prompt_are_spread_evenly_over_raters(tmp_path):
    plan = _plan(tmp_path, models=("m_a", "m_b"), seeds=(3, 11), raters=4, n_repeat=0, n_identical=0)
    for p in PROMPTS:
        used = Counter(next(i.seed for i in items if i.prompt == p) for items in plan.raters.values())
        assert used == Counter({3: 2, 11: 2})


def test_plan_round_trips_through_json(tmp_path):
    plan = _plan(tmp_path, question="Which one moves like the real world?")
    write_plan(plan, tmp_path / "s")
    again = read_plan(tmp_path / "s")
    assert again == plan and again.fingerprint() == plan.fingerprint()
    item = plan.raters["rater-01"][0]
    assert plan.video_path(item.left, item.prompt, item.seed).read_bytes().startswith(b"video of " + item.left.encode())


def test_missing_videos_are_listed_by_model_and_file(tmp_path):
    make_videos(tmp_path / "v", ["m_a", "m_b"], PROMPTS)
    (tmp_path / "v" / "m_b" / "roll-02-0.mp4").unlink()
    (tmp_path / "v" / "m_a" / "spin-03-0.mp4").unlink()
    (tmp_path / "v" / "m_a" / "extra-09-0.mp4").write_bytes(b"x")
    with pytest.raises(MissingVideosError) as err:
        index_videos(resolve_model_folders([tmp_path / "v"]))
    msg = str(err.value)
    assert isinstance(err.value, UserError) and "3 missing" in msg
    for line in ("m_a: spin-03-0.mp4", "m_b: roll-02-0.mp4", "m_b: extra-09-0.mp4"):
        assert line in msg


def test_badly_named_video_is_refused_with_its_path(tmp_path):
    make_videos(tmp_path / "v", ["m_a", "m_b"], PROMPTS[:2])
    (tmp_path / "v" / "m_a" / "no_seed.mp4").write_bytes(b"x")
    with pytest.raises(StudyError, match="no_seed.mp4"):
        index_videos(resolve_model_folders([tmp_path / "v"]))


def test_sources_accept_dirs_named_dirs_and_run_directories(tmp_path):
    make_videos(tmp_path / "run", ["base", "tuned"], PROMPTS[:1])
    assert set(resolve_model_folders([tmp_path / "run"])) == {"base", "tuned"}
    got = resolve_model_folders([f"old={tmp_path / 'run' / 'base'}", tmp_path / "run" / "tuned"])
    assert got == {"old": (tmp_path / "run" / "base").resolve(), "tuned": (tmp_path / "run" / "tuned").resolve()}
    with pytest.raises(StudyError, match="at least two models"):
        resolve_model_folders([tmp_path / "run" / "base"])
    with pytest.raises(StudyError, match="does not exist"):
        resolve_model_folders([tmp_path / "nope", tmp_path / "run"])
    with pytest.raises(StudyError, match="two sources give the model name 'base'"):
        resolve_model_folders([tmp_path / "run", tmp_path / "run" / "base"])


@pytest.mark.parametrize("pairing, message", [
    ("m_a-m_b", "not of the form"), ("m_a:zz", "not in the study"), ("m_a:m_a", "with itself"),
])
def test_bad_pairings_are_refused(tmp_path, pairing, message):
    with pytest.raises(StudyError, match=message):
        _plan(tmp_path, pairings=[pairing])


def test_chosen_pairings_and_rater_names(tmp_path):
    plan = _plan(tmp_path, pairings=["m_c:m_a"], raters=["ann", "bo"])
    assert plan.pairings == [("m_c", "m_a")] and list(plan.raters) == ["ann", "bo"]
    with pytest.raises(StudyError, match="given twice"):
        _plan(tmp_path, pairings=["m_c:m_a", "m_a:m_c"])
    with pytest.raises(StudyError, match="rater name"):
        _plan(tmp_path, raters=["bad name"])
    with pytest.raises(StudyError, match="attention checks"):
        _plan(tmp_path, n_repeat=16)
