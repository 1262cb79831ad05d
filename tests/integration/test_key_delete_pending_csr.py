"""A key whose Organisation CSR is with the DCC is not deleted (security review,
f_delete_pending.sh: csr org, portal submit, key delete, portal poll imported the certificate
"accepted ... matches its CSR" for a key that no longer existed). The delete is refused naming
the request; and a certificate that arrives for a key deleted anyway (by an older version, or
another workstation of a team store) is not imported as accepted: the poll says the key was
deleted. Against the simulator as a separate process; on SQLite and on a PostgreSQL store."""

from __future__ import annotations

import time

import pytest

from smki_desktop.core.errors import Refusal
from smki_desktop.services import portal, simulator_control
from smki_desktop.services.key_lifecycle import delete_key
from smki_desktop.services.key_pending import csr_key_id
from smki_desktop.store.repos import certificates as cert_repo
from tests.integration.portal_helpers import enrolled, org_csr

BOTH = pytest.mark.both_backends


@pytest.fixture
def sim(ctx):  # type: ignore[no-untyped-def]
    info = enrolled(ctx)
    yield info
    simulator_control.stop(ctx)


@BOTH
def test_a_key_whose_csr_is_at_the_dcc_is_not_deleted_and_a_late_certificate_is_not_accepted(
        ctx, sim) -> None:  # type: ignore[no-untyped-def]
    der = org_csr(ctx)
    key_id = csr_key_id(der)
    assert key_id is not None
    sent = portal.submit_org_csr(ctx, der, source="test")
    assert portal.outbox(ctx).get(sent.item.ref).state == "submitted"
    with pytest.raises(Refusal) as caught:
        delete_key(ctx, key_id[:16], "tidy up")
    said = caught.value.message
    assert sent.item.ref in said and "with the DCC" in said, said
    assert ctx.keystore.get(key_id)  # still here
    assert not [e for e in ctx.audit.entries() if e.action == "key.delete"]

    # deleted anyway, as an older version did (the key store's delete and its record)
    with ctx.audit.change():
        ctx.keystore.delete(key_id)
        gone = ctx.audit.record("key.delete", {"key_id": key_id, "label": "org",
                                               "usage": "signing", "reason": "tidy up"})
    time.sleep(0.5)  # the simulator's accelerated clock: one 0.2 s stage to issue
    report = portal.poll(ctx, force=True)
    assert [i.ref for i in report.completed] == [sent.item.ref]
    (imp,) = report.imported
    assert imp["imported"] is False and imp["accepted"] is False, imp
    assert f"its key {key_id[:16]} was deleted" in imp["why"], imp
    assert f"audit record {gone.seq}" in imp["why"]
    assert not cert_repo.ders_for_key(ctx.db, ctx.env, key_id)  # nothing accepted for it
    assert portal.outbox(ctx).get(sent.item.ref).state == "done"  # answered, kept


@BOTH
def test_cli_poll_says_the_key_was_deleted(ctx, sim, cli_run) -> None:  # type: ignore[no-untyped-def]
    der = org_csr(ctx)
    key_id = csr_key_id(der)
    assert key_id is not None
    portal.submit_org_csr(ctx, der, source="test")
    r = cli_run("key", "delete", key_id[:16], "--reason", "tidy up")
    assert r.code == 1 and "with the DCC" in r.err, (r.out, r.err)
    with ctx.audit.change():
        ctx.keystore.delete(key_id)
        ctx.audit.record("key.delete", {"key_id": key_id, "reason": "tidy up"})
    time.sleep(0.5)
    r = cli_run("portal", "poll", "--force")
    assert "accepted" not in r.out + r.err.replace("not accepted", ""), (r.out, r.err)
    assert "was deleted" in r.out + r.err, (r.out, r.err)
