"""Holes in what the audit log vouches for (`AuditLog.vouched`), each an attack by someone who
can write the store (a data folder, a team store's password) but cannot use the OS keyring, and
one false refusal:

- the writer registry (`audit_writers`) edited so that an intruder's own key is "the log's first
  writer", hence endorsed: the first writer is the log's first registration record;
- a joining workstation handed a forged "pre-signing" prefix by the store: a legacy head comes
  only from this workstation's keyring;
- the newest record of a setting (or one in the middle) deleted so that an older genuine one is
  the last again: refused while the keyring's head is missing or a link is broken;
- a team workstation that has not written yet refused the endorsed first workstation's records.

The real services on a real store (SQLite file or PostgreSQL team store); the attacker's edits
through a raw connection with the audit log's guards dropped."""

from __future__ import annotations

import base64
import json
import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.x509.oid import NameOID

from smki_desktop.core.audit import artifact_digest, entry_hash, signing_payload
from smki_desktop.core.errors import Refusal
from smki_desktop.services import expiry, portal_endpoint, trust
from smki_desktop.services.audit import REGISTER_ACTION, writer_id_of
from tests.support.raw_store import RawStore, drop_audit_guards, open_raw

POSTGRES = pytest.mark.parametrize("backend", ["postgres"], indirect=True)
SQLITE = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


def _ca(name: str) -> bytes:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM)


class _Raw:
    """The attacker's own connection to the store, the audit log's guards dropped."""

    def __init__(self, data_root: Path) -> None:
        self.c: RawStore = open_raw(data_root, "test")
        drop_audit_guards(self.c)

    def __enter__(self) -> RawStore:
        return self.c

    def __exit__(self, *exc: object) -> None:
        self.c.commit()
        self.c.close()


def _last(c: RawStore) -> tuple[int, str]:
    r = c.execute("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1").fetchone()
    return int(r["seq"]), str(r["hash"])


def _append(c: RawStore, seq: int, prev: str, action: str, details: dict[str, Any],
            arts: dict[str, str] | None = None, *, writer: str = "", sig: str = "",
            key: Ed25519PrivateKey | None = None) -> str:
    """One row chained after `prev`, signed with `key` (writer id `writer`) when given."""
    ts, text, art = "2026-01-02T00:00:00.000000+00:00", json.dumps(details, sort_keys=True), \
        json.dumps(arts or {}, sort_keys=True)
    h = entry_hash(prev, seq, ts, "test", "intruder", action, text, art)
    if key is not None:
        sig = base64.b64encode(key.sign(signing_payload(h, writer))).decode()
    c.execute("INSERT INTO audit_log(seq,ts,environment,actor,action,details,artifacts,"
              "prev_hash,hash,writer,sig) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
              (seq, ts, "test", "intruder", action, text, art, prev, h, writer, sig))
    return h


def _rewrite_endpoint(ctx: Any, url: str, anchor: bytes) -> None:
    with ctx.db.transaction() as c:
        c.execute("UPDATE portal_endpoints SET source='configured', portal_url=?, "
                  "repository_url=?, trust_anchor=?, state_dir=NULL, pid=NULL "
                  "WHERE environment='test'", (url, url, anchor))


def _second_workstation(data_root: Path, tmp_path: Path) -> Any:
    """Another workstation linked to the same team store (Test): its own installation id, so
    its own keyring anchor (none yet)."""
    from smki_desktop.core.environment import Environment
    from smki_desktop.services.context import open_context
    from smki_desktop.store import team_link

    link = team_link.load(data_root / "test")
    root = tmp_path / "ws2"
    (root / "test").mkdir(parents=True)
    team_link.save(root / "test", team_link.TeamLink(link.url, secrets.token_hex(16),
                                                     "2026-01-01T00:00:00+00:00"))
    return open_context(Environment.TEST, root)


def _refused(ctx: Any) -> str:
    with pytest.raises(Refusal) as got:
        portal_endpoint.endpoint(ctx)
    return got.value.message


@POSTGRES
def test_an_edited_writer_registry_does_not_make_an_intruder_the_first_writer(  # type: ignore[no-untyped-def]
        ctx, data_root: Path) -> None:
    from smki_desktop.core.environment import Environment
    from smki_desktop.services.context import open_context

    portal_endpoint.set_endpoint(ctx, "https://dcc.example", "https://dcc.example", _ca("dcc"))
    evil, key = _ca("attacker"), Ed25519PrivateKey.generate()
    pub = key.public_key().public_bytes_raw()
    wid = writer_id_of(pub)
    with _Raw(data_root) as c:
        seq, prev = _last(c)
        c.execute("INSERT INTO audit_writers(writer_id, public_key, installation_id, "
                  "environment, registered) VALUES (?,?,?,?,?)",
                  (wid, pub, "intruder", "test", "2026-01-02"))
        prev = _append(c, seq + 1, prev, REGISTER_ACTION,
                       {"writer": wid, "public_key": base64.b64encode(pub).decode(),
                        "installation_id": "intruder", "environment": "test"},
                       writer=wid, key=key)
        _append(c, seq + 2, prev, portal_endpoint.ENDPOINT_ACTION,
                {"portal_url": "https://evil.example", "repository_url": "https://evil.example",
                 "anchor": "CN=attacker"}, {"trust_anchor": artifact_digest(evil)},
                writer=wid, key=key)
    _rewrite_endpoint(ctx, "https://evil.example", evil)
    assert "cannot be proven" in _refused(ctx)
    with _Raw(data_root) as c:
        c.execute("DELETE FROM audit_writers WHERE writer_id <> ?", (wid,))
    # the same process (its cache must see the registry edit) and a fresh one
    assert "cannot be proven" in _refused(ctx)
    again = open_context(Environment.TEST, data_root)
    try:
        assert "cannot be proven" in _refused(again)
        assert not again.audit.verify().ok
    finally:
        again.close()


@POSTGRES
def test_a_joining_workstation_takes_no_pre_signing_prefix_from_the_store(  # type: ignore[no-untyped-def]
        ctx, data_root: Path, tmp_path: Path) -> None:
    portal_endpoint.set_endpoint(ctx, "https://dcc.example", "https://dcc.example", _ca("dcc"))
    evil = _ca("attacker")
    fp = x509.load_pem_x509_certificate(evil).fingerprint(hashes.SHA256()).hex()
    with _Raw(data_root) as c:
        seq, prev = _last(c)
        prev = _append(c, seq + 1, prev, portal_endpoint.ENDPOINT_ACTION,
                       {"portal_url": "https://evil.example",
                        "repository_url": "https://evil.example", "anchor": "CN=attacker"},
                       {"trust_anchor": artifact_digest(evil)})
        prev = _append(c, seq + 2, prev, "cert.anchor.add",
                       {"fingerprint": fp, "source": "user", "subject": "CN=attacker"})
        _append(c, seq + 3, prev, "party.update", {"n": 1}, sig="x")
        saved = [(r["seq"], r["sig"]) for r in
                 c.execute("SELECT seq, sig FROM audit_log WHERE seq<=?", (seq,)).fetchall()]
        c.execute("UPDATE audit_log SET sig='' WHERE seq<=?", (seq,))
    _rewrite_endpoint(ctx, "https://evil.example", evil)
    ws2 = _second_workstation(data_root, tmp_path)
    try:
        ws2.audit.record("team.hello", {"n": 1})  # its first record: it joins the log
        with _Raw(data_root) as c:  # the genuine signatures put back
            for s, sig in saved:
                c.execute("UPDATE audit_log SET sig=? WHERE seq=?", (sig, s))
        ws2.audit._vouched.clear()
        assert "cannot be proven" in _refused(ws2)
        assert fp not in trust.vouched_fingerprints(ws2)
    finally:
        ws2.close()


@POSTGRES
def test_a_workstation_that_has_not_written_uses_the_first_workstations_records(  # type: ignore[no-untyped-def]
        ctx, data_root: Path, tmp_path: Path) -> None:
    portal_endpoint.set_endpoint(ctx, "https://dcc.example", "https://dcc.example", _ca("dcc"))
    expiry.set_window_days(ctx, 30)
    ws2 = _second_workstation(data_root, tmp_path)
    try:
        assert ws2.audit.verify().ok
        assert portal_endpoint.endpoint(ws2).endpoint.portal_url == "https://dcc.example"
        assert expiry.window_setting(ws2) == (30, None)
        # an intruder's rewrite is still refused there
        _rewrite_endpoint(ctx, "https://evil.example", _ca("attacker"))
        assert "differ" in _refused(ws2) or "match" in _refused(ws2)
    finally:
        ws2.close()


@SQLITE
def test_deleting_the_newest_endpoint_record_is_refused_as_a_cut(ctx, data_root: Path) -> None:  # type: ignore[no-untyped-def]
    old = _ca("old-dcc")
    portal_endpoint.set_endpoint(ctx, "https://old.example", "https://old.example", old)
    e2 = portal_endpoint.set_endpoint(ctx, "https://new.example", "https://new.example",
                                      _ca("new-dcc"))
    assert portal_endpoint.endpoint(ctx).endpoint.portal_url == "https://new.example"
    with _Raw(data_root) as c:
        c.execute("DELETE FROM audit_log WHERE seq=?", (e2.seq,))
    _rewrite_endpoint(ctx, "https://old.example", old)
    message = _refused(ctx)
    assert "audit log was cut" in message and "verify" in message
    assert not ctx.audit.verify().ok


@SQLITE
def test_deleting_a_middle_expiry_record_is_refused_until_the_window_is_set_again(  # type: ignore[no-untyped-def]
        ctx, data_root: Path) -> None:
    expiry.set_window_days(ctx, 7)
    e2 = expiry.set_window_days(ctx, 365)
    ctx.audit.record("party.update", {"n": 1})  # later activity: e2 is in the middle
    assert expiry.window_setting(ctx) == (365, None)
    with _Raw(data_root) as c:
        c.execute("DELETE FROM audit_log WHERE seq=?", (e2.seq,))
        c.execute("UPDATE settings SET value='7' WHERE name=?", (expiry.SETTING,))
    days, problem = expiry.window_setting(ctx)
    assert days == expiry.DEFAULT_DAYS and problem is not None and "was cut" in problem
    # a record written after the break counts again
    expiry.set_window_days(ctx, 14)
    assert expiry.window_setting(ctx) == (14, None)
