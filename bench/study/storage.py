"""Vote storage of a preference study: SQLite in WAL mode, one committed row per (rater, item).

Each vote is written in its own ``BEGIN IMMEDIATE`` transaction and committed (``synchronous=FULL`` by
default, so it survives a crash of the machine, not only of the server) before the server answers and
serves the next pair. ``NORMAL`` (still safe against a crash of the server, not of the machine) is about
3x faster under load; see reports/study/load_test.md. The primary key (rater, item) makes a submission idempotent: a retried or double-clicked
vote for an item already judged is answered ``duplicate`` and the first vote stands. A rater judges
items in plan order, so a vote for any item but the next unjudged one is refused (``out_of_order``):
this keeps the original of a repeat attention check judged before its repeat.

The database records which plan it belongs to (a hash of the rater item lists) and refuses to open
against another plan.
"""

from __future__ import annotations

import datetime as _dt
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path

from bench.errors import StudyError

CHOICES = ("left", "right", "tie")
SYNC_MODES = ("FULL", "NORMAL")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS votes (
    rater TEXT NOT NULL,
    item INTEGER NOT NULL,
    choice TEXT NOT NULL CHECK (choice IN ('left', 'right', 'tie')),
    time_ms INTEGER,
    judged_at TEXT NOT NULL,
    PRIMARY KEY (rater, item)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


@dataclass(frozen=True)
class Vote:
    """One stored judgment: ``choice`` is the side clicked (left/right/tie); ``item`` indexes the rater's plan."""

    rater: str
    item: int
    choice: str
    time_ms: int | None
    judged_at: str


@dataclass(frozen=True)
class RecordResult:
    """Outcome of :meth:`VoteStore.record`: ``status`` is ``stored``, ``duplicate`` or ``out_of_order``."""

    status: str
    stored_choice: str | None = None  # the choice that stands, for stored and duplicate
    expected_item: int | None = None  # the next item to judge, for out_of_order


class VoteStore:
    """Thread-safe vote store over ``path`` (one SQLite connection per thread, WAL mode)."""

    def __init__(self, path: str | Path, plan_hash: str, synchronous: str = "FULL"):
        if synchronous not in SYNC_MODES:
            raise StudyError(f"synchronous mode {synchronous!r} is not one of {list(SYNC_MODES)}")
        self.synchronous = synchronous
        self.path = Path(path)
        self._local = threading.local()
        self._lock = threading.Lock()
        self._conns: list[sqlite3.Connection] = []
        # Writers of this process queue on a lock instead of in SQLite's busy handler, whose sleeps
        # (up to 100 ms each) made the tail latency under 20 concurrent raters; other processes
        # (an export) still meet busy_timeout.
        self._write_lock = threading.Lock()
        conn = self._conn()
        conn.executescript(_SCHEMA)
        row = conn.execute("SELECT value FROM meta WHERE key = 'plan_hash'").fetchone()
        if row is None:
            conn.execute("INSERT INTO meta (key, value) VALUES ('plan_hash', ?)", (plan_hash,))
        elif row[0] != plan_hash:
            raise StudyError(
                f"{str(self.path)!r} holds votes of another plan (plan hash {row[0][:12]}…, this plan "
                f"{plan_hash[:12]}…); serve it with its own plan.json, or create the new study in a new directory"
            )

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30.0, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute(f"PRAGMA synchronous={self.synchronous}")
            conn.execute("PRAGMA busy_timeout=30000")
            self._local.conn = conn
            with self._lock:
                self._conns.append(conn)
        return conn

    def record(self, rater: str, item: int, choice: str, time_ms: int | None) -> RecordResult:
        """Store one vote unless (rater, item) is already judged or ``item`` is not the rater's next one."""
        assert choice in CHOICES, choice  # the app validates user input before this
        conn = self._conn()
        with self._write_lock:
            return self._record(conn, rater, item, choice, time_ms)

    @staticmethod
    def _record(conn: sqlite3.Connection, rater: str, item: int, choice: str, time_ms: int | None) -> RecordResult:
        conn.execute("BEGIN IMMEDIATE")
        try:
            row = conn.execute("SELECT choice FROM votes WHERE rater = ? AND item = ?", (rater, item)).fetchone()
            if row is not None:
                conn.execute("COMMIT")
                return RecordResult("duplicate", stored_choice=row[0])
            (done,) = conn.execute("SELECT COUNT(*) FROM votes WHERE rater = ?", (rater,)).fetchone()
            if item != done:
                conn.execute("COMMIT")
                return RecordResult("out_of_order", expected_item=done)
            now = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="milliseconds")
            conn.execute(
                "INSERT INTO votes (rater, item, choice, time_ms, judged_at) VALUES (?, ?, ?, ?, ?)",
                (rater, item, choice, time_ms, now),
            )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return RecordResult("stored", stored_choice=choice)

    def count(self, rater: str) -> int:
        """Number of items ``rater`` has judged (= index of their next item)."""
        (n,) = self._conn().execute("SELECT COUNT(*) FROM votes WHERE rater = ?", (rater,)).fetchone()
        return int(n)

    def votes(self, rater: str | None = None) -> list[Vote]:
        """All stored votes (of one rater if given), ordered by rater then item."""
        sql = "SELECT rater, item, choice, time_ms, judged_at FROM votes"
        args: tuple = ()
        if rater is not None:
            sql += " WHERE rater = ?"
            args = (rater,)
        rows = self._conn().execute(sql + " ORDER BY rater, item", args).fetchall()
        return [Vote(*r) for r in rows]

    def close(self) -> None:
        """Close every connection this store opened (call once no request is running)."""
        with self._lock:
            for conn in self._conns:
                conn.close()
            self._conns.clear()
        self._local = threading.local()
