"""Every audit record carries the version of the app that wrote it, and the chain still
verifies, including records written before the version was added."""

from __future__ import annotations

import json

from smki_desktop import __version__
from smki_desktop.core.audit import GENESIS, ChainHead, entry_hash


def test_each_record_carries_the_app_version_and_the_chain_verifies(ctx) -> None:  # type: ignore[no-untyped-def]
    ctx.audit.record("test.one", {"x": 1})
    ctx.audit.record("test.two", {"app_version": "forged"})
    entries = ctx.audit.entries(action_prefix="test.")
    assert [e.details["app_version"] for e in entries] == [__version__, __version__]
    stored = ctx.db.conn().execute(
        "SELECT details FROM audit_log WHERE action = 'test.one'").fetchone()["details"]
    assert json.loads(stored) == {"x": 1, "app_version": __version__}
    assert ctx.audit.verify().ok


def test_a_record_from_before_the_version_field_still_verifies(ctx) -> None:  # type: ignore[no-untyped-def]
    # a row as an older version wrote it (no app_version, no signature: before signing),
    # with its head in the keyring; the app then goes on (signing from there)
    seq, ts, env, actor = 1, "2026-11-01T10:00:00.000000+00:00", "test", "Ann (ARO)"
    details_json, arts_json = json.dumps({"old": True}), "{}"
    h = entry_hash(GENESIS, seq, ts, env, actor, "test.old", details_json, arts_json)
    with ctx.db.transaction() as c:
        c.execute("INSERT INTO audit_log(seq,ts,environment,actor,action,details,artifacts,"
                  "prev_hash,hash) VALUES(?,?,?,?,?,?,?,?,?)",
                  (seq, ts, env, actor, "test.old", details_json, arts_json, GENESIS, h))
    ctx.audit.secrets.set(ctx.audit.head_entry, ChainHead(seq, h).to_text())
    ctx.audit.record("test.new", {})
    report = ctx.audit.verify()
    assert report.ok, report.problems
    assert "app_version" not in ctx.audit.entries(action_prefix="test.old")[0].details
    assert ctx.audit.entries(action_prefix="test.new")[0].details["app_version"] == __version__
