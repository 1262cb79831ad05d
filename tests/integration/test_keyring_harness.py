"""The test harness's own keyring clean-up survives a gnome-keyring crash (CI failed at stop
28 on a daemon that died inside the clean-up after a test, not in the test)."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from tests.support.secret_service import (
    delete_items_made_since,
    item_paths,
    keyring_daemon_gone,
    kill_daemons,
    secret_service_env,
)


def _add_item(session, label: str) -> None:  # type: ignore[no-untyped-def]
    import secretstorage

    from tests.support.secret_service import _connection

    coll = secretstorage.get_default_collection(_connection(session))
    coll.create_item(label, {"harness": label}, b"secret")


def test_a_daemon_that_crashed_before_the_clean_up_is_restarted_and_the_items_deleted(
        tmp_path: Path) -> None:
    restarts: list[int] = []
    with secret_service_env(tmp_path / "kr") as session:
        try:
            before = item_paths(session)
            _add_item(session, "made-by-a-test")
            assert len(item_paths(session) - before) == 1
            pid = session.pids[-1]
            os.kill(pid, signal.SIGKILL)  # as a crash: no chance to tidy up
            os.waitpid(pid, 0)
            delete_items_made_since(session, before, on_restart=lambda: restarts.append(1))
            assert restarts == [1]
            assert not keyring_daemon_gone(session)
            # the restarted daemon is unlocked and ours: the new item is gone, the old ones kept
            assert item_paths(session) == before
            _add_item(session, "after-the-restart")
            assert len(item_paths(session) - before) == 1
        finally:
            kill_daemons(session)


def test_a_daemon_that_dies_after_the_check_is_restarted_too(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The crash comes after the clean-up looked (CI at stop 28): its first call then finds no
    daemon, or one the bus activated meanwhile, which comes up locked. The "after the check"
    is the one thing faked (the check is told the daemon lives); the crash is real."""
    from tests.support import secret_service

    restarts: list[int] = []
    with secret_service_env(tmp_path / "kr") as session:
        try:
            before = item_paths(session)
            _add_item(session, "made-by-a-test")
            pid = session.pids[-1]
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            monkeypatch.setattr(secret_service, "keyring_daemon_gone", lambda _s: False)
            delete_items_made_since(session, before, on_restart=lambda: restarts.append(1))
            assert restarts == [1]
            monkeypatch.undo()
            assert not keyring_daemon_gone(session)
            assert item_paths(session) == before
        finally:
            kill_daemons(session)


def test_the_clean_up_keeps_one_connection_for_the_run(tmp_path: Path) -> None:
    with secret_service_env(tmp_path / "kr") as session:
        try:
            before = item_paths(session)
            first = session.conn
            assert first is not None
            for i in range(3):
                _add_item(session, f"item-{i}")
                delete_items_made_since(session, before)
            assert session.conn is first
            assert item_paths(session) == before
        finally:
            kill_daemons(session)
