"""Load test of the study server: concurrent raters voting over real HTTP on 127.0.0.1.

Each rater is a thread that reads its state, then casts ``votes`` votes, each from the item the
previous answer served; every ``resend_every``-th vote is sent twice (a retried or double-clicked
submission), and the second answer must say ``duplicate``. Choices are drawn from a seeded generator
per rater. Every request has a timeout and each thread casts a fixed number of votes, so the test
stops by itself. :func:`check_stored` then compares what was cast with the store and with the export.

``python -m bench.study.loadtest --raters 20 --votes 100 --report reports/study/load_test.md`` builds a
throw-away study of placeholder video files, serves it in-process and writes the figures.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bench.study.export import judgment_rows
from bench.study.plan import StudyPlan
from bench.study.storage import CHOICES, VoteStore
from curation.seeds import numpy_rng

TIMEOUT_S = 30.0


@dataclass
class LoadResult:
    """What the raters cast (per rater, the side chosen per vote in order) and the POST latencies (s)."""

    cast: dict[str, list[str]] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    duplicates_answered: int = 0
    duplicates_sent: int = 0
    errors: list[str] = field(default_factory=list)
    wall_s: float = 0.0

    @property
    def votes(self) -> int:
        return sum(len(v) for v in self.cast.values())

    def summary(self) -> dict[str, float]:
        lat = np.asarray(self.latencies) * 1000.0
        return {
            "votes": self.votes, "requests": len(self.latencies), "wall_s": self.wall_s,
            "votes_per_s": self.votes / self.wall_s if self.wall_s else float("nan"),
            "p50_ms": float(np.percentile(lat, 50)), "p95_ms": float(np.percentile(lat, 95)),
            "max_ms": float(lat.max()),
        }


def _call(url: str, body: dict | None = None) -> tuple[int, dict]:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"},
                                 method="GET" if body is None else "POST")
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT_S) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"{}")


def run_load(base_url: str, tokens: dict[str, str], votes: int, seed: int = 0, resend_every: int = 10) -> LoadResult:
    """Run ``len(tokens)`` concurrent raters (name -> token) casting ``votes`` votes each against ``base_url``."""
    result = LoadResult(cast={r: [] for r in tokens})
    lock = threading.Lock()
    start = threading.Barrier(len(tokens))

    def rater(name: str, token: str) -> None:
        rng = numpy_rng(seed, "study-load", name)
        lat: list[float] = []
        dup_sent = dup_seen = 0
        try:
            status, state = _call(f"{base_url}/api/r/{token}/state")
            assert status == 200, (status, state)
            start.wait(timeout=TIMEOUT_S)
            for k in range(votes):
                if state["finished"]:
                    raise RuntimeError(f"{name}: plan finished after {k} of {votes} votes")
                choice = CHOICES[int(rng.integers(3))]
                body = {"item": state["item"]["id"], "choice": choice, "time_ms": int(rng.integers(500, 5000))}
                t0 = time.perf_counter()
                status, answer = _call(f"{base_url}/api/r/{token}/vote", body)
                lat.append(time.perf_counter() - t0)
                if status != 200 or not answer.get("recorded"):
                    raise RuntimeError(f"{name}: vote {k} answered {status} {answer}")
                result.cast[name].append(choice)
                if resend_every and k % resend_every == resend_every - 1:
                    dup_sent += 1
                    t0 = time.perf_counter()
                    status2, again = _call(f"{base_url}/api/r/{token}/vote", body)
                    lat.append(time.perf_counter() - t0)
                    dup_seen += int(status2 == 200 and again.get("duplicate") is True)
                state = answer
        except Exception as exc:  # reported, and fails the check, rather than lost in a thread
            with lock:
                result.errors.append(f"{name}: {exc!r}")
        with lock:
            result.latencies.extend(lat)
            result.duplicates_sent += dup_sent
            result.duplicates_answered += dup_seen

    threads = [threading.Thread(target=rater, args=(n, t), daemon=True) for n, t in tokens.items()]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=TIMEOUT_S * (2 * votes + 2))
    result.wall_s = time.perf_counter() - t0
    if any(t.is_alive() for t in threads):
        result.errors.append("some rater threads did not finish")
    return result


def check_stored(plan: StudyPlan, store: VoteStore, result: LoadResult) -> list[str]:
    """Problems found comparing the cast votes with the store and the export; empty when all match."""
    problems = list(result.errors)
    votes = store.votes()
    if len(votes) != result.votes:
        problems.append(f"{len(votes)} votes stored, {result.votes} cast")
    stored: dict[str, list[str]] = {}
    for v in votes:
        stored.setdefault(v.rater, []).append(v.choice)
    for rater, cast in result.cast.items():
        if stored.get(rater, []) != cast:
            problems.append(f"{rater}: stored sides differ from the cast ones")
    rows = judgment_rows(plan, votes)
    exported: dict[str, list[str]] = {}
    for row in rows:  # back from a/b/tie to the side clicked
        side = "tie" if row["choice"] == "tie" else (
            "left" if (row["choice"] == "a") == (row["left"] == row["model_a"]) else "right")
        exported.setdefault(str(row["rater"]), []).append(side)
    if exported != {r: c for r, c in result.cast.items() if c}:
        problems.append("the export does not equal the votes cast")
    if result.duplicates_answered != result.duplicates_sent:
        problems.append(f"{result.duplicates_sent} resent votes, {result.duplicates_answered} answered duplicate")
    return problems


def make_load_study(root: str | Path, raters: int, votes: int) -> Path:
    """A study directory under ``root`` whose raters have exactly ``votes`` items (2 models, 2+2 checks)."""
    from bench.study.create import create_study

    n_prompts = max(1, votes - 4)
    root = Path(root)
    for model in ("model_x", "model_y"):
        (root / "videos" / model).mkdir(parents=True, exist_ok=True)
        for i in range(n_prompts):
            (root / "videos" / model / f"load-{i:03d}-0.mp4").write_bytes(b"placeholder " + model.encode())
    create_study(root / "study", [root / "videos"], raters, n_repeat=2 if votes >= 6 else 0,
                 n_identical=2 if votes >= 6 else 0, study="load-test")
    return root / "study"


def _one_run(raters: int, votes: int, synchronous: str = "FULL") -> tuple[LoadResult, list[str]]:
    from bench.study.plan import read_plan
    from bench.study.serve import start_in_thread
    from bench.study.tokens import read_secrets

    with tempfile.TemporaryDirectory() as tmp:
        study_dir = make_load_study(tmp, raters, votes)
        server, thread, base = start_in_thread(study_dir, synchronous=synchronous)
        try:
            result = run_load(base, read_secrets(study_dir).raters, votes)
        finally:
            server.shutdown()
            thread.join(timeout=10)
        store = server.app.extensions["motive_study"].store
        problems = check_stored(read_plan(study_dir), store, result)
        store.close()
    return result, problems


def main(argv: list[str] | None = None) -> int:
    import datetime as dt
    import os
    import platform
    import sqlite3
    import sys

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--raters", type=int, default=20)
    parser.add_argument("--votes", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3, help="independent runs per mode, each on a fresh study")
    parser.add_argument("--synchronous", nargs="+", default=["FULL"], choices=("FULL", "NORMAL"),
                        help="SQLite durability modes to measure (the server's default is FULL)")
    parser.add_argument("--report", default=None, help="write the figures to this markdown file")
    args = parser.parse_args(argv)
    load_before = os.getloadavg()
    rows, all_ok = [], True
    for mode in args.synchronous:
        for k in range(args.repeats):
            result, problems = _one_run(args.raters, args.votes, mode)
            s = result.summary()
            ok = not problems
            all_ok &= ok
            rows.append(f"| {mode} | {k + 1} | {result.votes} | {result.duplicates_sent} / {result.duplicates_answered} | "
                        f"{s['wall_s']:.2f} | {s['votes_per_s']:.0f} | {s['p50_ms']:.1f} | {s['p95_ms']:.1f} | "
                        f"{s['max_ms']:.1f} | {'yes' if ok else 'NO: ' + '; '.join(problems)} |")
            print(rows[-1], flush=True)
    load_after = os.getloadavg()
    command = (f"python -m bench.study.loadtest --raters {args.raters} --votes {args.votes} --repeats {args.repeats} "
               f"--synchronous {' '.join(args.synchronous)}" + (f" --report {args.report}" if args.report else ""))
    text = "\n".join([
        "# Study server load test",
        "",
        f"Command: `{command}`",
        "",
        f"{args.raters} concurrent raters (threads, urllib) x {args.votes} votes each against the study server "
        "(werkzeug threaded server, Flask app, SQLite in WAL mode) on 127.0.0.1, in one process; every 10th vote "
        "is sent twice, as a retried submission, and must be answered `duplicate`. Latency is per POST /vote "
        "(commit included), measured by the client. `synchronous` is SQLite's durability mode: FULL (the "
        "server's default) fsyncs every vote, so it survives a crash of the machine; NORMAL survives a crash of "
        "the server only.",
        "",
        f"Measured {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC on {os.cpu_count()} CPU cores, "
        f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}; 1-minute load average "
        f"{load_before[0]:.1f} before and {load_after[0]:.1f} after the runs. The cores were shared with other "
        "work and the clients share the server's GIL, so these figures understate what the server does alone.",
        "",
        "| synchronous | run | votes stored | resent / answered duplicate | wall s | votes/s | p50 ms | p95 ms | max ms | stored once, export = cast |",
        "|---|---|---|---|---|---|---|---|---|---|",
        *rows,
        "",
    ])
    if args.report:
        Path(args.report).parent.mkdir(parents=True, exist_ok=True)
        Path(args.report).write_text(text)
        print(f"wrote {args.report}", file=sys.stderr)
    return 0 if all_ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
