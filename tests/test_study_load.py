"""Load test: concurrent raters voting over real HTTP on 127.0.0.1; every vote stored exactly once.

The default run is 20 raters x 10 votes; the full 20 x 100 of the issue is ``-m slow`` (its figures are
in reports/study/load_test.md, written by ``python -m bench.study.loadtest``).
"""

from __future__ import annotations

import pytest

from bench.study.loadtest import check_stored, make_load_study, run_load
from bench.study.plan import read_plan
from bench.study.serve import start_in_thread
from bench.study.tokens import read_secrets


def _load(tmp_path, raters: int, votes: int, resend_every: int):
    study_dir = make_load_study(tmp_path, raters, votes)
    server, thread, base = start_in_thread(study_dir)
    try:
        result = run_load(base, read_secrets(study_dir).raters, votes, resend_every=resend_every)
    finally:
        server.shutdown()
        thread.join(timeout=10)
    store = server.app.extensions["motive_study"].store
    try:
        problems = check_stored(read_plan(study_dir), store, result)
        n_stored = len(store.votes())
    finally:
        store.close()
    return result, problems, n_stored


def test_twenty_concurrent_raters_each_vote_stored_exactly_once(tmp_path):
    result, problems, n_stored = _load(tmp_path, raters=20, votes=10, resend_every=3)
    assert problems == []
    assert result.votes == n_stored == 200
    assert result.duplicates_sent == 20 * 3 == result.duplicates_answered


@pytest.mark.slow
def test_twenty_raters_times_hundred_votes(tmp_path):
    result, problems, n_stored = _load(tmp_path, raters=20, votes=100, resend_every=10)
    assert problems == []
    assert result.votes == n_stored == 2000
