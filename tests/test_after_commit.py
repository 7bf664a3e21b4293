"""`db.after_commit`: a callback (an enqueue) runs once the outermost transaction commits,
and never for work that rolled back.  SQLAlchemy reports a released savepoint as a commit
and a savepoint's rollback as a rollback; neither may be taken for the real thing."""
from __future__ import annotations

import pytest
from sqlalchemy import text

from foundation import db


@pytest.fixture
def ran(app) -> list[str]:
    return []


def _savepoint(s, *, fail: bool) -> None:
    try:
        with s.begin_nested():
            s.execute(text("SELECT 1"))
            if fail:
                raise RuntimeError("the savepoint's work fails")
    except RuntimeError:
        pass


def test_a_released_savepoint_does_not_run_the_callbacks_before_the_commit(ran):
    with pytest.raises(RuntimeError), db.unit_of_work() as s:
        db.after_commit(s, lambda: ran.append("enqueued"))
        _savepoint(s, fail=False)
        assert ran == []
        raise RuntimeError("the request fails after the savepoint")
    assert ran == []


def test_a_savepoint_rolled_back_keeps_the_callbacks_registered_before_it(ran):
    with db.unit_of_work() as s:
        db.after_commit(s, lambda: ran.append("before"))
        _savepoint(s, fail=True)
        db.after_commit(s, lambda: ran.append("after"))
    assert ran == ["before", "after"]


def test_a_callback_registered_inside_a_rolled_back_savepoint_never_runs(ran):
    with db.unit_of_work() as s:
        try:
            with s.begin_nested():
                db.after_commit(s, lambda: ran.append("inside"))
                raise RuntimeError("the savepoint's work fails")
        except RuntimeError:
            pass
        db.after_commit(s, lambda: ran.append("outside"))
    assert ran == ["outside"]


def test_a_failing_callback_neither_fails_the_commit_nor_stops_the_others(ran):
    def broken() -> None:
        raise ConnectionError("Redis is down")

    with db.unit_of_work() as s:
        db.after_commit(s, broken)
        db.after_commit(s, lambda: ran.append("still runs"))
    assert ran == ["still runs"]
