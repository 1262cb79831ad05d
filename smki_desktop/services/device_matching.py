"""Device CSR <-> Device certificate matching, below both the Devices flow and certificate
import, so that issuance flows one way (devices -> portal -> certificates -> here).

A certificate matches the Device CSR with its key (the key id of the devices flow: SHA-256 of
the named-curve, uncompressed-point SPKI); it is then checked against that CSR (key, EUI,
usage) and the environment's device profile. A severe finding makes it a `mismatch` of its
CSR. Also here: the DCC error codes in words and the words for each row status, since a filed
row's detail is written from them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from smki_desktop.core.portal_ports import IssuedItem
from smki_desktop.crypto.device_cert import (
    WARNING_CODES,
    DeviceCertFacts,
    Finding,
    check_cert_chunk,
    csr_findings,
    signature_findings,
)
from smki_desktop.profile_data import load_profile, override_path
from smki_desktop.resources_path import resource
from smki_desktop.services.context import AppContext
from smki_desktop.services.trust import trust_anchors
from smki_desktop.store.repos import devices as repo

STATUS_WORDS = {
    "packaged": "packaged, not yet submitted",
    "pending": "submitted, waiting for the DCC",
    "issued": "certificate issued, matched and checked",
    "error": "refused by the DCC",
    "anomaly": "held by the DCC as an issuance anomaly",
    "ineligible": "ineligible",
    "mismatch": "certificate does not match its CSR: reject it",
}

SEVERE_CODES = frozenset({"key-mismatch", "san", "key-usage", "key", "signature"})
"""Findings that make a certificate a `mismatch` of its CSR (reject it at once)."""


# --- the device profile of this environment ----------------------------------------------------


def hw_types(ctx: AppContext) -> list[str]:
    """The hwType OIDs accepted in this environment (profile data, possibly overridden)."""
    prof = load_profile(ctx.env, override_path(ctx.paths.env_dir, ctx.env))
    return sorted(prof.hw_type_oids)


def device_profile(ctx: AppContext) -> tuple[list[str], list[str], list[str]]:
    """(hwType OIDs, device policy OIDs, Device CA names) of this environment."""
    prof = load_profile(ctx.env, override_path(ctx.paths.env_dir, ctx.env))
    return sorted(prof.hw_type_oids), sorted(prof.device_policy_oids), list(prof.device_ca_names)


def trusted_device_cas(ctx: AppContext) -> tuple[bytes, ...]:
    """The CA certificates (DER) a Device Certificate of this environment may be signed by:
    its trust anchors that are CA certificates (in Test the simulator's CAs, added when it
    starts; otherwise the DCC's Device CA certificates the user added). A certificate is
    filed as issued only when one of these of its issuer's name verifies its signature."""
    out = []
    for cert in trust_anchors(ctx):
        try:
            bc = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
            if not bc.ca:
                continue
        except x509.ExtensionNotFound:
            pass  # a v1 or self-issued root: add_trust_anchor took it as a CA
        except ValueError:
            continue
        out.append(cert.public_bytes(serialization.Encoding.DER))
    return tuple(out)


def untrusted_signature(ctx: AppContext, cert_der: bytes) -> str | None:
    """Why a Device Certificate from the DCC's answer was not issued by a Device CA this
    environment trusts, or None when one of them signed it (or it is not a certificate at
    all: the caller's own parsing reports that)."""
    try:
        cert = x509.load_der_x509_certificate(cert_der)
    except ValueError:
        return None
    found = signature_findings(cert, trusted_device_cas(ctx))
    return found[0][1] if found else None


def untrusted_adhoc_answer(ctx: AppContext, ref: str, items: Iterable[IssuedItem]
                           ) -> str | None:
    """Why the answer to ad hoc request `ref` must not be taken as done: a certificate in it
    was not issued by a Device CA this environment trusts (`untrusted_signature`). None when
    every certificate in it was. The one check and the one message for both ways an answer
    comes back: the web service's answer (`portal._send_one`) and an offline answers bundle
    (`portal_offline.import_offline`)."""
    for item in items:
        forged = (untrusted_signature(ctx, item.certificate_der)
                  if item.certificate_der is not None else None)
        if forged is not None:  # the key matched the CSR's; the signer must be the DCC too
            return (f"The answer to ad hoc request {ref} carries a certificate that was not "
                    f"filed: {forged}. Report it to the DCC Service Desk.")
    return None


# --- words -------------------------------------------------------------------------------------


def explain_error(code: str | None) -> str:
    """The DCC error code in words (codes listed in resources/devices/error_codes.json)."""
    if not code:
        return ""
    table = _error_table()
    if code in table:
        return f"{code}: {table[code]}"
    prefix = code.split(":", 1)[0]
    if prefix + ":*" in table:
        return f"{code}: {table[prefix + ':*']}"
    return f"{code}: an error code this version does not know; ask the DCC Service Desk"


_ERROR_TABLE: dict[str, str] | None = None


def _error_table() -> dict[str, str]:
    global _ERROR_TABLE
    if _ERROR_TABLE is None:
        try:
            doc = json.loads(resource("devices", "error_codes.json").read_text("utf-8"))
            _ERROR_TABLE = {str(k): str(v) for k, v in doc.get("codes", {}).items()}
        except (OSError, ValueError):
            _ERROR_TABLE = {}
    return _ERROR_TABLE


def detail(status: str, code: str | None, found: Sequence[Finding]) -> str:
    """The words filed with a row's outcome."""
    if status == "mismatch":
        return "; ".join(t for _, t in found)
    if code:
        return explain_error(code)
    errors = [t for c, t in found if c not in WARNING_CODES]
    warns = [t for c, t in found if c in WARNING_CODES]
    if errors:
        return "issued with findings: " + "; ".join(errors + warns)
    if warns:
        return STATUS_WORDS[status] + " (warning: " + "; ".join(warns) + ")"
    return STATUS_WORDS.get(status, status)


# --- the verdict on one certificate ------------------------------------------------------------


def verdict(facts: DeviceCertFacts, profile_found: list[Finding], *, csr_key_id: str,
            csr_eui_hex: str, csr_usage: str, status: str) -> tuple[str, list[Finding]]:
    """The certificate against its CSR (key, EUI, usage) plus the profile findings:
    `mismatch` when any is severe, else `status` (what the DCC said)."""
    found = [*csr_findings(facts, csr_key_id=csr_key_id, csr_eui=bytes.fromhex(csr_eui_hex),
                           csr_usage=csr_usage),
             *profile_found]
    return ("mismatch" if any(code in SEVERE_CODES for code, _ in found) else status), found


def result_update(status: str, code: str | None, found: list[Finding], cert_der: bytes | None,
                  serial_hex: str | None, issuer: str | None, now: str, env: str,
                  key_id: str) -> repo.ResultUpdate:
    """How one CSR's outcome is filed."""
    return repo.ResultUpdate(status, code, detail(status, code, found), cert_der, serial_hex,
                             issuer, json.dumps(found) if cert_der is not None else None, now,
                             env, key_id)


# --- one certificate from elsewhere (`smki cert import`, the Certificates page) ---------------


@dataclass(frozen=True)
class DeviceCsrMatch:
    """The Device CSR row whose key a certificate has, and the Devices flow's verdict on it."""

    environment: str
    key_id: str
    batch_id: str | None
    file_name: str
    device_eui: str
    usage: str
    status: str
    csr: bytes
    certificate: bytes | None
    cert_serial: str | None
    verdict: str  # issued | mismatch
    findings: list[Finding]
    serial_hex: str
    issuer: str

    @property
    def severe(self) -> list[str]:
        return [t for code, t in self.findings if code in SEVERE_CODES]


def match_device_csr(ctx: AppContext, cert_der: bytes) -> DeviceCsrMatch | None:
    """The Device CSR with this certificate's key, checked as `collect`/`import-response` check
    it. None when no Device CSR here has the key. The row may be of another environment: the
    caller refuses it."""
    hw, policies, ca_names = device_profile(ctx)
    ((_error, facts, profile_found),) = check_cert_chunk(
        [cert_der], tuple(policies), tuple(ca_names), tuple(hw))
    if facts is None or not facts[0]:
        return None
    row = repo.find_by_key(ctx.db, facts[0], ctx.env.value)
    if row is None:
        return None
    dfacts = DeviceCertFacts(*facts)
    outcome, found = verdict(dfacts, profile_found, csr_key_id=row.key_id,
                             csr_eui_hex=row.device_eui, csr_usage=row.usage, status="issued")
    return DeviceCsrMatch(
        row.environment, row.key_id, row.batch_id, row.file_name, row.device_eui, row.usage,
        row.status, row.csr, row.certificate, row.cert_serial, outcome, found,
        dfacts.serial_hex, dfacts.issuer)


def file_device_certificate(tx: repo.Tx, m: DeviceCsrMatch, cert_der: bytes,
                            status: str, reasons: Sequence[str], now: str,
                            replaces: bytes | None = None) -> bool:
    """File a certificate imported on its own against its Device CSR row, in the caller's
    transaction, as `collect` files a DCC result: `issued` or `mismatch` with the same columns
    and batch bookkeeping. `status` is `issued` or `mismatch`; `reasons` are the importer's
    own findings (added to the row's detail on a mismatch). A row that already holds this
    certificate with this status is left as it is; one that holds another certificate is never
    overwritten, unless it is `replaces`: the certificate this one supersedes (same issuer and
    serial, not signed under a trust anchor: services/cert_supersede.py). Returns whether the
    row changed."""
    if m.certificate is not None and m.certificate != replaces and (
            m.certificate != cert_der or m.status == status):
        return False
    found = list(m.findings)
    if status == "mismatch":
        found += [("cert-import", r) for r in reasons if ("cert-import", r) not in found]
    repo.file_results(tx, [result_update(status, None, found, cert_der, m.serial_hex, m.issuer,
                                         now, m.environment, m.key_id)])
    if m.batch_id:
        repo.settle_batches(tx, [m.batch_id], now)
    return True
