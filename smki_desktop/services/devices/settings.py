"""The Devices settings: the optional allowed device ranges (party profile, else a setting)."""

from __future__ import annotations

from collections.abc import Sequence

from smki_desktop.core.audit import AuditEntry
from smki_desktop.core.eui import EuiRange
from smki_desktop.services.context import AppContext


def device_ranges(ctx: AppContext) -> list[EuiRange]:
    """The optional allowed device ranges: the party profile's `device_ranges`, else the
    `devices.allowed_ranges` setting (comma-separated FIRST..LAST)."""
    party = ctx.party()
    if party is not None and party.device_ranges:
        return list(party.device_ranges)
    text = ctx.setting("devices.allowed_ranges") or ""
    return [EuiRange.parse(t, "allowed device range") for t in text.split(",") if t.strip()]


def set_device_ranges(ctx: AppContext, ranges: Sequence[str]) -> AuditEntry:
    parsed = [EuiRange.parse(r, "allowed device range") for r in ranges]
    with ctx.audit.change():  # the setting and its record: one transaction
        ctx.set_setting("devices.allowed_ranges", ",".join(str(r) for r in parsed))
        return ctx.audit.record("devices.settings",
                                {"allowed_ranges": [str(r) for r in parsed]})
