"""The study web app through Flask's test client: tokens, votes, videos, admin status, restart, export."""

from __future__ import annotations

import json

import pytest
from study_helpers import make_study

from bench.study.app import create_app
from bench.study.export import export_study
from bench.study.plan import read_plan
from evaluators.judgments import read_judgments

MODELS = ("zeta_model", "omega_model")


@pytest.fixture()
def study(tmp_path):
    study_dir, plan, secrets = make_study(tmp_path, models=MODELS, n_repeat=1, n_identical=1)
    app = create_app(study_dir)
    yield study_dir, plan, secrets, app, app.test_client()
    app.extensions["motive_study"].store.close()


def _vote(client, token, item_id, choice, time_ms=100):
    return client.post(f"/api/r/{token}/vote", json={"item": item_id, "choice": choice, "time_ms": time_ms})


def _stored(app):
    return app.extensions["motive_study"].store.votes()


def test_unknown_or_malformed_tokens_get_403(study):
    _, _, secrets, _, client = study
    tok = secrets.raters["rater-01"]
    for bad in ("x" * 32, "short", "a" * 200, "bad%20token!!" + "a" * 20, secrets.admin):
        assert client.get(f"/r/{bad}").status_code == 403
        assert client.get(f"/api/r/{bad}/state").status_code == 403
        assert client.post(f"/api/r/{bad}/vote", json={"item": "x", "choice": "left"}).status_code == 403
    vid = client.get(f"/api/r/{tok}/state").get_json()["item"]["left"].rsplit("/", 1)[1]
    assert client.get(f"/v/{secrets.raters['rater-02']}/{vid}").status_code == 404  # another rater's video id
    assert client.get(f"/v/{'y' * 32}/{vid}").status_code == 403
    assert client.get(f"/admin/{tok}").status_code == 403
    assert client.get(f"/api/admin/{tok}/status").status_code == 403
    assert client.get(f"/admin/{secrets.admin}").status_code == 200


def test_a_vote_is_stored_once_and_serves_the_next_pair(study):
    _, _, secrets, app, client = study
    tok = secrets.raters["rater-01"]
    first = client.get(f"/api/r/{tok}/state").get_json()
    assert (first["done"], first["total"], first["finished"]) == (0, 6, False)
    r = _vote(client, tok, first["item"]["id"], "left", 1234)
    body = r.get_json()
    assert r.status_code == 200 and body["recorded"] and not body["duplicate"]
    assert body["done"] == 1 and body["item"]["id"] != first["item"]["id"]
    again = _vote(client, tok, first["item"]["id"], "right")  # a retried / double-clicked submission
    assert again.status_code == 200 and again.get_json()["duplicate"] and not again.get_json()["recorded"]
    votes = _stored(app)
    assert [(v.rater, v.item, v.choice, v.time_ms) for v in votes] == [("rater-01", 0, "left", 1234)]
    assert client.get(f"/api/r/{tok}/state").get_json()["done"] == 1


@pytest.mark.parametrize("payload, message", [
    ("not json", "JSON object"),
    ([1, 2], "JSON object"),
    ({"choice": "left"}, "expected item, choice"),
    ({"item": "ITEM", "choice": "left", "model": "zeta_model"}, "expected item, choice"),
    ({"item": "ITEM", "choice": "a"}, "not one of"),
    ({"item": "ITEM", "choice": "left", "time_ms": -5}, "time_ms"),
    ({"item": "ITEM", "choice": "left", "time_ms": "12"}, "time_ms"),
    ({"item": "ITEM", "choice": "left", "time_ms": True}, "time_ms"),
    ({"item": "nope", "choice": "left"}, "not assigned"),
    ({"item": 7, "choice": "left"}, "not assigned"),
    ({"item": "OTHER", "choice": "left"}, "not assigned"),
])
def test_malformed_or_unassigned_votes_get_400_and_store_nothing(study, payload, message):
    _, _, secrets, app, client = study
    tok = secrets.raters["rater-01"]
    mine = client.get(f"/api/r/{tok}/state").get_json()["item"]["id"]
    other = client.get(f"/api/r/{secrets.raters['rater-02']}/state").get_json()["item"]["id"]
    if isinstance(payload, dict):
        payload = {k: {"ITEM": mine, "OTHER": other}.get(v, v) if k == "item" else v for k, v in payload.items()}
        data = json.dumps(payload)
    else:
        data = payload if isinstance(payload, str) else json.dumps(payload)
    r = client.post(f"/api/r/{tok}/vote", data=data, content_type="application/json")
    assert r.status_code == 400 and message in r.get_json()["error"]
    assert _stored(app) == []


def test_a_vote_for_a_later_item_is_refused_with_409(study):
    _, _, secrets, app, client = study
    tok = secrets.raters["rater-01"]
    first = client.get(f"/api/r/{tok}/state").get_json()["item"]["id"]
    second = _vote(client, tok, first, "tie").get_json()["item"]["id"]
    ctx = app.extensions["motive_study"]
    third = ctx.raters[tok].item_ids[2]
    r = _vote(client, tok, third, "left")
    assert r.status_code == 409 and r.get_json()["item"]["id"] == second
    assert len(_stored(app)) == 1


@pytest.mark.parametrize("path", [
    "/v/{tok}/..%2F..%2Fplan.json", "/v/{tok}/../../plan.json", "/v/{tok}/%2e%2e%2fsecrets.json",
    "/v/{tok}/zeta_model%2Fbounce-01-0.mp4", "/v/{tok}/bounce-01-0.mp4", "/static/..%2Fplan.py",
    "/static/../app.py", "/v/{tok}/", "/plan.json",
])
def test_paths_outside_the_plan_get_404(study, path):
    _, _, secrets, _, client = study
    assert client.get(path.format(tok=secrets.raters["rater-01"])).status_code == 404


def test_videos_are_served_with_ranges_and_no_model_name_reaches_the_browser(study):
    study_dir, plan, secrets, _, client = study
    tok = secrets.raters["rater-01"]
    seen = [client.get(f"/r/{tok}").get_data(as_text=True)]
    state = client.get(f"/api/r/{tok}/state").get_json()
    urls = set()
    while not state["finished"]:
        seen.append(json.dumps(state))
        item = plan.raters["rater-01"][state["done"]]
        for side, model in (("left", item.left), ("right", item.right)):
            r = client.get(state["item"][side])
            assert r.status_code == 200 and r.mimetype == "video/mp4"
            assert r.data == plan.video_path(model, item.prompt, item.seed).read_bytes()
            seen.append(str(r.headers))
            urls.add(state["item"][side])
        ranged = client.get(state["item"]["left"], headers={"Range": "bytes=2-5"})
        assert ranged.status_code == 206 and len(ranged.data) == 4
        state = _vote(client, tok, state["item"]["id"], "tie").get_json()
        seen.append(json.dumps(state))
    assert len(urls) == 2 * len(plan.raters["rater-01"])  # a fresh URL for every (item, side)
    text = "\n".join(seen)
    for secret in (*MODELS, str(study_dir.parent), "bounce-01", secrets.admin, secrets.raters["rater-02"]):
        assert secret not in text


def test_votes_survive_a_restart_and_the_rater_resumes(study):
    study_dir, _, secrets, app, client = study
    tok = secrets.raters["rater-02"]
    s = client.get(f"/api/r/{tok}/state").get_json()
    s = _vote(client, tok, s["item"]["id"], "left").get_json()
    s = _vote(client, tok, s["item"]["id"], "right").get_json()
    app.extensions["motive_study"].store.close()
    app2 = create_app(study_dir)
    try:
        c2 = app2.test_client()
        resumed = c2.get(f"/api/r/{tok}/state").get_json()
        assert resumed["done"] == 2 and resumed["item"] == s["item"]
        assert [v.choice for v in _stored(app2)] == ["left", "right"]
    finally:
        app2.extensions["motive_study"].store.close()


def test_export_maps_sides_to_models_and_scores_the_attention_checks(study, tmp_path):
    study_dir, plan, secrets, app, client = study
    tok = secrets.raters["rater-01"]
    items = plan.raters["rater-01"]
    clicks = []
    state = client.get(f"/api/r/{tok}/state").get_json()
    for k, item in enumerate(items):
        if item.check == "identical":
            side = "left"  # fails: identical videos should be a tie
        elif item.check == "repeat":
            orig_side = clicks[item.of]
            side = {"left": "right", "right": "left", "tie": "tie"}[orig_side]  # same model again: passes
        else:
            side = ("left", "right", "tie")[k % 3]
        clicks.append(side)
        state = _vote(client, tok, state["item"]["id"], side, 500 + k).get_json()
    assert state["finished"]
    path, n = export_study(study_dir, tmp_path / "out.csv")
    df = read_judgments(path, models=MODELS)
    assert n == len(items) == len(df)
    for (_, row), item, side in zip(df.iterrows(), items, clicks):
        expect = "tie" if side == "tie" else ("a" if (side == "left") == (item.left == item.model_a) else "b")
        assert (row["prompt"], row["model_a"], row["model_b"], row["left"]) == (item.prompt, item.model_a, item.model_b, item.left)
        assert row["choice"] == expect and row["check"] == item.check and row["study"] == plan.study
    checks = df[df["is_check"]].set_index("check")["check_passed"]
    assert checks.to_dict() == {"identical": False, "repeat": True}
    assert df["time_ms"].astype(int).tolist() == [500 + k for k in range(len(items))]


def test_admin_status_shows_progress_failed_checks_and_tally(study):
    _, plan, secrets, _, client = study
    tok = secrets.raters["rater-01"]
    items = plan.raters["rater-01"]
    state = client.get(f"/api/r/{tok}/state").get_json()
    zeta_wins = 0
    for item in items:
        side = "right" if item.check == "identical" else ("left" if item.left == "zeta_model" else "right")
        zeta_wins += not item.check
        state = _vote(client, tok, state["item"]["id"], side).get_json()
    status = client.get(f"/api/admin/{secrets.admin}/status").get_json()
    r1, r2 = status["raters"]
    assert (r1["rater"], r1["done"], r1["total"], r1["checks_answered"], r1["checks_failed"]) == ("rater-01", 6, 6, 2, 1)
    assert r1["failed"] == [f"identical check on {next(i.prompt for i in items if i.check == 'identical')}"]
    assert (r2["done"], r2["checks_failed"]) == (0, 0)
    (t,) = status["tally"]
    a_is_zeta = plan.pairings[0][0] == "zeta_model"
    assert (t["n"], t["win"] if a_is_zeta else t["loss"], t["tie"]) == (zeta_wins, zeta_wins, 0)
    page = client.get(f"/admin/{secrets.admin}").get_data(as_text=True)
    assert f"/r/{secrets.raters['rater-02']}" in page


def test_question_is_configurable_and_escaped(tmp_path):
    study_dir, _, secrets, = make_study(tmp_path, question="Which <b>one</b> moves better?")
    app = create_app(study_dir)
    try:
        page = app.test_client().get(f"/r/{secrets.raters['rater-01']}").get_data(as_text=True)
        assert "Which &lt;b&gt;one&lt;/b&gt; moves better?" in page
        app2 = create_app(study_dir, question="Override?")
        assert app2.test_client().get(f"/api/r/{secrets.raters['rater-01']}/state").get_json()["question"] == "Override?"
        app2.extensions["motive_study"].store.close()
    finally:
        app.extensions["motive_study"].store.close()


def test_a_video_deleted_after_create_is_reported_when_serving(tmp_path):
    from bench.errors import MissingVideosError

    study_dir, plan, _ = make_study(tmp_path)
    gone = plan.video_path("omega_model", "roll-02", 0)
    gone.unlink()
    with pytest.raises(MissingVideosError, match="omega_model: .*roll-02-0.mp4"):
        create_app(study_dir)
    assert read_plan(study_dir) == plan


def test_a_study_holding_its_videos_can_be_moved(tmp_path):
    from study_helpers import make_videos

    from bench.study.create import create_study

    make_videos(tmp_path / "s" / "videos", MODELS, ("bounce-01", "roll-02"))
    _, secrets = create_study(tmp_path / "s", [tmp_path / "s" / "videos"], 1, n_repeat=0, n_identical=0)
    assert json.loads((tmp_path / "s" / "plan.json").read_text())["models"] == {m: f"videos/{m}" for m in MODELS}
    (tmp_path / "s").rename(tmp_path / "moved")
    app = create_app(tmp_path / "moved")
    try:
        client = app.test_client()
        state = client.get(f"/api/r/{secrets.raters['rater-01']}/state").get_json()
        assert client.get(state["item"]["left"]).data.startswith(b"video of ")
    finally:
        app.extensions["motive_study"].store.close()


def test_the_export_feeds_the_tally_with_check_rows_reported_apart(study, tmp_path):
    from evaluators.preference import tally

    study_dir, plan, secrets, _, client = study
    for rater, tok in secrets.raters.items():
        state = client.get(f"/api/r/{tok}/state").get_json()
        for item in plan.raters[rater]:  # zeta always wins; identical pairs are ties
            side = "tie" if item.check == "identical" else ("left" if item.left == "zeta_model" else "right")
            state = _vote(client, tok, state["item"]["id"], side).get_json()
    path, n = export_study(study_dir, tmp_path / "j.csv")
    result = tally(read_judgments(path, models=MODELS), reference="zeta_model", n_boot=50)
    (pair,) = result.pairs.to_dict("records")
    assert (pair["model"], pair["n"], pair["wins"], pair["ties"], pair["losses"]) == ("zeta_model", 8, 8, 0, 0)
    checks = result.checks.set_index("check")
    assert checks.loc["identical", "passed"] == 2 and checks.loc["repeat", "passed"] == 2
    assert checks["failed"].sum() == 0 and n == 12


def test_an_oversized_vote_is_refused_and_stores_nothing(study):
    _, _, secrets, app, client = study
    tok = secrets.raters["rater-01"]
    item = client.get(f"/api/r/{tok}/state").get_json()["item"]["id"]
    r = client.post(f"/api/r/{tok}/vote", json={"item": item, "choice": "left", "time_ms": 1, "pad": "x" * 100_000})
    assert r.status_code == 413 and "error" in r.get_json()
    assert _stored(app) == []
