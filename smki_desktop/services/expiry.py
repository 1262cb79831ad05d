"""Expiry watch: the certificates and credentials of this environment that expire within a
window (default 90 days; a per-environment setting) and those already expired, soonest first.
Certificates that failed the acceptance check or are not ours are left out (nobody relies on
them). Both faces call `expiry_report` (the Dashboard and `smki expiry`)."""

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
DEFAULT_DAYS = 90
IGNORED = ("to-be-rejected", "unmatched", "rejected")


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

    def as_dict(self) -> dict[str, object]:
        return {"window_days": self.window_days,
                "expiring": [e.as_dict() for e in self.expiring],
                "expired": [e.as_dict() for e in self.expired]}


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


def window_days(ctx: AppContext) -> int:
    try:
        return max(1, int(ctx.setting(SETTING) or DEFAULT_DAYS))
    except ValueError:
        return DEFAULT_DAYS


def set_window_days(ctx: AppContext, days: int) -> AuditEntry:
    if not 1 <= days <= 3650:
        raise InputError(f"Expiry window: {days} days; give 1 to 3650 days.",
                         hint="field.expiry-days")
    with ctx.audit.change():  # the setting and its record: one transaction
        ctx.set_setting(SETTING, str(days))
        return ctx.audit.record("settings.expiry-window", {"days": days})


def expiry_report(ctx: AppContext, days: int | None = None) -> ExpiryReport:
    window = window_days(ctx) if days is None else days
    if window < 1:
        raise InputError(f"Expiry window: {window} days; give at least 1.",
                         hint="field.expiry-days")
    now = ctx.clock.now()
    soon: list[Expiring] = []
    gone: list[Expiring] = []
    for v in validity_rows(ctx.db, ctx.env.value):
        if v.status in IGNORED:
            continue
        try:
            na = datetime.fromisoformat(v.not_after)
        except ValueError:
            continue
        left = (na - now).total_seconds() / 86400
        e = Expiring(v, na, int(left) if left >= 0 else -1 - int(-left))
        if na <= now:
            gone.append(e)
        elif left <= window:
            soon.append(e)
    soon.sort(key=lambda e: e.not_after)
    gone.sort(key=lambda e: e.not_after, reverse=True)
    return ExpiryReport(window, tuple(soon), tuple(gone))
