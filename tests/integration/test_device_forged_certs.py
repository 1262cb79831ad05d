"""Forged Device Certificates (review of the portal client, mode `batch-forge`): a server that
answers with certificates of the CSRs' keys, signed by a look-alike CA (the same issuer name
CN=E357, another key), must not get them filed as "issued, matched and checked". Each
certificate's signature is checked against the Device CA this environment trusts: in a batch
result (`apply_batch_state`), a portal answer (`import_response`) and an ad hoc answer."""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from smki_desktop.core import batch_formats as bf
from smki_desktop.core.portal_ports import IssuedItem
from smki_desktop.crypto.device_cert import check_cert_chunk
from smki_desktop.services import devices, portal
from smki_desktop.services.device_matching import trusted_device_cas
from smki_desktop.services.trust import add_trust_anchor
from smki_desktop.simulator import ca as CA

NOT_OURS = "not signed by the Device CA CN=E357 this environment trusts"


def _row(ctx: Any, key_id: str) -> dict[str, Any]:
    r = ctx.db.conn().execute("SELECT * FROM device_csrs WHERE key_id=?", (key_id,)).fetchone()
    return dict(r)


@pytest.fixture
def trusted(ctx, tmp_path: Path):  # type: ignore[no-untyped-def]
    """Two packaged Device CSRs; the trusted hierarchy (as the simulator's, when it starts)
    and a look-alike of the same names with other keys (the hostile server's)."""
    gen = devices.generate_test(ctx, 2, tmp_path / "gen", discard_keys=True, processes=1)
    devices.package(ctx, gen.out, tmp_path / "out", processes=1)
    rows = [dict(r) for r in ctx.db.conn().execute(
        "SELECT key_id, csr, file_name, batch_id FROM device_csrs ORDER BY file_name")]
    now = datetime.now(UTC)
    real, fake = CA.Hierarchy.generate(now), CA.Hierarchy.generate(now)
    for entry in real.entries():
        add_trust_anchor(ctx, entry.certificate.public_bytes(Encoding.PEM), source="simulator")
    return real, fake, rows


def _issue(h: CA.Hierarchy, csr_der: bytes) -> bytes:
    return CA.issue_device(h.device_ca, x509.load_der_x509_csr(csr_der),
                           datetime.now(UTC)).public_bytes(Encoding.DER)


def test_a_batch_result_signed_by_a_look_alike_ca_is_not_filed_as_issued(  # type: ignore[no-untyped-def]
        ctx, trusted) -> None:
    real, fake, (forged_row, good_row) = trusted
    assert forged_row["batch_id"] == good_row["batch_id"]
    items = [IssuedItem("D" + r["file_name"][: -len(".csr")], "SUCCESS", None,
                        _issue(h, bytes(r["csr"])))
             for r, h in ((forged_row, fake), (good_row, real))]
    res = devices.apply_batch_state(ctx, forged_row["batch_id"], items)
    forged, good = _row(ctx, forged_row["key_id"]), _row(ctx, good_row["key_id"])
    assert good["status"] == "issued", good["detail"]
    assert forged["status"] == "mismatch"
    assert NOT_OURS in forged["detail"]
    assert res.counts == {"issued": 1, "mismatch": 1}
    assert any(NOT_OURS in t for t in res.findings[forged_row["file_name"]])


def test_a_portal_answer_signed_by_a_look_alike_ca_is_not_filed_as_issued(  # type: ignore[no-untyped-def]
        ctx, trusted, tmp_path: Path) -> None:
    _real, fake, (row, _other) = trusted
    stem = row["file_name"][: -len(".csr")]
    report = tmp_path / "REQ9.txt"
    report.write_bytes(bf.build_report("REQ9", [bf.ReportLine("1", row["file_name"],
                                                              bf.ReportStatus.SUCCESS)]))
    resp = tmp_path / bf.response_zip_name("REQ9")
    resp.write_bytes(bf.build_response_zip([(stem, _issue(fake, bytes(row["csr"])))]))
    devices.import_response(ctx, report, resp)
    filed = _row(ctx, row["key_id"])
    assert filed["status"] == "mismatch" and NOT_OURS in filed["detail"]


def test_an_issuer_no_trust_anchor_names_is_an_error_not_a_warning(  # type: ignore[no-untyped-def]
        ctx, trusted) -> None:
    """A forger who picks another issuer name gains nothing: no trusted CA of that name."""
    _real, _fake, (row, _other) = trusted
    other = CA.Hierarchy.generate(datetime.now(UTC), label="Q")  # Device CA CN=Q357
    ((_err, _facts, found),) = check_cert_chunk(
        [_issue(other, bytes(row["csr"]))], ("2.999",), ("CN=E357",), ("*",),
        trusted_device_cas(ctx))
    codes = {c: t for c, t in found}
    assert "issuer CN=Q357 is not a Device CA this environment trusts" in codes["signature"]


class _ForgingPortal:
    """Answers an ad hoc Device CSR as the hostile server does: SUCCESS, the CSR's key, a
    look-alike CA's signature."""

    def __init__(self, h: CA.Hierarchy) -> None:
        self.h = h

    def submit_device_csr(self, client_ref: str, csr_der: bytes) -> IssuedItem:
        return IssuedItem(client_ref, "SUCCESS", None, _issue(self.h, csr_der))


def test_an_ad_hoc_answer_signed_by_a_look_alike_ca_fails_naming_the_cause(  # type: ignore[no-untyped-def]
        ctx, trusted) -> None:
    real, fake, (row, _other) = trusted
    ob = portal.outbox(ctx)
    forged_item = portal.enqueue_adhoc(ctx, bytes(row["csr"]))
    answered = portal._send_one(ctx, ob, _ForgingPortal(fake), forged_item,  # type: ignore[arg-type]
                                "simulator")
    with ctx.audit.change():
        answered()
    after = ob.get(forged_item.ref)
    assert after.state == "failed"
    assert NOT_OURS in (after.last_error or "")
    # the genuine Device CA's answer is done as before
    good_item = portal.enqueue_adhoc(ctx, bytes(_other["csr"]))
    done = portal._send_one(ctx, ob, _ForgingPortal(real), good_item,  # type: ignore[arg-type]
                            "simulator")
    assert isinstance(done, functools.partial)
    with ctx.audit.change():
        done()
    assert ob.get(good_item.ref).state == "done"


def _answers_bundle(ctx: Any, folder: Path, ref: str, cert_der: bytes) -> Path:
    """An answers bundle as the connected machine writes it, for the request bundle exported
    now: the ad hoc request `ref` done, with `cert_der` as its certificate (the relay, an
    active ARO who signs the bundle, does not check whom the certificate came from)."""
    from smki_desktop.portal.offline import Answer
    from smki_desktop.services import portal_offline
    from tests.integration.adt_support import signed_answers

    exported = portal_offline.export_offline(ctx, folder / "requests")
    result = portal._items_xml(ref, "COMPLETED", [IssuedItem(ref, "SUCCESS", None, cert_der)])
    return signed_answers(ctx, folder / "answers", exported,
                          [Answer(ref, "done", None, "SUCCESS", None, result)])


def test_an_ad_hoc_answer_from_an_offline_bundle_is_checked_as_the_web_services_is(  # type: ignore[no-untyped-def]
        ctx, cli_run, trusted, tmp_path: Path) -> None:
    """The air-gapped path: the answer comes back in a bundle instead of over the web
    service. A look-alike CA's certificate fails the request with the same words; the genuine
    Device CA's is done."""
    from smki_desktop.services import portal_offline
    from tests.integration.adt_support import offline_aro

    (tmp_path / "officers").mkdir()
    offline_aro(ctx, cli_run, tmp_path / "officers")  # who signs the bundles

    real, fake, (row, other) = trusted
    ob = portal.outbox(ctx)
    forged_item = portal.enqueue_adhoc(ctx, bytes(row["csr"]))
    bundle = _answers_bundle(ctx, tmp_path / "a", forged_item.ref,
                             _issue(fake, bytes(row["csr"])))
    changed = portal_offline.import_offline(ctx, bundle)
    after = ob.get(forged_item.ref)
    assert [i.ref for i in changed] == [forged_item.ref]
    assert after.state == "failed", after.last_error
    assert after.last_error == (f"The answer to ad hoc request {forged_item.ref} carries a "
                                "certificate that was not filed: " + NOT_OURS + ": a CA of the "
                                "same name but another key issued it (a forgery). Report it to "
                                "the DCC Service Desk.")
    good_item = portal.enqueue_adhoc(ctx, bytes(other["csr"]))
    portal_offline.import_offline(ctx, _answers_bundle(ctx, tmp_path / "b", good_item.ref,
                                                       _issue(real, bytes(other["csr"]))))
    assert ob.get(good_item.ref).state == "done"
