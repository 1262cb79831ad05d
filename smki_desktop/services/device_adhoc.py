"""One Device CSR sent on its own (ad hoc, outside a batch): checked against the device
profile first (device EUI, usage, every lint finding named), then queued in the portal outbox
and sent at once. Both faces call `check` then `submit`."""

from __future__ import annotations

from dataclasses import dataclass

from smki_desktop.core.errors import InputError, Refusal
from smki_desktop.crypto.der import to_der
from smki_desktop.crypto.fields import extract_fields
from smki_desktop.crypto.lint import lint_bytes
from smki_desktop.portal.outbox import OutboxItem
from smki_desktop.services import crossing
from smki_desktop.services import portal as portal_service
from smki_desktop.services.context import AppContext
from smki_desktop.services.csr import profile_for


@dataclass(frozen=True)
class AdhocCheck:
    der: bytes
    device_eui: str
    usage: str
    findings: tuple[str, ...]  # empty when the CSR meets the profile

    @property
    def ok(self) -> bool:
        return not self.findings


@dataclass(frozen=True)
class AdhocSent:
    item: OutboxItem

    def as_dict(self) -> dict[str, object]:
        return {"ref": self.item.ref, "state": self.item.state,
                "status": self.item.server_status, "error": self.item.last_error}


def check(ctx: AppContext, data: bytes, what: str = "Device CSR") -> AdhocCheck:
    der = to_der(data, what)
    f = extract_fields(der, what)
    if f.kind != "csr" or f.family != "device":
        raise InputError(f"{what}: not a Device CSR (this is a {f.family} {f.kind}).")
    crossing.refuse_foreign_device_csr(ctx, der, what)
    report = lint_bytes(der, profile_for(ctx), what)
    return AdhocCheck(der, str(f.device_eui) if f.device_eui else "—",
                      f.usage.value if f.usage else "—",
                      tuple(f"{x.rule_id}: {x.message}" for x in report.findings if x.is_error))


def submit(ctx: AppContext, data: bytes, source: str = "") -> AdhocSent:
    c = check(ctx, data)
    if not c.ok:
        raise Refusal("The Device CSR fails the device profile, so it is not sent: "
                      + "; ".join(c.findings))
    item = portal_service.enqueue_adhoc(ctx, c.der, {"source": source})
    sent = portal_service.send_pending(ctx, refs=[item.ref])
    return AdhocSent(sent[0] if sent else portal_service.outbox(ctx).get(item.ref))
