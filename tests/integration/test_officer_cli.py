"""The officer, readiness and forecast commands end to end (in-process CLI, real keyring,
real SQLite, PDFs read back with pdftotext, the record's signature checked with openssl)."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from smki_desktop.core.keys import KeyUsage

EVIDENCE = "photo-id,photo-id-validated,second-evidence,face-match"


def pdf_pages(path: Path) -> list[str]:
    out = subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True,
                         capture_output=True, text=True).stdout
    return [p for p in out.split("\f") if p.strip()]


def flat(text: str) -> str:
    return " ".join(text.split())


def write_form(cli_run, tmp_path: Path, form: str, name: str, *, env: str = "test",
               **changes: object) -> Path:
    """The template with `page__field=value` changes (and a unique nominee of this
    installation's Party, where a Party profile is set)."""
    res = cli_run("officer", "template", "--form", form, env=env)
    assert res.code == 0, res.err
    doc = json.loads(res.out)
    doc["nominee"]["name"] = name
    doc["nominee"]["email"] = name.lower().replace(" ", ".") + "@example-energy.co.uk"
    doc["environment"]["environment"] = env
    # officers are nominated for this installation's own Party (another Party's ID is refused)
    party = cli_run("--json", "party", "show", env=env)
    if party.code == 0 and party.json()["party"]:
        doc["nominee"]["party_id"] = party.json()["party"]["party_id"]
        # ... under the Party's own name (the form carries it as the Party profile spells it)
        doc["nominee"]["organisation"] = party.json()["party"]["name"]
    for key, value in changes.items():
        page, field = key.split("__")
        doc[page][field] = value
    path = tmp_path / f"{form}-{name.replace(' ', '-')}-{env}.json"
    path.write_text(json.dumps(doc))
    return path


def nominate(cli_run, tmp_path, form, name, env="test", sro_key=None, **changes):
    """An ARO form naming an SRO is signed by that SRO (`--as SRO --key`): with `sro_key`, else
    a signing key the SRO holds here (made for an active SRO that has none)."""
    path = write_form(cli_run, tmp_path, form, name, env=env, **changes)
    signer: list[str] = []
    sro = str(changes.get("nominator__officer_id") or "")
    if form == "aro" and sro:
        key = sro_key or nominating_sro_key(cli_run, sro, env)
        if key:
            signer = ["--as", sro, "--key", key]
    return cli_run("--json", "officer", "nominate", "--form", form, "--from", str(path),
                   *signer, env=env)


def nominating_sro_key(cli_run, sro: str, env: str = "test") -> str | None:  # type: ignore[no-untyped-def]
    """A usable signing key of the active SRO `sro` of this environment (one made and linked,
    from a throwaway trust anchor, when they hold none); None when `sro` is no active SRO
    here (the nomination is then refused for that reason)."""
    from smki_desktop.core.environment import Environment
    from smki_desktop.services import identity
    from smki_desktop.services.context import open_context
    from smki_desktop.services.officers import find_officer
    from tests.integration.adt_support import officer_signing_key

    root = getattr(cli_run, "data_root", None)
    if root is None:
        return None
    ctx = open_context(Environment(env), root)
    try:
        o = find_officer(ctx, sro)
        if o is None or o.role.value != "sro" or o.status.value != "active":
            return None
        keys = identity.usable_keys(ctx, o)
        if keys:
            return keys[0]
        # cli_run links in Test (its default environment); elsewhere link through this ctx
        return officer_signing_key(ctx, cli_run if env == "test" else None, o.officer_id)
    finally:
        ctx.close()


def make_active_sro(cli_run, tmp_path, name="Alice Example", env="test") -> str:
    res = nominate(cli_run, tmp_path, "sro", name, env=env)
    assert res.code == 0, res.err
    oid = res.json()["officer"]["officer_id"]
    assert cli_run("officer", "verify", oid, "--date", "2026-11-21", "--verifier", "Vera",
                   "--evidence", EVIDENCE, env=env).code == 0
    assert cli_run("officer", "activate", oid, env=env).code == 0
    return oid


def test_template_is_complete_and_valid_json_and_toml(cli_run, tmp_path):
    for form in ("sro", "aro"):
        res = cli_run("officer", "template", "--form", form)
        assert res.code == 0
        doc = json.loads(res.out)
        assert doc["form"] == form and doc["nominee"]["email"]
        toml_res = cli_run("officer", "template", "--form", form, "--format", "toml")
        import tomllib

        assert tomllib.loads(toml_res.out) == doc


def test_sro_nomination_pdf_has_every_field_and_environment_on_each_page(cli_run, tmp_path):
    path = write_form(cli_run, tmp_path, "sro", "Alice Example")
    out_pdf = tmp_path / "alice.pdf"
    res = cli_run("--json", "officer", "nominate", "--form", "sro", "--from", str(path),
                  "--pdf", str(out_pdf))
    assert res.code == 0, res.err
    data = res.json()
    assert data["officer"]["officer_id"] == "SRO-0001"
    assert data["officer"]["status"] == "nominated"
    pages = pdf_pages(out_pdf)
    assert len(pages) >= 2
    for p in pages:
        assert "TEST ENVIRONMENT" in p and "Environment: Test" in p
    text = flat("\n".join(pages))
    doc = json.loads(path.read_text())
    from smki_desktop.services.nomination import get_form

    schema = get_form("sro")
    for page in schema.pages:
        assert flat(page.title) in text
        for f in page.fields:
            assert flat(f.label) in text, f.key
            val = doc.get(page.id, {}).get(f.id)
            if isinstance(val, str) and val and f.type not in ("choice",):
                assert flat(val) in text, f.key
    assert "Director" in text and "☒" in text
    # the record is stored beside the register's copy of the PDF
    rec = json.loads(Path(data["record"]).read_text())
    assert rec["officer_id"] == "SRO-0001" and rec["environment"] == "test"
    # refusing to overwrite the PDF, and nothing recorded then
    again = write_form(cli_run, tmp_path, "sro", "Carol Example")
    res2 = cli_run("officer", "nominate", "--form", "sro", "--from", str(again), "--pdf",
                   str(out_pdf))
    assert res2.code == 1 and "already exists" in res2.err
    listed = cli_run("--json", "officer", "list").json()
    assert [o["officer_id"] for o in listed["officers"]] == ["SRO-0001"]


def test_rules_refused_with_a_message_naming_the_rule(cli_run, tmp_path, ctx):
    from tests.integration.adt_support import signing_sro

    sro = make_active_sro(cli_run, tmp_path)
    other = signing_sro(ctx, cli_run, tmp_path)
    by_other = ("--as", other[0], "--key", other[1])
    # an ARO nominated by a suspended SRO
    assert cli_run("officer", "suspend", sro, "--reason", "sick leave", *by_other).code == 0
    res = nominate(cli_run, tmp_path, "aro", "Bob Example", nominator__officer_id=sro)
    assert res.code == 1
    assert "Rule: an ARO is nominated by an active SRO" in res.err and "suspended" in res.err
    # a Live ARO nominated by a Test SRO
    assert cli_run("officer", "activate", sro, *by_other).code == 0
    _live_party(cli_run)
    res = nominate(cli_run, tmp_path, "aro", "Bob Example", env="live",
                   nominator__officer_id=sro)
    assert res.code == 1
    assert "same environment" in res.err and "Test SRO" in res.err and "Live" in res.err
    # a Live declaration on a Test nomination
    res = nominate(cli_run, tmp_path, "aro", "Bob Example", environment__environment="live",
                   nominator__officer_id=sro)
    assert res.code == 1 and "Test and Live nominations are separate records" in res.err
    # activation without verification
    ok = nominate(cli_run, tmp_path, "aro", "Bob Example", nominator__officer_id=sro)
    assert ok.code == 0, ok.err
    aro = ok.json()["officer"]["officer_id"]
    res = cli_run("officer", "activate", aro)
    assert res.code == 1
    assert "no completed verification meeting cannot be activated" in res.err
    # invalid email, invalid Party ID: bad input (exit 2) naming the field
    res = nominate(cli_run, tmp_path, "aro", "Dave Example", nominator__officer_id=sro,
                   nominee__email="dave(at)example")
    assert res.code == 2 and "nominee.email" in res.err and "not a valid email" in res.err
    res = nominate(cli_run, tmp_path, "sro", "Erin Example", nominee__party_id="ex en")
    assert res.code == 2 and "nominee.party_id" in res.err and "Party / RDP ID" in res.err
    # an SRO nominating themselves must record it
    res = nominate(cli_run, tmp_path, "aro", "Alice Example", nominator__officer_id=sro)
    assert res.code == 1 and "self-nomination" in res.err
    res = nominate(cli_run, tmp_path, "aro", "Alice Example", nominator__officer_id=sro,
                   nominator__self_nomination=True)
    assert res.code == 0, res.err
    assert res.json()["officer"]["self_nominated"] is True
    # nothing half-written: only the accepted nominations are in the register
    ids = [o["officer_id"] for o in cli_run("--json", "officer", "list").json()["officers"]]
    assert sorted(ids) == ["ARO-0001", "ARO-0002", "SRO-0001", "SRO-0002"]


def test_register_and_readiness_agree_after_a_sequence(cli_run, tmp_path, ctx):
    from smki_desktop.services.keys import generate_key
    from tests.integration.adt_support import officer_signing_key

    s1 = make_active_sro(cli_run, tmp_path, "Alice Example")
    s2 = make_active_sro(cli_run, tmp_path, "Sam Second")
    by_s1 = ("--as", s1, "--key", officer_signing_key(ctx, cli_run, s1))
    arooids = []
    for name in ("Bob Example", "Cath Example", "Dan Example"):
        res = nominate(cli_run, tmp_path, "aro", name, nominator__officer_id=s1)
        assert res.code == 0, res.err
        arooids.append(res.json()["officer"]["officer_id"])
    a1, a2, a3 = arooids
    for a in (a1, a2):
        assert cli_run("officer", "verify", a, "--date", "2026-11-21", "--verifier", "Vera",
                       "--evidence", EVIDENCE).code == 0
        assert cli_run("officer", "activate", a, *by_s1).code == 0
    failed = cli_run("officer", "verify", a3, "--date", "2026-11-21", "--verifier", "Vera",
                     "--evidence", "photo-id")
    assert failed.code == 1 and "GPG45 Level 3" in failed.err
    key = generate_key(ctx, KeyUsage.FILE_SIGNING, "Bob file signing").key
    sro_key = generate_key(ctx, KeyUsage.SIGNING, "Alice token key").key
    assert cli_run("officer", "link-key", a1, key.key_id[:12]).code == 0
    assert cli_run("officer", "link-key", s1, sro_key.key_id[:12]).code == 0
    res = cli_run("officer", "revoke", a1, "--reason", "leaver", *by_s1)
    assert res.code == 0 and "1 credential(s) flagged" in res.out
    assert cli_run("officer", "suspend", s2, "--reason", "secondment", *by_s1).code == 0

    reg = cli_run("--json", "officer", "list").json()
    status = {o["officer_id"]: o["status"] for o in reg["officers"]}
    assert status == {s1: "active", s2: "suspended", a1: "revoked", a2: "active",
                      a3: "nominated"}
    revoked = next(o for o in reg["officers"] if o["officer_id"] == a1)
    assert revoked["credentials"][0]["flagged"] == "revoked: leaver"
    assert revoked["status_reason"] == "leaver"
    row = ctx.db.conn().execute("SELECT flags FROM keys WHERE key_id=?", (key.key_id,)).fetchone()
    assert "officer-revoked" in row["flags"]
    cover = [w["message"] for w in reg["warnings"] if w["code"] == "cover"]
    assert any("Only 1 active SRO" in m for m in cover)
    assert any("Only 1 active ARO" in m for m in cover)

    ready = cli_run("--json", "readiness")
    assert ready.code == 1
    items = {i["code"]: i for i in ready.json()["checklists"][0]["items"]}
    assert items["sro-active"]["ok"] and "Alice Example" in items["sro-active"]["detail"]
    assert "Sam Second" not in items["sro-active"]["detail"]
    assert items["aro-active"]["ok"] and "Cath Example" in items["aro-active"]["detail"]
    assert not items["test-officers"]["ok"]  # the only ARO with a key was revoked
    assert not items["org-verified"]["ok"] and not items["srept"]["ok"]

    key2 = generate_key(ctx, KeyUsage.FILE_SIGNING, "Cath file signing").key
    assert cli_run("officer", "link-key", a2, key2.key_id).code == 0
    bad = cli_run("readiness", "set", "--srept-passed", "2026-11-10")
    assert bad.code == 2 and "--ref" in bad.err
    assert cli_run("readiness", "set", "--org-verified", "2026-10-01", "--srept-passed",
                   "2026-11-10", "--ref", "SREPT-42", "--type", "organisation").code == 0
    ready = cli_run("--json", "readiness")
    org, dev = ready.json()["checklists"]
    assert org["ready"] is True
    assert dev["ready"] is False
    assert [i["code"] for i in dev["items"] if not i["ok"]] == ["srept"]
    text = cli_run("readiness").out
    assert "next: Pass the SMKI and Repository Entry Process Tests for Device" in text

    # the audit log holds every change
    actions = [r["action"] for r in ctx.db.conn().execute("SELECT action FROM audit_log")]
    for a in ("officer.nominate", "officer.verify", "officer.activate", "officer.revoke",
              "officer.suspend", "officer.link-key", "readiness.set"):
        assert a in actions


def _file_signing_cert(public_key_der: bytes, now: datetime,  # type: ignore[no-untyped-def]
                       register_id: str = ""):
    """A throwaway CA and a file-signing certificate for `public_key_der` (built here, so the
    test depends on no other component's helpers)."""
    from datetime import timedelta

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Officer test CA")])
    root = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
            .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(ca_key, hashes.SHA256()))
    pub = serialization.load_der_public_key(public_key_der)
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name(
                ([x509.NameAttribute(NameOID.SERIAL_NUMBER, register_id)] if register_id else [])
                + [x509.NameAttribute(NameOID.COMMON_NAME, "ARO file")]))
            .issuer_name(ca_name).public_key(pub)  # type: ignore[arg-type]
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(hours=1)).not_valid_after(now + timedelta(days=30))
            .add_extension(x509.KeyUsage(True, True, False, False, False, False, False, False,
                                         False), critical=True)
            .sign(ca_key, hashes.SHA256()))
    return root, cert


def test_aro_record_signed_with_the_nominating_sros_key(cli_run, tmp_path, ctx):
    """An ARO's nomination is the nominating SRO's act: its record is signed with the key
    linked to their entry (checked with openssl against the credential's trust anchor) and
    says who prepared it and who signed it."""
    from cryptography.hazmat.primitives import serialization

    from smki_desktop.services.credentials import record_credential
    from smki_desktop.services.keys import generate_key
    from smki_desktop.services.trust import add_trust_anchor

    sro = make_active_sro(cli_run, tmp_path)
    key = generate_key(ctx, KeyUsage.FILE_SIGNING, "Alice file signing").key
    now = datetime.now(UTC)
    root, cert = _file_signing_cert(key.public_key_der, now, register_id=sro)
    add_trust_anchor(ctx, root.public_bytes(serialization.Encoding.DER), source="test")
    record_credential(ctx, cert, "file-signing", key.key_id, source="test")
    assert cli_run("profile", "set", "--name", "Alice Example", "--role", "sro").code == 0
    assert cli_run("officer", "link-profile", sro).code == 0
    assert cli_run("officer", "link-key", sro, key.key_id).code == 0
    path = write_form(cli_run, tmp_path, "aro", "Bob Example", nominator__officer_id=sro)
    res = cli_run("--json", "officer", "nominate", "--form", "aro", "--from", str(path))
    assert res.code == 0, res.err  # no --as: the nominating SRO's one usable key
    data = res.json()
    assert data["signed_by"] == key.key_id and data["signature"]
    assert data["signed_by_officer"] == sro

    ca = tmp_path / "root.pem"
    ca.write_bytes(root.public_bytes(serialization.Encoding.PEM))
    v = subprocess.run(["openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in",
                        data["signature"], "-content", data["record"], "-CAfile", str(ca),
                        "-purpose", "any", "-out", "/dev/null"], capture_output=True, text=True)
    assert v.returncode == 0, v.stderr
    rec = json.loads(Path(data["record"]).read_text())
    assert rec["filled_by"]["register_id"] == sro and rec["signed_by_officer"] == sro


def _credential_key(ctx, label: str, tmp_path: Path | None = None):  # type: ignore[no-untyped-def]
    """A file-signing key with a valid credential (its own throwaway CA)."""
    from smki_desktop.services.credentials import record_credential
    from smki_desktop.services.keys import generate_key

    key = generate_key(ctx, KeyUsage.FILE_SIGNING, label).key
    _root, cert = _file_signing_cert(key.public_key_der, datetime.now(UTC))
    record_credential(ctx, cert, "file-signing", key.key_id, source="test")
    return key


def test_record_never_signed_with_a_flagged_or_other_officers_key(cli_run, tmp_path, ctx):
    """The filling SRO holds no key: a revoked ARO's key (flag officer-revoked) and an active
    ARO's key are never used; the record is left unsigned with a warning saying why. A key
    nobody holds may sign; one the filling officer holds is preferred."""
    from tests.integration.adt_support import signing_sro

    sro = make_active_sro(cli_run, tmp_path)
    assert cli_run("profile", "set", "--name", "Alice Example", "--role", "sro").code == 0
    assert cli_run("officer", "link-profile", sro).code == 0
    other = signing_sro(ctx, cli_run, tmp_path)
    by_other = ("--as", other[0], "--key", other[1])
    # an ARO form is signed by its nominating SRO (Sid); the forms below are SRO forms, which
    # a Director signs on paper and the filling officer's key signs here
    res = nominate(cli_run, tmp_path, "aro", "Bob Example", nominator__officer_id=other[0],
                   nominator__name="Sid Signer", sro_key=other[1])
    assert res.code == 0, res.err
    bob = res.json()["officer"]["officer_id"]
    assert cli_run("officer", "verify", bob, "--date", "2026-11-21", "--verifier", "Vera",
                   "--evidence", EVIDENCE).code == 0
    assert cli_run("officer", "activate", bob, *by_other).code == 0
    bob_key = _credential_key(ctx, "Bob file signing")
    assert cli_run("officer", "link-key", bob, bob_key.key_id).code == 0
    assert cli_run("officer", "revoke", bob, "--reason", "leaver", *by_other).code == 0

    res = nominate(cli_run, tmp_path, "sro", "Cath Example")
    assert res.code == 0, res.err
    data = res.json()
    assert data["signed_by"] is None and data["signature"] is None
    assert "Record not signed" in res.err and "officer-revoked" in res.err
    assert bob in res.err and "Bob Example" in res.err
    assert data["warnings"] and "officer-revoked" in data["warnings"][0]
    entry = ctx.db.conn().execute("SELECT details FROM audit_log WHERE action='officer.nominate' "
                                  "ORDER BY seq DESC").fetchone()
    assert "officer-revoked" in json.loads(entry["details"])["unsigned_reason"]

    # an active ARO's key is theirs, not the SRO's
    cath = data["officer"]["officer_id"]
    cath_key = _credential_key(ctx, "Cath file signing")
    assert cli_run("officer", "link-key", cath, cath_key.key_id).code == 0
    res = nominate(cli_run, tmp_path, "sro", "Dan Example")
    assert res.code == 0, res.err
    assert res.json()["signed_by"] is None and f"held by {cath}" in res.err

    # a key nobody holds may sign; the filling officer's own key is preferred to it
    spare = _credential_key(ctx, "unassigned file signing")
    res = nominate(cli_run, tmp_path, "sro", "Eve Example")
    assert res.code == 0 and res.json()["signed_by"] == spare.key_id, res.err
    own = _credential_key(ctx, "Alice file signing")
    assert cli_run("officer", "link-key", sro, own.key_id).code == 0
    res = nominate(cli_run, tmp_path, "sro", "Fay Example")
    assert res.code == 0 and res.json()["signed_by"] == own.key_id, res.err
    # the filling SRO suspended: their key is flagged; the record (an SRO nomination) is left
    # unsigned, never signed with the spare key instead
    assert cli_run("officer", "suspend", sro, "--reason", "secondment", *by_other).code == 0
    res = nominate(cli_run, tmp_path, "sro", "Gus Example")
    assert res.code == 0 and res.json()["signed_by"] is None, res.err
    assert "officer-suspended" in res.err and sro in res.err


def test_link_profile_requires_matching_name_and_role(cli_run, tmp_path):
    sro = make_active_sro(cli_run, tmp_path)  # Alice Example
    assert cli_run("profile", "set", "--name", "Bob Other", "--role", "aro").code == 0
    res = cli_run("officer", "link-profile", sro)
    assert res.code == 1
    assert "'Bob Other'" in res.err and "'Alice Example'" in res.err
    assert "role is ARO" in res.err and "SRO" in res.err
    shown = cli_run("profile", "show")
    assert "Register entry: not linked" in shown.out
    assert cli_run("--json", "profile", "show").json()["register"] is None
    assert cli_run("profile", "set", "--name", "alice  example", "--role", "aro").code == 0
    res = cli_run("officer", "link-profile", sro)
    assert res.code == 1 and "role is ARO, the entry's SRO" in res.err
    assert "name is" not in res.err
    assert cli_run("profile", "set", "--name", "Alice Example", "--role", "sro").code == 0
    assert cli_run("officer", "link-profile", sro).code == 0
    shown = cli_run("profile", "show")
    assert f"Register entry: {sro} (Alice Example, active SRO)" in shown.out
    data = cli_run("--json", "profile", "show").json()
    assert data["profile"]["register_id"] == sro and data["register"]["status"] == "active"


def test_verify_then_pdf_shows_the_meeting_record(cli_run, tmp_path):
    sro = make_active_sro(cli_run, tmp_path)
    out = tmp_path / "again.pdf"
    assert cli_run("officer", "pdf", sro, "--out", str(out)).code == 0
    text = flat("\n".join(pdf_pages(out)))
    assert "Vera" in text and "2026-11-21" in text and "Identity verified" in text


def _add_device_history(ctx, now: datetime) -> None:
    """Rows as issue 5's device batches write them: 6 past months of 10 batched CSRs and 2
    ad hoc ones, plus 50 this month (not a complete month: not in the average); and issue 3's
    Organisation CSR requests."""
    from smki_desktop.core.forecast import add_months

    ts = now.isoformat()
    with ctx.db.transaction() as c:
        c.execute("INSERT INTO device_batches(id, environment, name, channel, state, total, "
                  "created, updated) VALUES('b1','test','b1','portal-zip','completed',60,?,?)",
                  (ts, ts))
        n = 0
        for back in range(0, 7):
            y, m = add_months((now.year, now.month), -back)
            created = f"{y:04d}-{m:02d}-15T10:00:00+00:00"
            for i in range(50 if back == 0 else 12):
                n += 1
                batch = "b1" if back == 0 or i < 10 else None
                c.execute("INSERT INTO device_csrs(environment, key_id, batch_id, file_name, "
                          "device_eui, usage, csr, status, created, updated) "
                          "VALUES('test',?,?,?,?,'signing',x'00','issued',?,?)",
                          (f"k{n}", batch, f"f{n}.csr", f"00DB1234567890{n % 256:02X}",
                           created, created))
            # issue 3's Organisation CSRs: 3 a month (plus one row of another family)
            for i in range(3):
                c.execute("INSERT INTO csr_requests(environment, key_id, family, usage, der, "
                          "created) VALUES('test',?,'organisation','signing',x'00',?)",
                          (f"org{back}-{i}", created))
            c.execute("INSERT INTO csr_requests(environment, key_id, family, usage, der, "
                      "created) VALUES('test',?,'client','client-auth',x'00',?)",
                      (f"cli{back}", created))


def test_forecast_history_plans_warning_and_exports(cli_run, tmp_path, ctx):
    now = datetime.now(UTC)
    _add_device_history(ctx, now)
    res = cli_run("--json", "forecast")
    assert res.code == 0, res.err
    data = res.json()
    assert len(data["months"]) == 8
    assert data["averages"] == {"device-single": 2.0, "device-batched": 10.0,
                                "organisation": 3.0}
    assert data["history_sources"] == ["device_csrs", "csr_requests"]
    assert data["months"][3]["device-batched"] == 10 and not data["warnings"]
    y, m = now.year, now.month
    nxt = f"{y + (m // 12)}-{m % 12 + 1:02d}"
    assert data["months"][0]["month"] == nxt
    res = cli_run("--json", "forecast", "plan", nxt, "batched", "5000")
    assert res.code == 0, res.err
    warns = res.json()["warnings"]
    assert warns and warns[0]["category"] == "device-batched"
    assert cli_run("forecast", "plan", "2026-13", "batched", "1").code == 2
    csv_out = tmp_path / "f.csv"
    assert cli_run("forecast", "export", "--out", str(csv_out)).code == 0
    lines = csv_out.read_text().splitlines()
    assert lines[0].startswith("month,device-single") and len(lines) == 9
    assert lines[1].split(",")[2] == "5000"
    pdf_out = tmp_path / "f.pdf"
    assert cli_run("forecast", "export", "--out", str(pdf_out)).code == 0
    pages = pdf_pages(pdf_out)
    assert all("TEST ENVIRONMENT" in p for p in pages)
    assert "5000" in pages[0] and "notify the DCC" in flat("\n".join(pages))
    assert cli_run("forecast", "export", "--out", str(pdf_out)).code == 1  # no overwrite


def _live_party(cli_run) -> None:  # type: ignore[no-untyped-def]
    """Live records no nomination without a Party profile (the template's Party)."""
    assert cli_run("party", "set", "--name", "Example Energy Ltd", "--party-id", "EXEN",
                   "--party-type", "import-supplier", "--eui-range",
                   "90-B3-D5-1F-30-01-00-00..90-B3-D5-1F-30-01-FF-FF", env="live").code == 0


def test_live_nomination_is_a_separate_record_with_live_on_every_page(cli_run, tmp_path):
    test_sro = make_active_sro(cli_run, tmp_path)
    live = nominate(cli_run, tmp_path, "sro", "Alice Example", env="live")
    assert live.code == 1 and "Party profile" in live.err and "Live" in live.err, live.err
    _live_party(cli_run)
    live = nominate(cli_run, tmp_path, "sro", "Alice Example", env="live")
    assert live.code == 0, live.err
    data = live.json()
    assert data["officer"]["environment"] == "live" and data["officer"]["status"] == "nominated"
    pages = pdf_pages(Path(data["pdf"]))
    assert all("LIVE ENVIRONMENT" in p and "Environment: Live" in p for p in pages)
    assert not any("TEST ENVIRONMENT" in p for p in pages)
    # each environment's register holds only its own record
    assert [o["status"] for o in cli_run("--json", "officer", "list").json()["officers"]] == [
        "active"]
    live_list = cli_run("--json", "officer", "list", env="live").json()
    assert [(o["officer_id"], o["environment"]) for o in live_list["officers"]] == [
        ("SRO-0001", "live")]
    assert test_sro == "SRO-0001"


def test_suspension_flags_keys_and_reinstatement_lifts_it(cli_run, tmp_path, ctx):
    from smki_desktop.services.keys import generate_key
    from tests.integration.adt_support import signing_sro

    sro = make_active_sro(cli_run, tmp_path)
    by_other = ("--as", *signing_sro(ctx, cli_run, tmp_path))
    by_other = (by_other[0], by_other[1], "--key", by_other[2])
    key = generate_key(ctx, KeyUsage.SIGNING, "Alice key").key
    assert cli_run("officer", "link-key", sro, key.key_id).code == 0
    assert cli_run("officer", "suspend", sro, "--reason", "sick leave", *by_other).code == 0
    flags = ctx.db.conn().execute("SELECT flags FROM keys WHERE key_id=?",
                                  (key.key_id,)).fetchone()["flags"]
    assert "officer-suspended" in flags
    shown = cli_run("--json", "officer", "show", sro).json()
    assert shown["credentials"][0]["flagged"] == "suspended: sick leave"
    assert cli_run("officer", "activate", sro, *by_other).code == 0
    flags = ctx.db.conn().execute("SELECT flags FROM keys WHERE key_id=?",
                                  (key.key_id,)).fetchone()["flags"]
    assert "officer-suspended" not in flags
    assert cli_run("--json", "officer", "show", sro).json()["credentials"][0]["flagged"] == ""


@pytest.mark.parametrize("form", ["sro", "aro"])
def test_toml_input_accepted(cli_run, tmp_path, form):
    if form == "aro":
        sro = make_active_sro(cli_run, tmp_path)
    toml = cli_run("officer", "template", "--form", form, "--format", "toml").out
    if form == "aro":
        toml = toml.replace('"SRO-0001"', f'"{sro}"').replace("Bob Example", "Zed Example") \
            .replace("bob.example@", "zed.example@")
    p = tmp_path / "in.toml"
    p.write_text(toml)
    signer = ["--as", sro, "--key", str(nominating_sro_key(cli_run, sro))] \
        if form == "aro" else []
    res = cli_run("officer", "nominate", "--form", form, "--from", str(p), *signer)
    assert res.code == 0, res.err


def test_drafts_are_listed_as_draft_and_resume(cli_run, ctx):
    from smki_desktop.core.nomination_wizard import NominationWizard
    from smki_desktop.services import nomination as nom

    wiz = NominationWizard(nom.load_forms(), nom.wizard_defaults(ctx))
    wiz.choose("aro")
    assert wiz.set_value("nominee.name", "Drafty Example") is None
    did = nom.save_draft(ctx, wiz)
    listed = cli_run("--json", "officer", "list").json()
    assert listed["drafts"][0]["draft_id"] == did and listed["drafts"][0]["status"] == "draft"
    assert "Drafty Example" in cli_run("officer", "list").out
    again = nom.resume_draft(ctx, did)
    assert again.values["nominee.name"] == "Drafty Example"
    assert again.values["environment.environment"] == "test"


def test_aro_of_the_pma_nominated_by_its_chair_and_sro_required_otherwise(cli_run, tmp_path):
    res = nominate(cli_run, tmp_path, "aro", "Penny Panel", nominator__capacity="pma-chair",
                   nominator__officer_id="", nominator__name="Chris Chair")
    assert res.code == 0, res.err
    o = res.json()["officer"]
    assert o["nominator_capacity"] == "pma-chair" and o["nominated_by"] is None
    res = nominate(cli_run, tmp_path, "aro", "Sid Nobody", nominator__officer_id="")
    assert res.code == 2 and "nominator.officer_id" in res.err and "required" in res.err


def test_real_process_renders_the_pdf_offscreen(tmp_path, data_root):
    """`python -m smki_desktop.cli` in its own process (no Qt application yet, no display)."""
    import os
    import sys

    env = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "DISPLAY")}
    base = [sys.executable, "-m", "smki_desktop.cli", "--data-dir", str(data_root)]
    tpl = subprocess.run([*base, "officer", "template", "--form", "sro"], env=env,
                         capture_output=True, text=True, timeout=120)
    assert tpl.returncode == 0, tpl.stderr
    src = tmp_path / "sro.json"
    src.write_text(tpl.stdout)
    out = tmp_path / "proc.pdf"
    res = subprocess.run([*base, "--json", "officer", "nominate", "--form", "sro", "--from",
                          str(src), "--pdf", str(out)], env=env, capture_output=True, text=True,
                         timeout=120)
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["officer"]["officer_id"] == "SRO-0001"
    assert all("TEST ENVIRONMENT" in p for p in pdf_pages(out))
