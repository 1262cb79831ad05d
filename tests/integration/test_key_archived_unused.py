"""An archived key is used for no new work (security review, f_archive.sh): after `key archive`
the key was still listed by `csr keys` and `csr org` made a valid CSR with it. Now every new
use (a CSR of any kind, signing, a credential's TLS) is refused saying it is archived, when and
why, and that archiving cannot be undone; lists of keys to choose from leave it out, while the
key listing shows it marked. A flag taken off in the store without SMKI Desktop does not bring
it back: the proven `key.archive` record counts. On SQLite and on a PostgreSQL team store."""

from __future__ import annotations

from pathlib import Path

import pytest

from smki_desktop.core.errors import Refusal
from smki_desktop.core.keys import KeyUsage
from smki_desktop.services import csr as csr_service
from smki_desktop.services.key_lifecycle import archive_key
from smki_desktop.services.keys import generate_key
from smki_desktop.services.token import signer_for
from tests.support.raw_store import raw_sql

BOTH = pytest.mark.both_backends
EUI = "90-B3-D5-1F-30-01-00-00"


@BOTH
def test_cli_csr_keys_leaves_out_and_csr_org_refuses_an_archived_key(
        cli_run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    made = cli_run("--json", "key", "generate", "--usage", "signing", "--label", "to be archived")
    assert made.code == 0, made.err
    key = made.json()["key_id"]
    other = cli_run("--json", "key", "generate", "--usage", "signing", "--label", "in use")
    assert other.code == 0, other.err
    r = cli_run("key", "archive", key[:16], "--reason", "retired, must not be used")
    assert r.code == 0, r.err
    offered = [k["key_id"] for k in cli_run("--json", "csr", "keys").json()["keys"]]
    assert key not in offered and other.json()["key_id"] in offered
    listed = {k["key_id"]: k for k in cli_run("--json", "key", "list").json()["keys"]}
    assert "archived" in listed[key]["flags"]  # the key listing still shows it, marked
    out = tmp_path / "archived.csr"
    r = cli_run("csr", "org", "--key", key[:16], "--role", "supplier", "--eui", EUI,
                "--out", str(out))
    assert r.code == 1, (r.out, r.err)
    assert "is archived on " in r.err and "retired, must not be used" in r.err, r.err
    assert "cannot be undone" in r.err and "Traceback" not in r.err
    assert not out.exists()


@BOTH
def test_every_new_use_of_an_archived_key_is_refused_even_with_its_flag_taken_off(
        ctx) -> None:  # type: ignore[no-untyped-def]
    info = generate_key(ctx, KeyUsage.SIGNING, "old signing").key
    archive_key(ctx, info.key_id, "superseded")
    archived = ctx.keystore.get(info.key_id)
    for use in (lambda: signer_for(ctx, archived).__enter__(),
                lambda: ctx.keystore.signer(info.key_id).__enter__(),
                lambda: ctx.keystore.tls_material(info.key_id)):
        with pytest.raises(Refusal) as caught:
            use()
        assert "archived" in caught.value.message and info.key_id[:16] in caught.value.message
    # someone who can write the store takes the flag off: the audit record still counts
    raw_sql(ctx.paths.root, "UPDATE keys SET flags='' WHERE key_id=?", (info.key_id,),
            ctx.env.value)
    assert info.key_id not in [k.key_id for k in csr_service.keys_available_for_csr(ctx)]
    with pytest.raises(Refusal) as caught:
        csr_service.create_org_csr(ctx, info.key_id, "supplier", EUI)
    assert "archived on" in caught.value.message and "superseded" in caught.value.message
    with pytest.raises(Refusal):
        signer_for(ctx, ctx.keystore.get(info.key_id)).__enter__()
