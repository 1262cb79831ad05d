"""One Device CSR sent on its own (ad hoc, outside a batch): checked against the device
profile (device EUI, usage, every lint finding named), then against the same batch rules a
batch goes through, as a batch of one (`core/device_batch.assess`: allowed device ranges, a
key already known, the same device and usage already waiting, 100 per device), counting what
the store holds and the earlier ad hoc requests of the outbox that have not failed
(`services/devices/validation.known_keys`, which a batch's validation counts too); then
queued in the portal outbox and sent at once.

`check` is the check alone (`smki devices adhoc --check-only`). `check_to_send` is what the
faces call before they queue or send, and `submit` calls it again: a CSR of the other
environment is named as such first, then the Party profile Live requires, then the full check.
"""

from __future__ import annotations

from dataclasses import dataclass

from smki_desktop.core import device_batch as batch
from smki_desktop.core.errors import InputError, Refusal
from smki_desktop.crypto import device_csr as dc
from smki_desktop.crypto.der import to_der
from smki_desktop.crypto.fields import ProfileFields, extract_fields
from smki_desktop.crypto.lint import lint_bytes
from smki_desktop.portal.outbox import OutboxItem
from smki_desktop.services import crossing
from smki_desktop.services import portal as portal_service
from smki_desktop.services.context import AppContext
from smki_desktop.services.csr import profile_for
from smki_desktop.services.device_matching import hw_types
from smki_desktop.services.devices.settings import device_ranges
from smki_desktop.services.devices.validation import known_keys

PROFILE = "the device profile"
BATCH_RULES = "the batch rules"
# earlier ad hoc requests that count: all but the failed ones; those still on their way to a
# certificate also hold their (device, usage) pair, as a pending batch CSR does


@dataclass(frozen=True)
class AdhocCheck:
    der: bytes
    device_eui: str
    usage: str
    findings: tuple[str, ...]  # empty when the CSR meets the profile and the batch rules
    failed: str | None = None  # what it fails: PROFILE or BATCH_RULES; None when it passes

    @property
    def ok(self) -> bool:
        return not self.findings

    def as_dict(self) -> dict[str, object]:
        return {"device_eui": self.device_eui, "usage": self.usage, "ok": self.ok,
                "failed": self.failed, "findings": list(self.findings)}


@dataclass(frozen=True)
class AdhocSent:
    item: OutboxItem

    def as_dict(self) -> dict[str, object]:
        return {"ref": self.item.ref, "state": self.item.state,
                "status": self.item.server_status, "error": self.item.last_error}


def check(ctx: AppContext, data: bytes, what: str = "Device CSR") -> AdhocCheck:
    """The device profile, then the batch rules (nothing is sent; no Party is required)."""
    der, f = _device_csr(ctx, data, what)
    return _full_check(ctx, der, f, what)


def check_to_send(ctx: AppContext, data: bytes, what: str = "Device CSR") -> AdhocCheck:
    """What must hold before a Device CSR is queued or sent on its own: it is not the other
    environment's (refused naming both), the Party profile is set (Live), then `check`."""
    der, f = _device_csr(ctx, data, what)
    crossing.require_party(ctx, "Ad hoc Device CSR")
    return _full_check(ctx, der, f, what)


def submit(ctx: AppContext, data: bytes, source: str = "") -> AdhocSent:
    c = check_to_send(ctx, data, source or "Device CSR")
    if not c.ok:
        raise Refusal(f"The Device CSR fails {c.failed}, so it is not sent: "
                      + "; ".join(c.findings))
    item = portal_service.enqueue_adhoc(ctx, c.der, {"source": source})
    sent = portal_service.send_pending(ctx, refs=[item.ref])
    return AdhocSent(sent[0] if sent else portal_service.outbox(ctx).get(item.ref))


def _device_csr(ctx: AppContext, data: bytes, what: str) -> tuple[bytes, ProfileFields]:
    """The DER and fields of a Device CSR of this environment (else InputError, or
    EnvironmentMismatch naming both environments)."""
    der = to_der(data, what)
    f = extract_fields(der, what)
    if f.kind != "csr" or f.family != "device":
        raise InputError(f"{what}: not a Device CSR (this is a {f.family} {f.kind}).")
    crossing.refuse_foreign_device_csr(ctx, der, what)
    return der, f


def _full_check(ctx: AppContext, der: bytes, f: ProfileFields, what: str) -> AdhocCheck:
    eui = str(f.device_eui) if f.device_eui else "—"
    usage = f.usage.value if f.usage else "—"
    report = lint_bytes(der, profile_for(ctx), what)
    findings = tuple(f"{x.rule_id}: {x.message}" for x in report.findings if x.is_error)
    if findings:
        return AdhocCheck(der, eui, usage, findings, PROFILE)
    findings = _batch_rules(ctx, der, what)
    return AdhocCheck(der, eui, usage, findings, BATCH_RULES if findings else None)


def _batch_rules(ctx: AppContext, der: bytes, what: str) -> tuple[str, ...]:
    """The batch rules for this CSR as a batch of one, against the keys, devices and pending
    pairs the store holds (as a batch's validation counts them) and the earlier ad hoc
    requests that have not failed; each finding as "code: reason"."""
    hw = hw_types(ctx)
    keys, counts, pairs = known_keys(ctx)  # the earlier ad hoc requests included
    assessment = batch.assess([batch.SourceEntry(what, "", der)],
                              [dc.check_device_csr(der, hw)],
                              device_ranges=device_ranges(ctx), known_keys=keys,
                              known_counts=counts, known_pairs=pairs)
    return tuple(f"{r.code}: {r.reason}" for r in assessment.rejected)
