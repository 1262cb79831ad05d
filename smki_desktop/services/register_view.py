"""The officer register as the faces show it: every entry, and every warning about it — the
register's own rules (services/officers `register_warnings`), the log entries replay ignored,
and the entries whose stored nomination is not the one recorded (services/form_record)."""

from __future__ import annotations

from smki_desktop.core.officers import Policy, Warning, register_warnings
from smki_desktop.services.context import AppContext
from smki_desktop.services.form_record import stored_form_problems
from smki_desktop.services.officers import Register, ignored_changes, list_officers, load_policy


def register(ctx: AppContext, policy: Policy | None = None) -> Register:
    officers = list_officers(ctx)
    today = ctx.clock.now().date()
    warnings = register_warnings(officers, ctx.env, today, policy or load_policy())
    # entries of the log that changed no one's standing are said, never silently dropped
    warnings += [Warning("ignored-change", p) for p in ignored_changes(ctx)]
    # a stored nomination rewritten in the database (the form would not be printed from it)
    warnings += [Warning("stored-form", p, oid)
                 for oid, p in stored_form_problems(ctx, officers).items()]
    return Register(ctx.env, officers, warnings)
