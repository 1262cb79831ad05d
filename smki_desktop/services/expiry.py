"""Expiry watch: the certificates and credentials of this environment that expire within a
window (default 90 days; a per-environment setting) and those already expired, soonest first.
Certificates that failed the acceptance check or are not ours are left out (nobody relies on
them). Both faces call `expiry_report` (the Dashboard and the command line's expiry command).

Someone who can write the database but not use the OS keyring (the threat of services/audit.py)
must not be able to silence a warning. So nothing the report relies on is taken from a table
alone: a certificate's or a credential's notAfter is read from its DER (a credential's is the
DCC's signed word), and only a certificate DER whose SHA-256 is the artifact of a vouched
`cert.import`/`cert.recheck` record of that certificate is trusted
(`AuditLog.vouched`); its status (to be rejected, unmatched, superseded) is the last record's,
and it is left out as rejected only when a vouched `cert.reject` record names that DER. A
certificate no vouched record vouches for is still listed, with a problem line saying so. The
window is the one the last `settings.expiry-window` record set, when the log proves that
record; else the default.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from smki_desktop.core.errors import InputError
from smki_desktop.services.context import AppContext
from smki_desktop.store.repos.expiry import Validity, validity_rows

if TYPE_CHECKING:  # the Dashboard's expiry table imports this module at start
    from smki_desktop.core.audit import AuditEntry

SETTING = "expiry.window_days"
SETTING_ACTION = "settings.expiry-window"
DEFAULT_DAYS = 90
IGNORED = ("to-be-rejected", "unmatched", "rejected", "superseded")
# each names its cert_id; artifact: the DER. A `cert.supersede` record's certificate left the
# store for the genuine one with its issuer and serial (services/cert_supersede.py).
CERT_ACTIONS = ("cert.import", "cert.recheck", "cert.supersede")
REJECT_ACTION = "cert.reject"  # artifact: the DER rejected


@dataclass(frozen=True)
class Expiring:
    item: Validity
    not_after: datetime
    days_left: int  # negative when expired

    @property
    def expired(self) -> bool:
        return self.days_left < 0

    def as_dict(self) -> dict[str, object]:
        return {"kind": self.item.kind, "serial": self.item.serial,
                "subject": self.item.subject, "usage": self.item.usage,
                "key_id": self.item.key_id, "not_after": self.not_after.isoformat(),
                "days_left": self.days_left, "expired": self.expired}


@dataclass(frozen=True)
class ExpiryReport:
    window_days: int
    expiring: tuple[Expiring, ...]  # within the window, not yet expired
    expired: tuple[Expiring, ...]
    # what the audit log does not vouch for (a stored certificate or window setting), in words
    problems: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, object]:
        return {"window_days": self.window_days,
                "expiring": [e.as_dict() for e in self.expiring],
                "expired": [e.as_dict() for e in self.expired],
                "problems": list(self.problems)}


def by_month(report: ExpiryReport, now: datetime, months: int = 12) -> list[tuple[str, int]]:
    """How many of the report's items expire in each of the next `months` calendar months
    (the current one first), for the chart beside the figures."""
    counts: dict[str, int] = {}
    y, m = now.year, now.month
    keys = []
    for i in range(months):
        yy, mm = y + (m - 1 + i) // 12, (m - 1 + i) % 12 + 1
        keys.append(f"{yy:04d}-{mm:02d}")
    for e in report.expiring:
        k = f"{e.not_after.year:04d}-{e.not_after.month:02d}"
        counts[k] = counts.get(k, 0) + 1
    return [(k, counts.get(k, 0)) for k in keys]


def _days(value: object) -> int | None:
    try:
        days = int(str(value))
    except ValueError:
        return None
    return days if 1 <= days <= 3650 else None


def _stored(value: str | None) -> str:
    """The stored window setting, in words."""
    if value is None:
        return "none"
    return f"{value} day" if value.strip() == "1" else f"{value} days"


def window_setting(ctx: AppContext) -> tuple[int, str | None]:
    """The expiry window in days and, when the stored setting is not the one the audit log
    vouches for, why (the window used then is said). The window is the one the last
    `settings.expiry-window` record set, when the log proves that record (`last_record`);
    otherwise the default: the stored value alone could have been written by anyone who can
    write the database."""
    from smki_desktop.services.vouched import last_record

    stored = ctx.setting(SETTING)
    last = last_record(ctx.audit, SETTING_ACTION)
    if last is None:
        if stored is None or _days(stored) == DEFAULT_DAYS:
            return DEFAULT_DAYS, None
        return DEFAULT_DAYS, (f"The stored expiry window ({_stored(stored)}) has no audit record "
                              f"that set it: the default, {DEFAULT_DAYS} days, is used.")
    if last.problem is not None:
        return DEFAULT_DAYS, (f"The stored expiry window ({_stored(stored)}) is not "
                              f"vouched for: {last.problem}. The default, {DEFAULT_DAYS} days, "
                              "is used.")
    days = _days(last.details.get("days"))
    if days is None:
        return DEFAULT_DAYS, (f"Audit record {last.seq} sets no readable expiry window: the "
                              f"default, {DEFAULT_DAYS} days, is used.")
    if stored is None or _days(stored) != days:
        return days, (f"The stored expiry window ({_stored(stored)}) differs from the "
                      f"one last set (audit record {last.seq}): {days} days are used.")
    return days, None


def window_days(ctx: AppContext) -> int:
    """The expiry window in days (see `window_setting`)."""
    return window_setting(ctx)[0]


def set_window_days(ctx: AppContext, days: int) -> AuditEntry:
    if not 1 <= days <= 3650:
        raise InputError(f"Expiry window: {days} days; give 1 to 3650 days.",
                         hint="field.expiry-days")
    with ctx.audit.change():  # the setting and its record: one transaction
        ctx.set_setting(SETTING, str(days))
        return ctx.audit.record("settings.expiry-window", {"days": days})


@dataclass(frozen=True)
class _Vouched:
    """The vouched certificate records of this environment's audit log, by certificate."""

    by_cert: dict[int, list[AuditEntry]]  # cert_id -> its import/recheck records, in order
    rejected: frozenset[str]  # SHA-256 of each certificate DER a vouched record rejected
    cut: str | None = None  # why the log vouches for nothing (`AuditLog.vouched_or_cut`)

    @classmethod
    def read(cls, ctx: AppContext) -> _Vouched:
        """One read of the records (`AuditLog.vouched`: one query; kept while the log's last
        row is the same), not a verification of the whole log."""
        by_cert: dict[int, list[AuditEntry]] = {}
        rejected: set[str] = set()
        found, cut = ctx.audit.vouched_or_cut((*CERT_ACTIONS, REJECT_ACTION))
        for e in found:
            digest = str(e.artifacts.get("certificate", "")).lower()
            if e.action == REJECT_ACTION:
                rejected.add(digest)
                continue
            try:
                cert_id = int(str(e.details.get("cert_id")))
            except ValueError:
                continue
            by_cert.setdefault(cert_id, []).append(e)
        return cls(by_cert, frozenset(rejected), cut)


def _not_after(der: bytes) -> datetime | None:
    from cryptography import x509

    try:
        return x509.load_der_x509_certificate(der).not_valid_after_utc
    except ValueError:
        return None


@dataclass(frozen=True)
class _StoredCredential:
    purpose: str
    issuer: str
    serial: str
    der: bytes
    key_id: str


def _credential_problem(ctx: AppContext, v: Validity) -> str | None:
    """Why a credential row would be refused when used (services/credential_vouch.py): its
    certificate is not the one its proven import record holds."""
    from cryptography import x509

    from smki_desktop.services.credential_vouch import listing_problem

    der = v.der or b""
    issuer = x509.load_der_x509_certificate(der).issuer.rfc4514_string()
    return listing_problem(ctx, _StoredCredential(v.usage.removesuffix(" credential"),
                                                  issuer, v.serial, der, v.key_id))


def _certificate(v: Validity, vouched: _Vouched, problems: list[str]
                 ) -> tuple[datetime | None, bool]:
    """The certificate's notAfter (from its DER) and whether it is listed (False: it is
    rejected, to be rejected or not ours, as a vouched record says). A DER no vouched record
    of the certificate vouches for is listed, with a problem line."""
    from smki_desktop.core.audit import artifact_digest

    der = v.der or b""
    digest = artifact_digest(der)
    na = _not_after(der)
    unreadable = "" if na is not None else " (and it cannot be read as a certificate)"
    if digest in vouched.rejected:
        return na, False
    records = vouched.by_cert.get(v.cert_id or 0, [])
    if any(str(e.artifacts.get("certificate", "")).lower() == digest for e in records):
        if na is None:  # a DER the app read at import: cannot happen unless hashes collide
            problems.append(f"The stored certificate {v.serial} cannot be read.")
            return None, True
        status = str(records[-1].details.get("status", ""))
        return na, status not in IGNORED
    if records:
        first = next((e for e in records if e.action == "cert.import"), records[0])
        problems.append(f"The stored certificate {v.serial} differs from the one imported "
                        f"(audit record {first.seq}){unreadable}: it is listed here whatever "
                        "its status.")
    else:
        problems.append(f"The stored certificate {v.serial} has no audit record for it (it "
                        f"was not imported through SMKI Desktop, or its record was "
                        f"removed){unreadable}: it is listed here whatever its status.")
    return na, True


def _missing(vouched: _Vouched, stored: set[int], problems: list[str]) -> None:
    """A certificate the log says was imported whose row is gone: its warning would be gone
    with it, so say so."""
    for cert_id, records in vouched.by_cert.items():
        last = records[-1]
        if cert_id in stored or str(last.details.get("status", "")) in IGNORED:
            continue
        if str(last.artifacts.get("certificate", "")).lower() in vouched.rejected:
            continue
        problems.append(f"The certificate {last.details.get('serial', '?')} imported (audit "
                        f"record {records[0].seq}) is no longer in the store: its expiry "
                        "cannot be watched.")


def expiry_report(ctx: AppContext, days: int | None = None) -> ExpiryReport:
    problems: list[str] = []
    if days is None:
        window, why = window_setting(ctx)
        if why is not None:
            problems.append(why)
    else:
        window = days
    if window < 1:
        raise InputError(f"Expiry window: {window} days; give at least 1.",
                         hint="field.expiry-days")
    now = ctx.clock.now()
    soon: list[Expiring] = []
    gone: list[Expiring] = []
    vouched = _Vouched.read(ctx)
    if vouched.cut is not None:  # said first: the lines about single certificates follow from it
        problems.append(f"The certificates' audit records cannot be proven: {vouched.cut}.")
    stored: set[int] = set()
    for v in validity_rows(ctx.db, ctx.env.value):
        if v.kind == "certificate":
            stored.add(v.cert_id or 0)
            found, listed = _certificate(v, vouched, problems)
            if found is None or not listed:
                continue
            na = found
        else:  # a credential: its own certificate's notAfter, never the column beside it
            credential_na = _not_after(v.der or b"")
            if credential_na is None:
                problems.append(f"The stored {v.usage} {v.serial} cannot be read as a "
                                "certificate: its expiry cannot be watched.")
                continue
            why = _credential_problem(ctx, v)
            if why is not None:  # its certificate is not the imported one: no date from it
                problems.append(why)
                continue
            na = credential_na
        left = (na - now).total_seconds() / 86400
        e = Expiring(v, na, int(left) if left >= 0 else -1 - int(-left))
        if na <= now:
            gone.append(e)
        elif left <= window:
            soon.append(e)
    soon.sort(key=lambda e: e.not_after)
    gone.sort(key=lambda e: e.not_after, reverse=True)
    _missing(vouched, stored, problems)
    return ExpiryReport(window, tuple(soon), tuple(gone), tuple(problems))
