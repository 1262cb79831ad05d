"""Who the officer at a workstation is stays on that workstation (issue 16): the officer profile
and its link to the register entry live in the workstation's own SQLite database, while the
register itself is the store's. Two workstations on one team store each have their own "me";
a profile kept in the shared store by an earlier version is taken back by the workstation
whose signed record set it, and by no other."""

from __future__ import annotations

from pathlib import Path

import pytest

from smki_desktop.core.environment import Environment
from smki_desktop.core.party import OfficerProfile
from smki_desktop.core.party import OfficerRole as ProfileRole
from smki_desktop.services import party as party_service
from smki_desktop.services.context import open_context
from smki_desktop.store.repos import settings as settings_repo
from tests.integration.test_team_workstations import link
from tests.support.postgres import PostgresServer


def _store_profiles(server: PostgresServer, dbname: str) -> int:
    with server.admin(dbname) as c:
        row = c.execute("SELECT COUNT(*) FROM officer_profile").fetchone()
    assert row is not None
    return int(str(row[0]))


@pytest.mark.both_backends
def test_the_officer_profile_is_kept_in_the_workstations_own_database(  # type: ignore[no-untyped-def]
        ctx, backend: str, data_root: Path) -> None:
    me = OfficerProfile("Alice Aro", ProfileRole.ARO, "alice@example.com", "OFF-1")
    party_service.set_officer(ctx, me)
    assert ctx.officer() == me
    local = ctx.local_db()
    assert local is not None and local.path == data_root / "test" / "smki.sqlite3"
    assert settings_repo.profile(local, "officer") == me.to_dict()
    if backend == "postgres":  # nothing of it in the shared store
        assert ctx.local_db() is not ctx.db
        assert ctx.db.conn().execute("SELECT COUNT(*) AS n FROM officer_profile") \
            .fetchone()["n"] == 0
    again = open_context(Environment.TEST, data_root)
    try:
        assert again.officer() == me
        assert again.audit.entries(1)[0].actor == "Alice Aro (ARO)"  # the record's actor
    finally:
        again.close()


def test_two_workstations_on_one_team_store_each_have_their_own_me(
        tmp_path: Path, postgres_server: PostgresServer) -> None:
    name = postgres_server.create_database()
    roots = [tmp_path / "ws1", tmp_path / "ws2"]
    try:
        link(roots[0], postgres_server, name, initialise=True)
        link(roots[1], postgres_server, name, initialise=False)
        one, two = (open_context(Environment.TEST, r) for r in roots)
        try:
            alice = OfficerProfile("Alice Aro", ProfileRole.ARO, "", "OFF-1")
            bob = OfficerProfile("Bob Sro", ProfileRole.SRO, "", "OFF-2")
            party_service.set_officer(one, alice)
            assert two.officer() is None  # Alice is not the officer at the other one
            party_service.set_officer(two, bob)
            assert (one.officer(), two.officer()) == (alice, bob)
            actors = {e.actor for e in one.audit.entries() if e.action == "profile.set"}
            assert actors == {"Alice Aro (ARO)", "Bob Sro (SRO)"}  # one shared log
            assert _store_profiles(postgres_server, name) == 0
        finally:
            one.close()
            two.close()
        # opened again, each is still who it was
        for root, who in zip(roots, ("Alice Aro", "Bob Sro"), strict=True):
            c = open_context(Environment.TEST, root)
            try:
                got = c.officer()
                assert got is not None and got.name == who
            finally:
                c.close()
    finally:
        postgres_server.drop_database(name)


def test_a_profile_left_in_the_shared_store_goes_back_to_the_workstation_that_set_it(
        tmp_path: Path, postgres_server: PostgresServer) -> None:
    """The earlier version kept a team workstation's profile in the store's one row (the last
    one set won): the workstation whose own signed `profile.set` record holds it takes it into
    its own database; another workstation does not."""
    name = postgres_server.create_database()
    roots = [tmp_path / "ws1", tmp_path / "ws2"]
    try:
        link(roots[0], postgres_server, name, initialise=True)
        link(roots[1], postgres_server, name, initialise=False)
        old = OfficerProfile("Olga Old", ProfileRole.SRO, "olga@example.com", "OFF-9")
        one = open_context(Environment.TEST, roots[0])
        try:  # what the earlier version did: the shared row, and its record
            settings_repo.save_profile(one.db, "officer", "test", old.to_dict(),
                                       "2026-01-01T00:00:00+00:00")
            one.audit.record("profile.set", {"profile": old.to_dict(), "previous": None})
        finally:
            one.close()
        two = open_context(Environment.TEST, roots[1])
        try:
            assert two.officer() is None  # not its record: not its profile
        finally:
            two.close()
        one = open_context(Environment.TEST, roots[0])
        try:
            assert one.officer() == old
            local = one.local_db()
            assert local is not None and settings_repo.profile(local, "officer") == old.to_dict()
        finally:
            one.close()
    finally:
        postgres_server.drop_database(name)
