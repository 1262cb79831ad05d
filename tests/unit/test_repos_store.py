"""The store repositories that took the services' SQL (settings and profiles, keys, CSRs,
officers, forecasts and readiness, portal endpoints, the outbox): each function on a real
SQLite database on disk, typed rows in and out, and a constraint violation surfacing as the
service's own clear message."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from smki_desktop.core.environment import Environment
from smki_desktop.core.errors import InputError, Refusal
from smki_desktop.core.keys import KeyInfo, KeyLocation, KeyType, KeyUsage
from smki_desktop.core.officers import (
    Credential,
    Officer,
    OfficerRole,
    OfficerStatus,
    Verification,
)
from smki_desktop.store.db import Database
from smki_desktop.store.repos import csrs as csrs_repo
from smki_desktop.store.repos import endpoints as endpoints_repo
from smki_desktop.store.repos import forecasts as forecasts_repo
from smki_desktop.store.repos import keys as keys_repo
from smki_desktop.store.repos import officers as officers_repo
from smki_desktop.store.repos import outbox as outbox_repo
from smki_desktop.store.repos import settings as settings_repo

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def db(open_db: Callable[[], Database]) -> Database:
    return open_db()


def _key(n: int, *, env: Environment = Environment.TEST, usage: KeyUsage = KeyUsage.SIGNING,
         location: KeyLocation = KeyLocation.OS_KEYRING, at: datetime = T0,
         flags: tuple[str, ...] = ()) -> KeyInfo:
    spki = f"public key {n}".encode()
    return KeyInfo(hashlib.sha256(spki).hexdigest(), f"key {n}", KeyType.EC_P256, usage, env,
                   at + timedelta(minutes=n), location, spki, f"ref-{n}", flags)


# -- settings and profiles --------------------------------------------------------------------
def test_settings_put_get_first_writer_wins_and_delete(db: Database) -> None:
    assert settings_repo.get(db, "pkcs11.module") is None
    settings_repo.put(db, "pkcs11.module", "/a.so")
    settings_repo.put(db, "pkcs11.module", "/b.so")
    assert settings_repo.get(db, "pkcs11.module") == "/b.so"
    assert settings_repo.put_first(db, "installation_id", "first") == "first"
    assert settings_repo.put_first(db, "installation_id", "second") == "first"
    settings_repo.delete(db, "pkcs11.module")
    assert settings_repo.get(db, "pkcs11.module") is None
    assert settings_repo.get(db, "installation_id") == "first"


def test_profiles_one_row_each_replaced(db: Database) -> None:
    assert settings_repo.profile(db, "party") is None
    settings_repo.save_profile(db, "party", "test", {"name": "A"}, T0.isoformat())
    settings_repo.save_profile(db, "party", "test", {"name": "B"}, T0.isoformat())
    settings_repo.save_profile(db, "officer", "test", {"name": "Ann"}, T0.isoformat())
    assert settings_repo.profile(db, "party") == {"name": "B"}
    assert settings_repo.profile(db, "officer") == {"name": "Ann"}
    with pytest.raises(ValueError, match="unknown profile kind"):
        settings_repo.profile(db, "settings; DROP TABLE keys")


# -- keys -------------------------------------------------------------------------------------
def test_keys_add_find_list_touch_delete(db: Database) -> None:
    a, b = _key(1), _key(2, location=KeyLocation.PKCS11, flags=("non-exportable",))
    live = _key(3, env=Environment.LIVE)
    for k in (a, b, live):
        keys_repo.add(db, k)
    assert keys_repo.exists(db, a.key_id)
    assert keys_repo.exists(db, a.key_id, "ref-1")
    assert not keys_repo.exists(db, a.key_id, "ref-2")
    assert keys_repo.find_prefix(db, a.key_id[:8]) == [a]
    assert keys_repo.find_prefix(db, b.key_id[:10], KeyLocation.OS_KEYRING) == []
    assert keys_repo.find_prefix(db, b.key_id, KeyLocation.PKCS11)[0].flags == ("non-exportable",)
    assert keys_repo.for_environment(db, "test") == [a, b]
    assert keys_repo.for_environment(db, "test", KeyLocation.PKCS11) == [b]
    assert keys_repo.for_environment(db, "live") == [live]
    assert keys_repo.label_of(db, "test", a.key_id) == "key 1"
    assert keys_repo.label_of(db, "live", a.key_id) is None
    keys_repo.touch(db, a.key_id, T0.isoformat())
    keys_repo.delete(db, a.key_id)
    assert not keys_repo.exists(db, a.key_id)
    assert keys_repo.for_environment(db, "test") == [b]


def test_key_recorded_twice_is_refused_with_the_stores_message(db: Database) -> None:
    a = _key(1)
    keys_repo.add(db, a)
    with pytest.raises(InputError, match=f"already in the store as {a.key_id[:16]}"):
        keys_repo.add(db, a)
    assert len(keys_repo.for_environment(db, "test")) == 1


def test_key_flags_added_once_and_removed_inside_a_transaction(db: Database) -> None:
    a = _key(1, flags=("archived",))
    keys_repo.add(db, a)
    with db.transaction() as c:
        assert keys_repo.add_flag(c, a.key_id, "officer-suspended")
        assert keys_repo.add_flag(c, a.key_id, "officer-suspended")
        assert not keys_repo.add_flag(c, "00" * 32, "officer-suspended")
    assert keys_repo.find_prefix(db, a.key_id)[0].flags == ("archived", "officer-suspended")
    with db.transaction() as c:
        keys_repo.remove_flag(c, a.key_id, "officer-suspended")
    assert keys_repo.find_prefix(db, a.key_id)[0].flags == ("archived",)


def test_keys_unused_for_csr_and_what_uses_a_key(db: Database) -> None:
    a, b = _key(1), _key(2, usage=KeyUsage.KEY_AGREEMENT)
    fs = _key(3, usage=KeyUsage.FILE_SIGNING)
    for k in (a, b, fs):
        keys_repo.add(db, k)
    usages = (KeyUsage.SIGNING, KeyUsage.KEY_AGREEMENT)
    assert keys_repo.unused_for_csr(db, "test", KeyType.EC_P256, usages) == [a, b]
    assert keys_repo.csr_or_certificate(db, a.key_id) is None
    csrs_repo.add_org_csr(db, "test", a.key_id, "02", "00-11-22-33-44-55-66-77", None,
                          "signing", b"der", T0.isoformat())
    assert keys_repo.csr_or_certificate(db, a.key_id) == "csr"
    assert keys_repo.unused_for_csr(db, "test", KeyType.EC_P256, usages) == [b]


# -- CSRs -------------------------------------------------------------------------------------
def test_csrs_add_returns_ids_and_lists_with_certificate_status(db: Database) -> None:
    first = csrs_repo.add_org_csr(db, "test", "k1", "02", "E1", "cn one", "signing", b"\x30\x01",
                                  T0.isoformat())
    second = csrs_repo.add_org_csr(db, "test", "k2", "02", "E2", None, "key-agreement",
                                   b"\x30\x02", T0.isoformat())
    csrs_repo.add_org_csr(db, "live", "k3", "02", "E3", None, "signing", b"\x30\x03",
                          T0.isoformat())
    assert second == first + 1
    rows = csrs_repo.summaries(db, "test")
    assert [(r.csr_id, r.key_id, r.cn, r.cert_status) for r in rows] == [
        (first, "k1", "cn one", None), (second, "k2", None, None)]
    assert csrs_repo.der_and_environment(db, second) == (b"\x30\x02", "test")
    assert csrs_repo.der_and_environment(db, 999) is None
    assert csrs_repo.get_csr(db, "test", first) is not None


def test_second_csr_for_a_key_is_refused_by_the_constraint(db: Database) -> None:
    csrs_repo.add_org_csr(db, "test", "k1", "02", "E1", None, "signing", b"a", T0.isoformat())
    with pytest.raises(Refusal, match=r"it already has a CSR \(one key per CSR\)"):
        csrs_repo.add_org_csr(db, "test", "k1", "02", "E1", None, "signing", b"b",
                              T0.isoformat())
    assert [r.der for r in csrs_repo.list_csrs(db, "test")] == [b"a"]


def test_csr_discard_only_here_and_returns_the_key(db: Database) -> None:
    csr_id = csrs_repo.add_org_csr(db, "test", "k1", "02", "E1", None, "signing", b"a",
                                   T0.isoformat())
    assert csrs_repo.discard(db, csr_id, "live") is None
    assert csrs_repo.discard(db, csr_id, "test") == "k1"
    assert csrs_repo.der_and_environment(db, csr_id) is None
    assert csrs_repo.discard(db, csr_id, "test") is None


# -- officers ---------------------------------------------------------------------------------
def _officer(oid: str, role: OfficerRole = OfficerRole.ARO, email: str = "ann@example.org"
             ) -> Officer:
    return Officer(oid, role, Environment.TEST, OfficerStatus.NOMINATED, "Ann Example", email,
                   "Org", "P1", self_nominated=role is OfficerRole.SRO, nominated_by="SRO-0001")


def test_officers_insert_read_and_next_id(db: Database) -> None:
    with db.transaction() as c:
        oid = officers_repo.next_id(c, "aro", "ARO")
        assert oid == "ARO-0001"
        officers_repo.insert(c, _officer(oid), {"name": "Ann"}, "ab" * 32, T0.isoformat())
        sro = officers_repo.next_id(c, "sro", "SRO")
        officers_repo.insert(c, _officer(sro, OfficerRole.SRO, "sro@example.org"), {}, "",
                             T0.isoformat())
        assert officers_repo.next_id(c, "aro", "ARO") == "ARO-0002"
    rows = officers_repo.for_environment(db, "test")
    assert [r.officer_id for r in rows] == ["SRO-0001", "ARO-0001"]  # SROs first
    assert rows[0].self_nominated is True and rows[1].self_nominated is False
    assert officers_repo.for_environment(db, "live") == []
    assert [r.officer_id for r in officers_repo.by_id(db, "aro-0001")] == ["ARO-0001"]
    assert [r.officer_id for r in officers_repo.by_email(db, "ANN@example.org")] == ["ARO-0001"]
    assert officers_repo.record_sha256(db, "ARO-0001") == "ab" * 32
    assert officers_repo.record_sha256(db, "ARO-0099") == ""
    assert officers_repo.form_values(db, "ARO-0001") == {"name": "Ann"}
    assert officers_repo.form_values(db, "ARO-0099") is None
    with db.transaction() as c:
        officers_repo.set_form_values(c, "ARO-0001", {"name": "Ann", "x": 1})
    assert officers_repo.form_values(db, "ARO-0001") == {"name": "Ann", "x": 1}


def test_officer_entry_twice_violates_the_register_key(db: Database) -> None:
    with db.transaction() as c:
        officers_repo.insert(c, _officer("ARO-0001"), {}, "", T0.isoformat())
    with pytest.raises(Exception, match="UNIQUE"), db.transaction() as c:
        officers_repo.insert(c, _officer("ARO-0001"), {}, "", T0.isoformat())
    assert len(officers_repo.for_environment(db, "test")) == 1  # nothing half-written


def test_officer_credentials_standing_and_log(db: Database) -> None:
    k = _key(1, usage=KeyUsage.FILE_SIGNING)
    keys_repo.add(db, k)
    keys_repo.touch(db, k.key_id, "2026-03-02T10:00:00+00:00")
    with db.transaction() as c:
        officers_repo.insert(c, _officer("ARO-0001"), {}, "", T0.isoformat())
        officers_repo.insert(c, _officer("ARO-0002", email="bob@example.org"), {}, "",
                             T0.isoformat())
        officers_repo.add_credential(c, "ARO-0001", k.key_id, "test", "key", "mine", "t1")
        officers_repo.add_credential(c, "ARO-0001", k.key_id, "test", "key", "again", "t2")
        officers_repo.add_credential(c, "ARO-0001", "ff" * 32, "test", "token", "gone", "t3")
        assert officers_repo.other_holder(c, k.key_id, "ARO-0002") == "ARO-0001"
        assert officers_repo.other_holder(c, k.key_id, "ARO-0001") is None
        officers_repo.append_log(c, "test", "ARO-0001", "nominate", "nominated", b"{}", "",
                                 None, "t1")
        officers_repo.append_log(c, "test", "ARO-0001", "suspend", "suspended", b'{"a":1}',
                                 "SRO-0001", b"\x30\x80sig", "t2")
    creds = officers_repo.credentials(db, "ARO-0001")
    assert [(c.key_id, c.label, c.last_used) for c in creds] == [
        (k.key_id, "mine", "2026-03-02T10:00:00+00:00"), ("ff" * 32, "gone", None)]
    holder = officers_repo.key_holder(db, k.key_id, "test")
    assert holder is not None and holder.officer_id == "ARO-0001"
    assert officers_repo.key_holder(db, k.key_id, "live") is None
    log = officers_repo.log(db, "test")
    assert [(x.action, x.body, x.signer, x.signature) for x in log] == [
        ("nominate", b"{}", "", None), ("suspend", b'{"a":1}', "SRO-0001", b"\x30\x80sig")]
    assert log[0].seq < log[1].seq and officers_repo.log(db, "live") == []
    o = _officer("ARO-0001")
    changed = Officer(**{**o.__dict__, "status": OfficerStatus.SUSPENDED,
                         "status_reason": "leave", "status_changed_at": "t2",
                         "verification": Verification("2026-03-01", "SRO-0001",
                                                      ("photo-id",), "passed"),
                         "credentials": (Credential(k.key_id, "key", "mine", "t1", None,
                                                    "officer-suspended"),)})
    with db.transaction() as c:
        officers_repo.update_standing(c, changed, "t3")
    row = officers_repo.by_id(db, "ARO-0001")[0]
    assert (row.status, row.status_reason, row.status_changed_at) == ("suspended", "leave", "t2")
    assert row.verification == {"date": "2026-03-01", "verifier": "SRO-0001",
                                "evidence": ["photo-id"], "outcome": "passed"}
    assert officers_repo.credentials(db, "ARO-0001")[0].flagged == "officer-suspended"


# -- forecasts and readiness ------------------------------------------------------------------
def _device_csr(db: Database, env: str, key_id: str, created: str, batch: str | None) -> None:
    # the Device CSR table belongs to the devices repository; this fixture only fills it
    with db.transaction() as c:
        if batch is not None:
            c.execute("INSERT INTO device_batches(id, environment, name, channel, state, total,"
                      " created, updated) VALUES(?,?,?,?,?,?,?,?) ON CONFLICT(id) DO NOTHING",
                      (batch, env, batch, "portal-zip", "packaged", 2, created, created))
        c.execute("INSERT INTO device_csrs(environment, key_id, batch_id, file_name, device_eui,"
                  " usage, csr, status, created, updated) VALUES(?,?,?,?,?,?,?,?,?,?)",
                  (env, key_id, batch, f"{key_id}.csr", "00" * 8, "signing", b"x",
                   "packaged", created, created))


def test_forecast_history_counts_per_month_and_category(db: Database) -> None:
    _device_csr(db, "test", "d1", "2026-01-05T10:00:00", None)
    _device_csr(db, "test", "d2", "2026-01-06T10:00:00", "B1")
    _device_csr(db, "test", "d3", "2026-01-07T10:00:00", "B1")
    _device_csr(db, "live", "d4", "2026-01-07T10:00:00", None)
    csrs_repo.add_org_csr(db, "test", "k1", "02", "E1", None, "signing", b"a",
                          "2026-02-01T09:00:00")
    csrs_repo.add_org_csr(db, "live", "k2", "02", "E1", None, "signing", b"a",
                          "2026-02-01T09:00:00")
    got = sorted(forecasts_repo.device_csr_months(db, "test"), key=lambda m: m.batched)
    assert [(m.month, m.batched, m.count) for m in got] == [("2026-01", False, 1),
                                                             ("2026-01", True, 2)]
    assert [(m.month, m.count) for m in forecasts_repo.org_csr_months(db, "test")] == [
        ("2026-02", 1)]


def test_forecast_plans_set_replace_clear(db: Database) -> None:
    forecasts_repo.set_plan(db, "test", "2026-04", "organisation", 3, "t1")
    forecasts_repo.set_plan(db, "test", "2026-04", "organisation", 5, "t2")
    forecasts_repo.set_plan(db, "test", "2026-05", "device-single", 0, "t2")
    assert sorted((p.month, p.category, p.count) for p in forecasts_repo.plans(db, "test")) == [
        ("2026-04", "organisation", 5), ("2026-05", "device-single", 0)]
    forecasts_repo.set_plan(db, "test", "2026-04", "organisation", None, "t3")
    assert [p.month for p in forecasts_repo.plans(db, "test")] == ["2026-05"]


def test_readiness_facts_upserted_together(db: Database) -> None:
    forecasts_repo.set_facts(db, "test", {"org-verified": ("2026-01-02", "R1"),
                                          "srept:organisation": ("2026-01-03", "S1")}, "t1")
    forecasts_repo.set_facts(db, "test", {"org-verified": ("2026-01-04", "R2")}, "t2")
    got = {f.name: (f.date, f.reference) for f in forecasts_repo.facts(db, "test")}
    assert got == {"org-verified": ("2026-01-04", "R2"),
                   "srept:organisation": ("2026-01-03", "S1")}
    assert forecasts_repo.facts(db, "live") == []


# -- portal endpoints -------------------------------------------------------------------------
def test_endpoint_recorded_and_replaced(db: Database) -> None:
    assert endpoints_repo.get(db, "test") is None
    sim = endpoints_repo.EndpointRow("test", "simulator", "https://127.0.0.1:1", "https://r",
                                     b"PEM", "/state", 1234, "t1")
    endpoints_repo.put(db, sim)
    assert endpoints_repo.get(db, "test") == sim
    conf = endpoints_repo.EndpointRow("test", "configured", "https://dcc", "https://repo",
                                      b"PEM2", None, None, "t2")
    endpoints_repo.put(db, conf)
    assert endpoints_repo.get(db, "test") == conf
    assert endpoints_repo.get(db, "live") is None


# -- outbox -----------------------------------------------------------------------------------
def test_outbox_rows_prefix_states_update(db: Database) -> None:
    outbox_repo.add(db, "Oab_1", "test", "org-csr", b"p", {"n": 1}, "queued", "2026-01-01T00:00")
    outbox_repo.add(db, "Oabx1", "test", "org-csr", b"p", {}, "queued", "2026-01-01T00:01")
    outbox_repo.add(db, "Bcd", "test", "device-batch", b"q", {}, "queued", "2026-01-01T00:02")
    outbox_repo.add(db, "Oab_2", "live", "org-csr", b"p", {}, "queued", "2026-01-01T00:00")
    # '_' and '%' are literal characters of a reference, not wildcards; case does not matter
    assert [r.ref for r in outbox_repo.with_prefix(db, "test", "oab_")] == ["Oab_1"]
    assert outbox_repo.with_prefix(db, "test", "%") == []
    assert [r.ref for r in outbox_repo.items(db, "test")] == ["Oab_1", "Oabx1", "Bcd"]
    assert [r.ref for r in outbox_repo.items(db, "test", kind="device-batch")] == ["Bcd"]
    assert outbox_repo.items(db, "test", states=[]) == []
    at = datetime(2026, 1, 2, 3, 4, tzinfo=UTC)
    outbox_repo.update(db, "test", "Bcd", {"state": "submitted", "next_action_at": at,
                                           "meta": {"count": 2}, "updated": "2026-01-02T00:00"})
    outbox_repo.note_attempt(db, "Bcd")
    row = outbox_repo.items(db, "test", states=["submitted"])[0]
    assert (row.ref, row.attempts, row.next_action_at, row.meta) == ("Bcd", 1, at, {"count": 2})
    assert row.environment is Environment.TEST and row.payload == b"q" and row.result is None
    with pytest.raises(ValueError, match="not updatable"):
        outbox_repo.update(db, "test", "Bcd", {"payload": b"x", "updated": "t"})


def test_outbox_reference_twice_is_refused_by_name(db: Database) -> None:
    now = "2026-01-01T00:00:00+00:00"
    outbox_repo.add(db, "B1", "test", "device-batch", b"p", {}, "queued", now)
    with pytest.raises(Refusal, match="Request B1 is already in the outbox"):
        outbox_repo.add(db, "B1", "test", "device-batch", b"other", {}, "queued", now)
    assert [r.payload for r in outbox_repo.items(db, "test")] == [b"p"]


def test_a_register_change_is_written_whole_or_not_at_all(db: Database) -> None:
    """`officers.writing(db)`: the service's one way to change the register; a failure half
    way leaves neither the entry nor its log."""
    with officers_repo.writing(db) as w:
        oid = w.next_id("aro", "ARO")
        w.insert(_officer(oid), {"name": "Ann"}, "ab" * 32, T0.isoformat())
        w.append_log("test", oid, "nominate", "nominated", b"{}", "", None, T0.isoformat())
    assert [r.officer_id for r in officers_repo.for_environment(db, "test")] == ["ARO-0001"]
    with pytest.raises(RuntimeError), officers_repo.writing(db) as w:
        second = w.next_id("aro", "ARO")
        w.insert(_officer(second, email="bob@example.org"), {}, "", T0.isoformat())
        w.append_log("test", second, "nominate", "nominated", b"{}", "", None, T0.isoformat())
        raise RuntimeError("the PDF could not be written")
    assert [r.officer_id for r in officers_repo.for_environment(db, "test")] == ["ARO-0001"]
    assert [row.officer_id for row in officers_repo.log(db, "test")] == ["ARO-0001"]
