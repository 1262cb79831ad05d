"""An ARO's nomination is the nominating SRO's act: its record is signed with the key linked
to that SRO's register entry, never with the key of whoever sits at the workstation (an ARO's
desk once recorded a nomination "by SRO-0001" signed with the ARO's own key)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from smki_desktop.core.errors import Refusal
from smki_desktop.services import nomination as nom
from smki_desktop.services.credential_store import verify_credential_signature
from tests.integration.adt_support import officer_signing_key, set_profiles
from tests.integration.test_officer_cli import make_active_sro, write_form


def _team(ctx, cli_run, tmp_path):  # type: ignore[no-untyped-def]
    """An active SRO (Alice) and an active ARO (Bob, linked to this desk's profile), each with
    a linked signing key."""
    from tests.integration.adt_support import active_aro

    set_profiles(ctx)
    sro = make_active_sro(cli_run, tmp_path, "Alice Example")
    sro_key = officer_signing_key(ctx, cli_run, sro)
    aro = active_aro(cli_run, tmp_path, sro, name="Bob Aro", sro_name="Alice Example",
                     sro_key=sro_key)
    aro_key = officer_signing_key(ctx, cli_run, aro)
    assert cli_run("profile", "set", "--name", "Bob Aro", "--role", "aro").code == 0
    assert cli_run("officer", "link-profile", aro).code == 0
    return sro, sro_key, aro, aro_key


def test_signer_other_than_the_nominating_sro_is_refused_naming_both(cli_run, tmp_path, ctx):  # type: ignore[no-untyped-def]
    sro, _sro_key, aro, aro_key = _team(ctx, cli_run, tmp_path)
    path = write_form(cli_run, tmp_path, "aro", "Cath Aro", nominator__officer_id=sro)
    res = cli_run("--json", "officer", "nominate", "--form", "aro", "--from", str(path),
                  "--as", aro, "--key", aro_key)
    assert res.code != 0
    assert sro in res.err and aro in res.err and "Alice Example" in res.err
    assert "Bob Aro" in res.err and "nominating SRO" in res.err
    listed = cli_run("--json", "officer", "list").json()["officers"]
    assert "Cath Aro" not in [o["name"] for o in listed]  # nothing recorded


def test_aro_desk_nomination_is_signed_by_the_sro_not_the_aro(cli_run, tmp_path, ctx):  # type: ignore[no-untyped-def]
    """The ARO prepares the form at their desk (their profile, their own key linked): the
    record is signed with the SRO's key and says who prepared it and who signed it."""
    sro, sro_key, aro, aro_key = _team(ctx, cli_run, tmp_path)
    path = write_form(cli_run, tmp_path, "aro", "Cath Aro", nominator__officer_id=sro)
    res = cli_run("--json", "officer", "nominate", "--form", "aro", "--from", str(path))
    assert res.code == 0, res.err
    data = res.json()
    assert data["signed_by"] == sro_key != aro_key
    assert data["signed_by_officer"] == sro
    record = Path(data["record"]).read_bytes()
    rid, _cert = verify_credential_signature(ctx, record, Path(data["signature"]).read_bytes(),
                                             datetime.now().astimezone())
    assert rid == sro
    doc = json.loads(record)
    assert doc["filled_by"]["register_id"] == aro and doc["signed_by_officer"] == sro
    entry = ctx.db.conn().execute("SELECT details FROM audit_log WHERE "
                                  "action='officer.nominate' ORDER BY seq DESC").fetchone()
    details = json.loads(entry["details"])
    assert details["signed_by_officer"] == sro and details["prepared_by"] == aro


def test_nominating_sro_without_a_key_here_is_refused(cli_run, tmp_path, ctx):  # type: ignore[no-untyped-def]
    """The SRO holds no key on this workstation: the nomination is not recorded as theirs
    (a draft waits for them), and an ARO's own key does not stand in."""
    set_profiles(ctx)
    sro = make_active_sro(cli_run, tmp_path, "Alice Example")
    schema, values = nom.read_input(
        write_form(cli_run, tmp_path, "aro", "Cath Aro", nominator__officer_id=sro), "aro")
    with pytest.raises(Refusal) as exc:
        nom.nominate(ctx, schema, values)
    msg = exc.value.message
    assert sro in msg and "Alice Example" in msg and "no usable file-signing key" in msg
    assert "draft" in msg


def test_sro_form_takes_no_officer_signer(cli_run, tmp_path, ctx):  # type: ignore[no-untyped-def]
    sro, sro_key, _aro, _aro_key = _team(ctx, cli_run, tmp_path)
    path = write_form(cli_run, tmp_path, "sro", "Sid Second")
    res = cli_run("officer", "nominate", "--form", "sro", "--from", str(path), "--as", sro,
                  "--key", sro_key)
    assert res.code != 0 and "signed on the paper form" in res.err
