"""A background job's team store connection goes back to the pool when the job ends (issue 16).

The job runner's threads belong to a QThreadPool: they live on between jobs (Python sees them
as `threading._DummyThread`, always alive), so a connection kept per thread was never given
back and a long GUI session drained the store's pool (5 + 20) until reads timed out. Real
PostgreSQL server, real contexts opened inside the jobs; runs in every pass (the team store is
made here, whatever SMKI_TEST_BACKEND says)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from tests.conftest import link_team_store


@pytest.fixture
def team_root(tmp_path: Path, request: pytest.FixtureRequest) -> Path:
    server = request.getfixturevalue("postgres_server")
    root = tmp_path / "ws"
    for name in link_team_store(server, root):
        request.addfinalizer(lambda name=name: server.drop_database(name))
    return root


def test_jobs_on_pool_threads_give_their_connections_back(qtbot, team_root: Path) -> None:
    from smki_desktop.core.environment import Environment
    from smki_desktop.gui import jobs
    from smki_desktop.services.context import open_context

    ctx = open_context(Environment.TEST, team_root)  # one store, shared by every job
    try:
        store = ctx.db
        held = store.checked_out()  # type: ignore[attr-defined]  # this (GUI) thread's own
        runner = jobs.JobRunner(max_threads=4)
        # a pool thread idle for 1 ms ends and the next job gets a new one: each new thread
        # is a new `_DummyThread`, "alive" for ever, so a connection kept per thread is never
        # given back (what a long GUI session did over QThreadPool's 30 s expiry)
        runner.pool.setExpiryTimeout(1)
        new_threads: list[int] = []  # a thread-local is fresh on each new OS thread (ids recur)
        mark = threading.local()
        failures: list[BaseException] = []
        results: list[object] = []

        def read(i: int) -> int:
            if not getattr(mark, "seen", False):
                mark.seen = True
                new_threads.append(i)
            return len(ctx.audit.entries()) + i * 0

        # more jobs than the pool has connections (5 + 20): before the fix the 26th thread
        # waited 30 s for a connection and failed
        for i in range(60):
            runner.submit(read, i, on_done=results.append, on_error=failures.append,
                          name=f"read {i}")
            qtbot.waitUntil(lambda: runner.running == 0, timeout=60000)
            qtbot.wait(5)  # the idle pool thread expires
        assert failures == [] and len(results) == 60
        assert len(new_threads) > 25, f"{len(new_threads)} pool threads: the test proves nothing"
        assert store.checked_out() == held  # type: ignore[attr-defined]
        # a job that fails gives its connection back too
        def fails() -> None:
            ctx.audit.entries()
            raise ZeroDivisionError("the job failed after reading")

        runner.submit(fails, on_error=failures.append, name="fails")
        qtbot.waitUntil(lambda: runner.running == 0, timeout=10000)
        assert len(failures) == 1 and isinstance(failures[0], ZeroDivisionError)
        assert store.checked_out() == held  # type: ignore[attr-defined]
    finally:
        ctx.close()


def test_a_connection_in_a_transaction_is_not_taken_away(team_root: Path) -> None:
    """Released only between jobs: a thread inside a write transaction keeps its connection."""
    from smki_desktop.store import team_link

    link = team_link.load(team_root / "test")
    assert link is not None
    store = team_link.open_store(link, None, team_root / "test")
    try:
        store.conn().execute("SELECT 1")
        assert store.checked_out() == 1
        with store.transaction():
            assert team_link.release_thread_connections() == 0
            assert store.checked_out() == 1
        assert team_link.release_thread_connections() == 1
        assert store.checked_out() == 0
        store.conn().execute("SELECT 1")  # the thread's next use takes one again
        assert store.checked_out() == 1
    finally:
        store.close()
