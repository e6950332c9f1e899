"""The web app of a preference study (Flask): rater pages, votes, videos, and the owner's status page.

Routes (every one keyed by a token; an unknown or malformed token gets 403):

* ``GET  /r/<token>``                   the rater page (``templates/rater.html``, ``static/study.js``)
* ``GET  /api/r/<token>/state``         progress and the next pair, as opaque video URLs
* ``POST /api/r/<token>/vote``          ``{"item": id, "choice": "left"|"right"|"tie", "time_ms": int}``
* ``GET  /v/<token>/<video id>``        a video; only ids of that rater's plan exist, anything else is 404
* ``GET  /admin/<token>``, ``GET /api/admin/<token>/status``   progress, attention checks, live tally

Model names never reach the browser: item and video ids are :func:`bench.study.tokens.opaque_id`
values, different for every (rater, item, side). A vote is committed to SQLite before the answer (which
carries the next pair) is sent; a repeated vote is answered ``duplicate`` and counted once; a
malformed vote or one for an item not assigned to the rater is answered 400 and stores nothing.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask, abort, jsonify, render_template, request, send_file

from bench.errors import MissingVideosError
from bench.study.plan import StudyPlan, read_plan
from bench.study.status import study_status
from bench.study.storage import CHOICES, VoteStore
from bench.study.tokens import StudySecrets, opaque_id, read_secrets, well_formed

MAX_TIME_MS = 24 * 3600 * 1000
_VOTE_KEYS = {"item", "choice", "time_ms"}
_FIXED_MTIME = _dt.datetime(2000, 1, 1, tzinfo=_dt.timezone.utc)  # file dates could tell models apart


@dataclass
class _RaterIndex:
    name: str
    item_ids: list[str]  # plan position -> opaque item id
    position: dict[str, int]  # opaque item id -> plan position
    videos: dict[str, Path]  # opaque video id -> file
    video_ids: list[tuple[str, str]]  # plan position -> (left id, right id)


@dataclass
class StudyContext:
    """What the app serves from: the plan, its secrets, the vote store and the per-rater id tables."""

    plan: StudyPlan
    secrets: StudySecrets
    store: VoteStore
    question: str
    raters: dict[str, _RaterIndex]  # token -> index


def _index(plan: StudyPlan, secrets: StudySecrets) -> dict[str, _RaterIndex]:
    out: dict[str, _RaterIndex] = {}
    missing: list[str] = []
    for rater, items in plan.raters.items():
        ids, videos, vids = [], {}, []
        for i, item in enumerate(items):
            ids.append(opaque_id(secrets.key, "item", rater, i))
            pair = []
            for side, model in (("left", item.left), ("right", item.right)):
                vid = opaque_id(secrets.key, "video", rater, i, side)
                path = plan.video_path(model, item.prompt, item.seed)
                if not path.is_file():
                    missing.append(f"{model}: {path}")
                videos[vid] = path
                pair.append(vid)
            vids.append((pair[0], pair[1]))
        out[secrets.raters[rater]] = _RaterIndex(rater, ids, {x: i for i, x in enumerate(ids)}, videos, vids)
    if missing:
        missing = sorted(set(missing))
        raise MissingVideosError(
            f"{len(missing)} videos of the plan are missing:\n  " + "\n  ".join(missing)
            + "\nPut them back where `motive-bench study create` found them, or create the study again."
        )
    return out


def create_app(study_dir: str | Path, *, question: str | None = None, synchronous: str = "FULL") -> Flask:
    """The Flask app serving the study in ``study_dir`` (``plan.json``, ``secrets.json``, ``votes.sqlite``).

    ``question`` overrides the plan's question; ``synchronous`` is the SQLite durability mode
    (:mod:`bench.study.storage`). The vote store is ``app.extensions["motive_study"].store``;
    close it when the server stops.
    """
    study_dir = Path(study_dir)
    plan = read_plan(study_dir)
    secrets = read_secrets(study_dir)
    ctx = StudyContext(
        plan=plan,
        secrets=secrets,
        store=VoteStore(study_dir / "votes.sqlite", plan.fingerprint(), synchronous),
        question=(question or plan.question).strip(),
        raters=_index(plan, secrets),
    )
    app = Flask(__name__, static_folder="static", template_folder="templates")
    app.extensions["motive_study"] = ctx
    app.config["MAX_CONTENT_LENGTH"] = 16 * 1024  # a vote is ~100 bytes; anything larger is refused (413)
    app.json.sort_keys = False

    def rater_or_403(token: str) -> _RaterIndex:
        if not well_formed(token) or token not in ctx.raters:
            abort(403, "unknown or malformed rater token; use the link the study owner sent you")
        return ctx.raters[token]

    def admin_or_403(token: str) -> None:
        if not well_formed(token) or token != ctx.secrets.admin:
            abort(403, "unknown or malformed admin token; the admin link is printed by `motive-bench study serve`")

    def state(token: str, r: _RaterIndex) -> dict[str, Any]:
        done = ctx.store.count(r.name)
        total = len(r.item_ids)
        item = None
        if done < total:
            left, right = r.video_ids[done]
            item = {"id": r.item_ids[done], "left": f"/v/{token}/{left}", "right": f"/v/{token}/{right}"}
        return {"question": ctx.question, "done": done, "total": total, "finished": done >= total, "item": item}

    def bad_request(message: str) -> Any:
        return jsonify({"error": message}), 400

    @app.after_request
    def headers(resp):
        resp.headers["Referrer-Policy"] = "no-referrer"  # tokens are in the URLs
        resp.headers["X-Content-Type-Options"] = "nosniff"
        if request.path.startswith("/api/") or request.path.startswith(("/r/", "/admin/")):
            resp.headers["Cache-Control"] = "no-store"
        return resp

    @app.errorhandler(403)
    @app.errorhandler(404)
    @app.errorhandler(405)
    @app.errorhandler(413)
    def http_error(err):
        if request.path.startswith("/api/"):
            return jsonify({"error": err.description}), err.code
        return f"{err.code} {err.name}: {err.description}\n", err.code, {"Content-Type": "text/plain; charset=utf-8"}

    @app.get("/r/<token>")
    def rater_page(token: str):
        rater_or_403(token)
        return render_template("rater.html", question=ctx.question, token=token)

    @app.get("/api/r/<token>/state")
    def rater_state(token: str):
        return jsonify(state(token, rater_or_403(token)))

    @app.post("/api/r/<token>/vote")
    def vote(token: str):
        r = rater_or_403(token)
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            return bad_request('the vote must be a JSON object {"item": ..., "choice": "left"|"right"|"tie", "time_ms": ...}')
        extra = set(body) - _VOTE_KEYS
        if extra or "item" not in body or "choice" not in body:
            return bad_request(f"the vote has keys {sorted(body)}; expected item, choice and optionally time_ms")
        item_id, choice, time_ms = body["item"], body["choice"], body.get("time_ms")
        if choice not in CHOICES:
            return bad_request(f"choice {choice!r} is not one of {list(CHOICES)}")
        if time_ms is not None and (isinstance(time_ms, bool) or not isinstance(time_ms, int) or not 0 <= time_ms <= MAX_TIME_MS):
            return bad_request(f"time_ms {time_ms!r} is not a whole number of milliseconds in [0, {MAX_TIME_MS}]")
        if not isinstance(item_id, str) or item_id not in r.position:
            return bad_request(f"item {str(item_id)[:40]!r} is not assigned to this rater; reload the page")
        result = ctx.store.record(r.name, r.position[item_id], choice, time_ms)
        if result.status == "out_of_order":
            return jsonify({"error": "this pair is not the next one to judge; reload the page",
                            **state(token, r)}), 409
        return jsonify({"recorded": result.status == "stored", "duplicate": result.status == "duplicate",
                        **state(token, r)})

    @app.get("/v/<token>/<video_id>")
    def video(token: str, video_id: str):
        r = rater_or_403(token)
        path = r.videos.get(video_id)
        if path is None:
            abort(404, "no such video in this study")
        return send_file(path, mimetype="video/mp4", download_name=f"{video_id}.mp4", conditional=True,
                         etag=video_id, last_modified=_FIXED_MTIME, max_age=0)

    @app.get("/admin/<token>")
    def admin_page(token: str):
        admin_or_403(token)
        links = {name: f"/r/{tok}" for name, tok in ctx.secrets.raters.items()}
        return render_template("admin.html", study=ctx.plan.study, question=ctx.question, token=token, links=links)

    @app.get("/api/admin/<token>/status")
    def admin_status(token: str):
        admin_or_403(token)
        return jsonify(study_status(ctx.plan, ctx.store))

    return app
