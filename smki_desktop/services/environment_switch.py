"""Switching between the Test and Live environments: the switch is recorded in the audit log of
the environment switched TO (so that each log shows when work moved into it). The GUI's File >
Switch environment calls this once the other environment's context is open; the CLI has no
switch (each command names its environment)."""

from __future__ import annotations

from smki_desktop.core.audit import AuditEntry
from smki_desktop.core.environment import Environment
from smki_desktop.core.errors import InputError
from smki_desktop.services.context import AppContext


def record_switch(ctx: AppContext, previous: Environment) -> AuditEntry:
    """Audit `environment.switch` from `previous` into `ctx`'s environment."""
    if previous is ctx.env:
        raise InputError(f"Environment switch: already in the {ctx.env.label} environment.")
    return ctx.audit.record("environment.switch", {"from": previous.value, "to": ctx.env.value})
