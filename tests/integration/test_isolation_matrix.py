"""Test/Live isolation matrix: every artifact type made in one environment and used in the
other (Test into Live, and the key and data folder the other way too) is refused (exit code
not 0, nothing accepted), with a message naming both
environments. The artifacts are real: keys in the keyring, CSRs, certificates issued by the
simulator's own CA hierarchy (its Test marker policy), a signed ADT file, offline bundles, a
device request zip, an officer register entry, the data folder itself."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from smki_desktop.core.environment import Environment
from smki_desktop.core.errors import SmkiError
from smki_desktop.portal import offline
from smki_desktop.services import adt as adt_service
from smki_desktop.services.context import open_context
from smki_desktop.simulator.ca import Hierarchy, issue_organisation
from tests.integration.adt_support import make_aro
from tests.integration.test_officer_cli import make_active_sro, nominate

RANGE = "90-B3-D5-1F-30-01-00-00..90-B3-D5-1F-30-01-FF-FF"
PARTY = ("party", "set", "--name", "Example Energy", "--party-id", "EXEN", "--party-type",
         "import-supplier", "--eui-range", RANGE)

Outcome = tuple[int, str]  # exit code (1 for a raised SmkiError), message

REF = "O" + "0" * 29 + "1"  # a client reference of the outbox's format


def _names_both(msg: str) -> bool:
    low = msg.lower()
    return "test" in low and "live" in low


@pytest.fixture
def world(cli_run, ctx, tmp_path: Path) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """Artifacts made in Test (and a Live data folder with its Party profile)."""
    out = tmp_path / "made-in-test"
    out.mkdir()
    assert cli_run(*PARTY).code == 0 and cli_run(*PARTY, env="live").code == 0
    assert cli_run("profile", "set", "--name", "Ada Aro", "--role", "aro").code == 0
    assert cli_run("profile", "set", "--name", "Ada Aro", "--role", "aro", env="live").code == 0
    r = cli_run("key", "generate", "--usage", "signing", "--label", "test org", "--json")
    key_id = r.json()["key_id"]
    csr = out / "org.csr"
    r = cli_run("csr", "org", "--key", key_id, "--role", "supplier", "--eui",
                "90-B3-D5-1F-30-01-00-00", "--out", str(csr))
    assert r.code == 0, r.err
    now = datetime.now(UTC)
    sim = Hierarchy.generate(now)  # the simulator's Test hierarchy (marker policy)
    anchor = out / "test-root.pem"
    anchor.write_bytes(sim.root.certificate.public_bytes(serialization.Encoding.PEM))
    cert = issue_organisation(sim.org_ca, x509.load_pem_x509_csr(csr.read_bytes()), now)
    cert_pem = out / "org.pem"
    cert_pem.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    aro = make_aro(ctx, tmp_path / "pki")
    adt = out / "adt.csv"
    adt_service.write_template(ctx, adt)
    adt_service.sign_file(ctx, adt, aro.key.key_id, smsr="SMSR-1")
    bare = out / "bare" / "adt.csv"  # signed, its manifest not carried along
    bare.parent.mkdir()
    shutil.copy(adt, bare)
    shutil.copy(adt.with_name(adt.name + ".p7s"), bare.with_name(bare.name + ".p7s"))
    with ctx.keystore.signer(aro.key.key_id) as s:
        req = offline.write_request_bundle(
            out, Environment.TEST, [offline.BundleEntry(REF, "org-csr", "org-csr", None,
                                                        x509.load_pem_x509_csr(
                                                            csr.read_bytes()).public_bytes(
                                                            serialization.Encoding.DER))],
            s, aro.certificate, now)
    ans = offline.write_answer_bundle(out, Environment.TEST,
                                      [offline.Answer(REF, "done", "7", "ISSUED", None,
                                                      cert.public_bytes(
                                                          serialization.Encoding.DER))], now)
    r = cli_run("devices", "generate-test", "--count", "3", "--out", str(out / "dev"),
                "--format", "zip", "--discard-keys")
    assert r.code == 0, r.err
    r = cli_run("devices", "package", str(next((out / "dev").rglob("*.zip"))), "--out",
                str(out / "package"))
    assert r.code == 0, r.err
    dev_zip = next((out / "package").rglob("*.zip"))  # a portal batch zip, marked Test
    (tmp_path / "sro").mkdir()
    sro = make_active_sro(cli_run, tmp_path / "sro")
    live_key = cli_run("key", "generate", "--usage", "signing", "--label", "live org", "--json",
                       env="live").json()["key_id"]
    return {"key": key_id, "live_key": live_key, "csr": csr, "anchor": anchor, "cert": cert_pem,
            "adt": adt,
            "bare": bare, "aro": aro, "request_bundle": req, "answer_bundle": ans,
            "device_zip": dev_zip, "sro": sro, "tmp": tmp_path}


def _cli(cli_run, *args: str) -> Callable[[], Outcome]:  # type: ignore[no-untyped-def]
    def run() -> Outcome:
        r = cli_run(*args, env="live")
        return r.code, r.err + r.out
    return run


def _cases(cli_run, w: dict, data_root: Path) -> dict[str, Callable[[], Outcome]]:  # type: ignore[no-untyped-def, type-arg]
    s = {k: str(v) for k, v in w.items()}
    aro_key = w["aro"].key.key_id  # type: ignore[attr-defined]

    def nomination() -> Outcome:
        (w["tmp"] / "live-nom").mkdir(exist_ok=True)  # type: ignore[operator]
        r = nominate(cli_run, w["tmp"] / "live-nom", "aro", "Bob Aro", env="live",  # type: ignore[operator]
                     nominator__officer_id=s["sro"], nominator__name="Alice Example")
        return r.code, r.err + r.out

    def data_folder() -> Outcome:
        moved = data_root.parent / "moved-root"
        shutil.copytree(data_root / "test", moved / "live")
        try:
            c = open_context(Environment.LIVE, moved)
            c.close()
            return 0, "opened"
        except SmkiError as exc:
            return 1, exc.message

    def live_key_in_test() -> Outcome:
        r = cli_run("key", "export-public", s["live_key"][:12])
        return r.code, r.err + r.out

    def live_folder_in_test() -> Outcome:
        moved = data_root.parent / "moved-live-root"
        shutil.copytree(data_root / "live", moved / "test")
        try:
            open_context(Environment.TEST, moved).close()
            return 0, "opened"
        except SmkiError as exc:
            return 1, exc.message

    return {
        "Live key used in Test (key export-public)": live_key_in_test,
        "Live data folder opened as Test": live_folder_in_test,
        "trust anchor (cert anchor add)": _cli(cli_run, "cert", "anchor", "add", s["anchor"]),
        "trust anchor (adt anchor add)": _cli(cli_run, "adt", "anchor", "add", s["anchor"]),
        "certificate (cert import)": _cli(cli_run, "cert", "import", s["cert"]),
        "certificate (lint)": _cli(cli_run, "lint", s["cert"]),
        "CSR (portal submit)": _cli(cli_run, "portal", "submit", "--no-send", s["csr"]),
        "key (csr org)": _cli(cli_run, "csr", "org", "--key", s["key"], "--role", "supplier",
                              "--eui", "90-B3-D5-1F-30-01-00-00", "--out",
                              str(w["tmp"] / "live.csr")),  # type: ignore[operator]
        "key (adt sign)": _cli(cli_run, "adt", "sign", s["adt"], "--key", aro_key, "--smsr",
                               "SMSR-2", "--out", str(w["tmp"] / "live.p7s")),  # type: ignore[operator]
        "signed ADT file (adt verify)": _cli(cli_run, "adt", "verify", s["adt"]),
        "signed ADT file without its manifest": _cli(cli_run, "adt", "verify", s["bare"]),
        "offline request bundle (offline-relay)": _cli(
            cli_run, "portal", "offline-relay", s["request_bundle"], "--out",
            str(w["tmp"] / "relay")),  # type: ignore[operator]
        "offline answer bundle (offline-import)": _cli(cli_run, "portal", "offline-import",
                                                       s["answer_bundle"]),
        "device request zip (devices submit)": _cli(cli_run, "devices", "submit",
                                                    s["device_zip"]),
        "nomination record (nominating SRO)": nomination,
        "data folder": data_folder,
    }


def test_isolation_matrix(cli_run, world, data_root: Path) -> None:  # type: ignore[no-untyped-def]
    results = {name: case() for name, case in _cases(cli_run, world, data_root).items()}
    accepted = {n: msg[:300] for n, (code, msg) in results.items() if code == 0}
    unnamed = {n: msg[:300] for n, (code, msg) in results.items()
               if code != 0 and not _names_both(msg)}
    refused = len(results) - len(accepted) - len(unnamed)
    for name, (code, msg) in results.items():
        verdict = "ACCEPTED" if code == 0 else ("refused" if _names_both(msg) else "UNNAMED")
        print(f"  {verdict:8} exit {code}  {name}: {msg.strip().splitlines()[0][:160]}")
    print(f"isolation matrix: {refused} of {len(results)} crossings refused naming both "
          f"environments")
    assert accepted == {}, accepted
    assert unnamed == {}, unnamed
