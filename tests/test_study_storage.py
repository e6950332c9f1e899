"""The vote store: WAL mode, commit before return, idempotency under concurrency, order, plan binding."""

from __future__ import annotations

import sqlite3
import threading

import pytest

from bench.errors import StudyError
from bench.study.storage import VoteStore


def test_store_is_in_wal_mode_and_a_vote_is_visible_to_another_connection_on_return(tmp_path):
    store = VoteStore(tmp_path / "v.sqlite", "plan-1")
    assert store.record("r1", 0, "left", 900).status == "stored"
    other = sqlite3.connect(tmp_path / "v.sqlite")
    assert other.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert other.execute("SELECT rater, item, choice, time_ms FROM votes").fetchall() == [("r1", 0, "left", 900)]
    other.close()
    store.close()


def test_votes_survive_reopening_and_a_store_refuses_another_plan(tmp_path):
    store = VoteStore(tmp_path / "v.sqlite", "plan-1")
    store.record("r1", 0, "tie", None)
    store.close()
    again = VoteStore(tmp_path / "v.sqlite", "plan-1")
    assert [(v.rater, v.item, v.choice, v.time_ms) for v in again.votes()] == [("r1", 0, "tie", None)]
    again.close()
    with pytest.raises(StudyError, match="another plan"):
        VoteStore(tmp_path / "v.sqlite", "plan-2")


def test_items_are_judged_in_order_and_a_repeat_keeps_the_first_choice(tmp_path):
    store = VoteStore(tmp_path / "v.sqlite", "p")
    assert store.record("r1", 1, "left", 1).status == "out_of_order"
    assert store.record("r1", 1, "left", 1).expected_item == 0
    assert store.record("r1", 0, "right", 1).status == "stored"
    dup = store.record("r1", 0, "left", 5)
    assert (dup.status, dup.stored_choice) == ("duplicate", "right")
    assert store.record("r2", 0, "left", 1).status == "stored"  # raters are independent
    assert store.record("r1", 1, "tie", 2).status == "stored"
    assert [(v.rater, v.item, v.choice) for v in store.votes()] == [("r1", 0, "right"), ("r1", 1, "tie"), ("r2", 0, "left")]
    assert store.count("r1") == 2 and store.count("nobody") == 0
    store.close()


def test_concurrent_double_submissions_store_one_vote(tmp_path):
    store = VoteStore(tmp_path / "v.sqlite", "p")
    barrier = threading.Barrier(12)
    results = []

    def submit(k: int) -> None:
        barrier.wait()
        results.append(store.record("r1", 0, ("left", "right", "tie")[k % 3], k))

    threads = [threading.Thread(target=submit, args=(k,)) for k in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    statuses = sorted(r.status for r in results)
    assert statuses == ["duplicate"] * 11 + ["stored"]
    (vote,) = store.votes()
    assert {r.stored_choice for r in results} == {vote.choice}
    store.close()


def test_durability_mode_is_applied_and_checked(tmp_path):
    store = VoteStore(tmp_path / "v.sqlite", "p", synchronous="NORMAL")
    store.record("r1", 0, "left", 1)
    assert store._conn().execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
    store.close()
    full = VoteStore(tmp_path / "v.sqlite", "p")
    assert full._conn().execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL, the default
    full.close()
    with pytest.raises(StudyError, match="synchronous mode 'OFF'"):
        VoteStore(tmp_path / "w.sqlite", "p", synchronous="OFF")
