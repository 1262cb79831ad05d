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
What the batch rules count can change between that check and the queueing (another workstation
on the team store, or another process on the data folder, sending the same CSR), so the batch
rules are checked once more inside the transaction that queues the request, under the store's
write lock (`_queue`); the sending itself (network) comes after that transaction.

Each finding is kept twice: `findings` as "code: reason" (the CLI's --json contract, scripted
against) and `reasons` as sentences in plain words (what the GUI shows).
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
    reasons: tuple[str, ...] = ()  # the findings in plain words, one sentence each

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
    """Check, queue and send one Device CSR; a Refusal naming each finding when it fails the
    device profile or the batch rules (then nothing is queued)."""
    res = try_submit(ctx, data, source)
    if isinstance(res, AdhocCheck):
        raise Refusal(refusal_text(res))
    return res


def try_submit(ctx: AppContext, data: bytes, source: str = "") -> AdhocSent | AdhocCheck:
    """As `submit`, but a CSR that fails the device profile or the batch rules (checked again
    as it is queued) comes back as its failed check, nothing queued, for the face to show.
    The other environment's CSR and a missing Party profile (Live) are still refused."""
    c = check_to_send(ctx, data, source or "Device CSR")
    if not c.ok:
        return c
    queued = _queue(ctx, c, source)
    if isinstance(queued, AdhocCheck):
        return queued
    # the network, after the transaction: the request is queued whatever the portal does
    sent = portal_service.send_pending(ctx, refs=[queued.ref])
    return AdhocSent(sent[0] if sent else portal_service.outbox(ctx).get(queued.ref))


def refusal_text(c: AdhocCheck) -> str:
    """The refusal of a CSR that fails a check, naming each finding (code and reason)."""
    return f"The Device CSR fails {c.failed}, so it is not sent: " + "; ".join(c.findings)


def _queue(ctx: AppContext, c: AdhocCheck, source: str) -> OutboxItem | AdhocCheck:
    """Queue the request in one transaction with a last check of the batch rules: the store's
    write lock (`ctx.audit.change`) is held from that check to the outbox row, so two
    workstations (or processes) sending the same CSR at once cannot both queue it; the one that
    comes second gets the failed check back, naming the request the first queued."""
    with ctx.audit.change():
        rejected = _batch_rules(ctx, c.der, source or "Device CSR")
        if rejected:
            return _failed_check(c.der, c.device_eui, c.usage, rejected, BATCH_RULES)
        # joins this transaction (a nested change): the check and the row commit together
        return portal_service.enqueue_adhoc(ctx, c.der, {"source": source})


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
    errors = [(x.rule_id, x.message) for x in report.findings if x.is_error]
    if errors:
        return _failed_check(der, eui, usage, errors, PROFILE)
    rejected = _batch_rules(ctx, der, what)
    if rejected:
        return _failed_check(der, eui, usage, rejected, BATCH_RULES)
    return AdhocCheck(der, eui, usage, ())


def _failed_check(der: bytes, eui: str, usage: str, found: list[tuple[str, str]],
                  failed: str) -> AdhocCheck:
    """A check that fails `failed`, with each (code, reason) as "code: reason" and in plain
    words."""
    return AdhocCheck(der, eui, usage, tuple(f"{code}: {reason}" for code, reason in found),
                      failed, tuple(plain_reason(code, reason) for code, reason in found))


def plain_reason(code: str, reason: str) -> str:
    """One finding as a sentence a person reads, without its rule code: "duplicate-key: the
    same key as batch 3 (d0.csr)" becomes "It has the same key as batch 3 (d0.csr)."
    """
    text = reason.strip().rstrip(".")
    if code == "duplicate-key" and text.startswith("the same key"):
        text = "it has " + text
    if not text:
        return "It fails an unnamed rule."
    first = text.split(" ", 1)[0]
    if first.islower():  # a name such as "hwType" keeps its letters
        text = text[:1].upper() + text[1:]
    return text + "."


def _batch_rules(ctx: AppContext, der: bytes, what: str) -> list[tuple[str, str]]:
    """The batch rules for this CSR as a batch of one, against the keys, devices and pending
    pairs the store holds (as a batch's validation counts them) and the earlier ad hoc
    requests that have not failed; each finding as (code, reason)."""
    hw = hw_types(ctx)
    keys, counts, pairs = known_keys(ctx)  # the earlier ad hoc requests included
    assessment = batch.assess([batch.SourceEntry(what, "", der)],
                              [dc.check_device_csr(der, hw)],
                              device_ranges=device_ranges(ctx), known_keys=keys,
                              known_counts=counts, known_pairs=pairs)
    return [(r.code, r.reason) for r in assessment.rejected]
