"""Feature store: persistence, resume after a kill, disjoint workers, manifest checks, disk errors."""

from __future__ import annotations

import errno
import json
import os

import numpy as np
import pytest

import curation.store as store_mod
from curation.errors import NonFiniteError, ShapeError, StoreError, StoreMismatchError
from curation.store import FeatureStore, split_ranges

MANIFEST = {
    "projection": {"kind": "fastfood", "input_dim": 1000, "output_dim": 8, "seed": 0, "block_size": 1024,
                   "dtype": "float32", "version": 1},
    "model_hash": "abc123",
    "t_fix": 751,
    "noise_seed": 0,
    "mask": {"flow": "farneback", "zeta": 1e-6, "temporal": "max"},
}


def _feature(i: int, k: int = 8) -> np.ndarray:
    return np.arange(k, dtype=np.float32) + 100 * i


def test_rows_persist_and_reopen_read_only(tmp_path):
    with FeatureStore.create(tmp_path / "fs", 5, 8, MANIFEST) as st:
        st.write_row(2, _feature(2), clip_id="c2", grad_norm=3.5, loss=0.25, mask_coverage=0.4)
        st.mark_failed(4, "zero mask", clip_id="c4")
        assert st.pending() == [0, 1, 3]
        assert st.pending(retry_failed=True) == [0, 1, 3, 4]
    ro = FeatureStore.open(tmp_path / "fs", MANIFEST, mode="r")
    assert np.array_equal(ro.features[2], _feature(2)) and ro.done.tolist() == [False, False, True, False, False]
    rows = ro.rows()
    assert rows.loc[2, "clip_id"] == "c2" and rows.loc[2, "grad_norm"] == 3.5 and rows.loc[2, "status"] == "done"
    assert rows.loc[4, "status"] == "failed" and rows.loc[4, "reason"] == "zero mask"
    with pytest.raises(StoreError, match="read-only"):
        ro.write_row(0, _feature(0))
    meta = json.loads((tmp_path / "fs" / "manifest.json").read_text())
    assert meta["fields"]["t_fix"] == 751 and meta["n_rows"] == 5 and meta["k"] == 8


def test_killed_run_resumes_without_losing_or_repeating_rows(tmp_path):
    st = FeatureStore.create(tmp_path / "fs", 6, 8, MANIFEST)
    for i in (0, 1):
        st.write_row(i, _feature(i), clip_id=f"c{i}")
    # a kill after the feature and sidecar are written but before the done flag: row 2 must stay pending
    class KilledHere:
        def __setitem__(self, key, value):
            raise KeyboardInterrupt("killed")

    st.status = KilledHere()
    with pytest.raises(KeyboardInterrupt):
        st.write_row(2, _feature(2), clip_id="c2")
    st.close()
    del st
    assert np.array_equal(np.load(tmp_path / "fs" / "features.npy")[2], _feature(2))  # written, not flagged

    resumed = FeatureStore.open_or_create(tmp_path / "fs", 6, 8, MANIFEST)
    todo = resumed.pending()
    assert todo == [2, 3, 4, 5]  # nothing done is redone, nothing unfinished is skipped
    for i in todo:
        resumed.write_row(i, _feature(i), clip_id=f"c{i}")
    assert resumed.pending() == [] and resumed.done.all()
    assert np.array_equal(np.asarray(resumed.features), np.stack([_feature(i) for i in range(6)]))
    rows = resumed.rows()
    assert rows["clip_id"].tolist() == [f"c{i}" for i in range(6)]  # the duplicate c2 line is harmless


def test_disjoint_workers_share_one_store(tmp_path):
    FeatureStore.create(tmp_path / "fs", 10, 8, MANIFEST).close()
    ranges = split_ranges(10, 3)
    assert ranges == [(0, 3), (3, 7), (7, 10)]
    workers = [FeatureStore.open(tmp_path / "fs", MANIFEST) for _ in ranges]
    for w, (a, b) in zip(workers, ranges):  # interleaved writes from independent writers
        assert w.pending(a, b) == list(range(a, b))
    for i in range(4):
        for w, (a, b) in zip(workers, ranges):
            if a + i < b:
                w.write_row(a + i, _feature(a + i), clip_id=f"c{a + i}")
    for w in workers:
        w.close()
    merged = FeatureStore.open(tmp_path / "fs", MANIFEST, mode="r")
    assert merged.done.all() and len(list((tmp_path / "fs" / "sidecar").glob("*.jsonl"))) == 3
    assert merged.rows()["clip_id"].tolist() == [f"c{i}" for i in range(10)]
    assert (tmp_path / "fs" / "rows.csv").exists() is False
    FeatureStore.open(tmp_path / "fs", MANIFEST).write_rows_csv()
    assert (tmp_path / "fs" / "rows.csv").read_text().count("\n") == 11


@pytest.mark.parametrize("field,value", [
    ("projection", {**MANIFEST["projection"], "seed": 1}),
    ("model_hash", "def456"),
    ("t_fix", 750),
    ("noise_seed", 1),
    ("mask", {**MANIFEST["mask"], "temporal": "mean"}),
])
def test_reopen_with_a_different_setting_is_refused_naming_the_field(tmp_path, field, value):
    FeatureStore.create(tmp_path / "fs", 3, 8, MANIFEST).close()
    with pytest.raises(StoreMismatchError) as info:
        FeatureStore.open(tmp_path / "fs", {**MANIFEST, field: value})
    assert info.value.field == field and field in str(info.value)
    with pytest.raises(StoreMismatchError) as info:
        FeatureStore.open_or_create(tmp_path / "fs", 3, 8, {**MANIFEST, field: value})
    assert info.value.field == field


def test_shape_change_and_existing_store_and_missing_store(tmp_path):
    FeatureStore.create(tmp_path / "fs", 3, 8, MANIFEST).close()
    with pytest.raises(StoreMismatchError) as info:
        FeatureStore.open_or_create(tmp_path / "fs", 4, 8, MANIFEST)
    assert info.value.field == "shape"
    with pytest.raises(StoreError, match="already exists"):
        FeatureStore.create(tmp_path / "fs", 3, 8, MANIFEST)
    with pytest.raises(StoreError, match="no feature store"):
        FeatureStore.open(tmp_path / "nothing", MANIFEST)


def test_bad_rows_are_refused_and_leave_the_row_pending(tmp_path):
    st = FeatureStore.create(tmp_path / "fs", 3, 8, MANIFEST)
    with pytest.raises(NonFiniteError):
        st.write_row(0, np.full(8, np.nan))
    with pytest.raises(ShapeError, match="k=8"):
        st.write_row(0, np.zeros(7))
    with pytest.raises(ShapeError, match="outside"):
        st.write_row(3, np.zeros(8))
    assert st.pending() == [0, 1, 2]


def test_full_disk_fails_at_create_with_a_clear_error_and_no_store(tmp_path, monkeypatch):
    def full(fd, offset, length):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(store_mod.os, "posix_fallocate", full)
    with pytest.raises(StoreError, match="disk is full") as info:
        FeatureStore.create(tmp_path / "fs", 1000, 512, MANIFEST)
    assert info.value.errno == errno.ENOSPC
    assert not (tmp_path / "fs" / "manifest.json").exists()  # no half-made store to resume from


def test_read_only_location_gives_a_clear_error(tmp_path, monkeypatch):
    real_mkdir = os.mkdir

    def read_only(path, *args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(os, "mkdir", read_only)
    with pytest.raises(StoreError, match="read-only"):
        FeatureStore.create(tmp_path / "ro" / "fs", 3, 8, MANIFEST)
    monkeypatch.setattr(os, "mkdir", real_mkdir)


def test_write_failure_keeps_earlier_rows(tmp_path, monkeypatch):
    st = FeatureStore.create(tmp_path / "fs", 3, 8, MANIFEST)
    st.write_row(0, _feature(0), clip_id="c0")

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(store_mod.os, "fsync", full)
    with pytest.raises(StoreError, match="disk is full"):
        st.write_row(1, _feature(1), clip_id="c1")
    monkeypatch.undo()
    again = FeatureStore.open(tmp_path / "fs", MANIFEST, mode="r")
    assert again.pending() == [1, 2] and np.array_equal(again.features[0], _feature(0))
