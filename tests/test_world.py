"""The synthetic world's API: specs, configs, captions, the three sets, test prompts, bad input."""

from __future__ import annotations

import dataclasses

import collections
import hashlib
from importlib import resources

import numpy as np
import pytest
import torch

import bench.world.sets as sets_module
from bench.errors import WorldError
from bench.world import (
    CATEGORIES,
    LABELS,
    WORLD_VERSION,
    Appearance,
    ClipSpec,
    WorldConfig,
    build_corpus,
    build_queries,
    load_test_prompts,
    make_spec,
    prompt_text,
    render,
    render_many,
    to_tensor,
    vocabulary,
    words,
)
from bench.world.sets import generate_test_prompts, label_counts, prompts_file_text

CFG = WorldConfig()
APPEARANCE = Appearance("ball", "red", "large", "striped", "checkered", "gray")


@pytest.fixture(scope="module")
def corpus():
    return build_corpus(CFG, n=200)


def test_constants_are_the_published_names():
    assert CATEGORIES == ("bounce", "compress", "explode", "float", "free_fall", "roll", "slide", "spin",
                          "stretch", "swing")
    assert LABELS == ("plausible", "violating", "static", "camera_only")


def test_render_shape_dtype_and_determinism():
    spec = make_spec("x", "bounce", "plausible", APPEARANCE, 5, CFG)
    a, b = render(spec, CFG), render(spec, CFG)
    assert a.shape == (17, 32, 32, 3) and a.dtype == np.uint8
    np.testing.assert_array_equal(a, b)
    other = make_spec("x", "bounce", "plausible", APPEARANCE, 6, CFG)
    assert other.params != spec.params
    assert not np.array_equal(render(other, CFG), a)


def test_render_many_and_to_tensor_follow_the_backend_convention():
    specs = [make_spec(f"x{i}", c, "plausible", APPEARANCE, i, CFG) for i, c in enumerate(("roll", "spin"))]
    clips = render_many(specs, CFG)
    assert clips.shape == (2, 17, 32, 32, 3) and clips.dtype == np.uint8
    np.testing.assert_array_equal(clips[1], render(specs[1], CFG))
    t = to_tensor(clips)
    assert t.shape == (2, 3, 17, 32, 32) and t.dtype == torch.float32
    assert float(t.min()) >= -1.0 and float(t.max()) <= 1.0
    # pixel (0, 0) of frame 0, channel 0 maps by x / 127.5 - 1
    assert t[0, 0, 0, 0, 0].item() == pytest.approx(clips[0, 0, 0, 0, 0] / 127.5 - 1.0, abs=1e-6)
    corners = to_tensor(np.array([0, 255], np.uint8).reshape(1, 1, 2, 1).repeat(3, axis=-1))
    assert corners.shape == (1, 3, 1, 1, 2) and corners[0, :, 0, 0].tolist() == [[-1.0, 1.0]] * 3
    with pytest.raises(WorldError, match="uint8"):
        to_tensor(np.zeros((2, 17, 32, 32, 3), np.float32))


def test_other_sizes_and_frame_counts_render():
    cfg = WorldConfig(frames=9, height=48, width=64)
    spec = make_spec("x", "swing", "violating", APPEARANCE, 1, cfg)
    assert render(spec, cfg).shape == (9, 48, 64, 3)


@pytest.mark.parametrize("frames", [16, 18, 1, 0])
def test_frame_count_must_be_4n_plus_1(frames):
    with pytest.raises(WorldError, match="4n\\+1"):
        WorldConfig(frames=frames)


def test_unknown_category_and_label_list_the_valid_ones():
    with pytest.raises(WorldError) as err:
        make_spec("x", "levitate", "plausible", APPEARANCE, 0, CFG)
    assert "levitate" in str(err.value) and all(c in str(err.value) for c in CATEGORIES)
    with pytest.raises(WorldError) as err:
        ClipSpec("x", "bounce", "weird", APPEARANCE, 0)
    assert "weird" in str(err.value) and all(lab in str(err.value) for lab in LABELS)
    with pytest.raises(WorldError, match="mauve"):
        Appearance("ball", "mauve", "large", "plain", "plain", "gray")
    with pytest.raises(WorldError, match="rotation needs a texture"):
        make_spec("x", "roll", "plausible", Appearance("box", "red", "large", "plain", "plain", "gray"), 0, CFG)


def test_label_mix_is_validated_and_rounded_to_n():
    assert label_counts(10, {"plausible": 0.5, "violating": 0.25, "static": 0.125, "camera_only": 0.125}) == {
        "plausible": 5, "violating": 3, "static": 1, "camera_only": 1}
    with pytest.raises(WorldError, match="unknown label"):
        build_corpus(CFG, n=10, mix={"plausible": 0.5, "cartoon": 0.5})
    with pytest.raises(WorldError, match="summing to 1"):
        build_corpus(CFG, n=10, mix={"plausible": 0.5})


def test_corpus_mix_is_balanced_over_categories(corpus):
    labels = collections.Counter(s.label for s in corpus)
    assert labels == {"plausible": 100, "violating": 50, "static": 25, "camera_only": 25}
    for label in LABELS:
        per_cat = collections.Counter(s.category for s in corpus if s.label == label)
        assert max(per_cat.values()) - min(per_cat.values()) <= 1 and len(per_cat) == 10
    assert [s.clip_id for s in corpus[:3]] == ["corpus-00000", "corpus-00001", "corpus-00002"]
    assert all(s.version == WORLD_VERSION for s in corpus)
    assert build_corpus(CFG, n=200) == corpus  # fixed by seed
    assert build_corpus(WorldConfig(seed=1), n=200) != corpus


def test_three_sets_are_disjoint(corpus):
    queries, prompts = build_queries(CFG), load_test_prompts()
    assert len(queries) == 50 and {q.label for q in queries} == {"plausible"}
    assert collections.Counter(q.category for q in queries) == {c: 5 for c in CATEGORIES}
    assert len(prompts) == 50 and collections.Counter(p.category for p in prompts) == {c: 5 for c in CATEGORIES}
    query_keys = {q.appearance.key() for q in queries}
    prompt_keys = {p.appearance.key() for p in prompts}
    assert not query_keys & prompt_keys
    corpus_pairs = {(s.category, s.appearance.key()) for s in corpus}
    assert not corpus_pairs & {(q.category, q.appearance.key()) for q in queries}
    assert not corpus_pairs & {(p.category, p.appearance.key()) for p in prompts}
    ids = [s.clip_id for s in corpus] + [q.clip_id for q in queries] + [p.prompt_id for p in prompts]
    seeds = [s.seed for s in corpus] + [q.seed for q in queries] + [p.seed for p in prompts]
    assert len(set(ids)) == len(ids) and len(set(seeds)) == len(seeds)


def test_test_prompts_file_has_the_pinned_hash_and_reproduces_from_its_recipe():
    raw = resources.files("bench.world.data").joinpath("test_prompts.json").read_bytes()
    assert hashlib.sha256(raw).hexdigest() == sets_module.TEST_PROMPTS_SHA256
    assert prompts_file_text(generate_test_prompts()).encode() == raw
    prompts = load_test_prompts()
    assert prompts[0].prompt_id == "bounce-00" and prompts[-1].prompt_id == "swing-04"
    assert all(p.appearance.background == "plain" for p in prompts)
    assert prompts[0].caption.endswith(", each bounce lower than the last")
    assert render(prompts[0].to_spec(CFG), CFG).shape == (17, 32, 32, 3)


def test_a_changed_test_prompt_file_is_refused(monkeypatch):
    monkeypatch.setattr(sets_module, "TEST_PROMPTS_SHA256", "0" * 64)
    with pytest.raises(WorldError, match="pinned"):
        load_test_prompts()


def test_captions_use_one_template_and_ignore_the_label():
    captions = {make_spec("x", "bounce", lab, APPEARANCE, 3, CFG).caption for lab in LABELS}
    assert captions == {"a large red striped ball bounces in the middle on a checkered gray background"}
    plain = Appearance("box", "blue", "small", "plain", "plain", "black")
    assert make_spec("x", "slide", "static", plain, 0, CFG).caption == "a small blue box slides at the left on a plain black background"


def test_the_caption_names_the_fifth_of_the_frame_where_the_object_starts(corpus):
    from bench.world.captions import PLACES, caption, start_place
    from bench.world.motion import motion

    assert [start_place(x) for x in (0.0, 0.19, 0.21, 0.5, 0.79, 0.81, 1.0)] == [
        PLACES[0], PLACES[0], PLACES[1], PLACES[2], PLACES[3], PLACES[4], PLACES[4]]
    assert start_place(1.0, aspect=2.0) == "in the middle"
    for spec in corpus[:200]:  # the place is where the rendered object's centre is in frame 0, on screen
        m = motion(spec, CFG.frames, CFG.aspect)
        x = (m.cx[0] - m.cam[0, 0]) / CFG.aspect
        assert spec.caption.split(" on a ")[0].endswith(PLACES[min(4, int(5 * x))])
    used = {s.params["place"] for s in corpus}
    assert used == set(PLACES)
    with pytest.raises(WorldError, match="start place"):
        caption("roll", APPEARANCE, "upstairs")
    with pytest.raises(WorldError, match="make_spec"):
        dataclasses.replace(corpus[0], params={}).caption


def test_without_place_drops_exactly_the_start_place_phrase(corpus):
    from bench.world.captions import PLACES, without_place

    for spec in corpus[:100]:
        place = next(p for p in sorted(PLACES, key=len, reverse=True) if f" {p} " in spec.caption)
        assert without_place(spec.caption) == spec.caption.replace(f" {place} ", " ")
        assert not any(f" {p} " in without_place(spec.caption) for p in PLACES)
    # "at the far left" is taken out whole, not as "at the" + "far left" leftovers
    assert without_place("a red ball rolls at the far left on a plain gray background") == "a red ball rolls on a plain gray background"
    assert without_place("a red ball rolls on a plain gray background") == "a red ball rolls on a plain gray background"
    assert without_place("") == ""


def test_vocabulary_covers_every_caption_and_prompt(corpus):
    vocab = set(vocabulary())
    assert len(vocab) < 100 and vocabulary() == sorted(vocab)
    texts = [s.caption for s in corpus] + [q.caption for q in build_queries(CFG)]
    texts += [p.caption for p in load_test_prompts()]
    assert {w for t in texts for w in words(t)} <= vocab
    assert "free_fall" not in vocab and "falls" in vocab


def test_to_row_is_flat_and_records_version_and_params():
    row = make_spec("corpus-00001", "slide", "violating", Appearance("box", "green", "small", "spotted", "plain", "brown"),
                    11, CFG).to_row()
    assert row["clip_id"] == "corpus-00001" and row["label"] == "violating" and row["world_version"] == WORLD_VERSION
    assert '"variant"' in row["params"] and row["seed"] == 11
    assert all(isinstance(v, (str, int, float)) for v in row.values())


def test_validation_prompts_are_plain_captioned_like_test_prompts_and_never_a_test_prompt():
    from bench.world import validation_prompts

    val, test = validation_prompts(), load_test_prompts()
    assert 40 <= len(val) <= 50 and len({p.prompt_id for p in val}) == len(val)
    assert not {p.appearance.key() for p in val} & {p.appearance.key() for p in test}
    assert {p.appearance.background for p in val} == {"plain"}
    vocab = set(vocabulary())
    for p in val:
        spec = p.to_spec(CFG)  # the place in the caption is where its reference clip starts
        assert p.caption == prompt_text(p.category, p.appearance, spec.params["place"])
        assert set(words(p.caption)) <= vocab
