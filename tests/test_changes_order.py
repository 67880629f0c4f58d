"""The change sequence never moves past a change that is still committing.

On PostgreSQL an audit entry's id is taken at insert and shows at commit, so with two writers id
N+1 can show before N. The live feed must hold N+1 back until N shows (or N's transaction is
gone for good), or every open stream would skip N (the team bench once lost one event so)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from caseframe.api import Project
from caseframe.api.changes import GAP_GRACE, ChangeSource, complete_until
from caseframe.store import schema as t
from caseframe.store.queries import audit

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def test_complete_until_stops_at_a_fresh_gap_and_passes_an_old_one():
    fresh = T0 - timedelta(seconds=1)
    old = T0 - timedelta(seconds=GAP_GRACE + 1)
    assert complete_until(10, [(11, fresh), (12, fresh), (14, fresh)], T0) == 12
    assert complete_until(10, [(12, fresh)], T0) == 10  # 11 is still committing
    assert complete_until(10, [(12, old), (13, fresh), (15, fresh)], T0) == 13  # 11 rolled back
    assert complete_until(10, [], T0) == 10
    naive = (T0 - timedelta(seconds=GAP_GRACE + 1)).replace(tzinfo=None)  # as SQLite gives it
    assert complete_until(10, [(12, naive)], T0) == 12


def test_a_later_commit_does_not_hide_an_earlier_id(pg_database, tmp_path):
    project = Project.init(tmp_path / "proj", db=pg_database)
    try:
        source = ChangeSource(project.store, listen=False)
        start = source.latest()
        engine = project.store.engine
        first, second = engine.connect(), engine.connect()
        t1, t2 = first.begin(), second.begin()
        early = audit.record(first, "carl", "add", "memo", 1, None, {"text": "first"})
        late = audit.record(second, "dora", "add", "memo", 2, None, {"text": "second"})
        assert late > early
        t2.commit()  # the later id shows first
        changes, end = source.read(start)
        assert end == start and changes == []  # held back: `early` may still come
        t1.commit()
        changes, end = source.read(start)
        assert end == late and [c.event_id for c in changes] == [early, late]
        first.close()
        second.close()
    finally:
        project.close()


def test_a_rolled_back_id_holds_back_only_for_the_grace_time(pg_database, tmp_path):
    project = Project.init(tmp_path / "proj", db=pg_database)
    try:
        source = ChangeSource(project.store, listen=False)
        start = source.latest()
        engine = project.store.engine
        with engine.connect() as conn:
            t1 = conn.begin()
            audit.record(conn, "carl", "add", "memo", 1, None, {"text": "never"})
            t1.rollback()
        with engine.begin() as conn:
            kept = audit.record(conn, "dora", "add", "memo", 2, None, {"text": "kept"})
        assert source.read(start) == ([], start)  # the gap is fresh
        with engine.begin() as conn:  # the kept entry, written longer ago than the grace time
            conn.execute(
                t.audit_log.update()
                .where(t.audit_log.c.id == kept)
                .values(at=datetime.now(UTC) - timedelta(seconds=GAP_GRACE + 1))
            )
        changes, end = source.read(start)
        assert end == kept and [c.event_id for c in changes] == [kept]
    finally:
        project.close()
