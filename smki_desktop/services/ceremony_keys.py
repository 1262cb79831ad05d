"""Which key a resumed ceremony step may adopt: the key the interrupted step itself made. A key
found under the ceremony's label (in this environment's records, or on the token with no
record) is adopted only if it has the plan's usage, is on the plan's store, and this
environment's audit log shows this ceremony making it after the step first started; and never
if the other environment made or holds it (a token both environments use). Labels name the
environment (`core.ceremony.key_label`), so another environment's ceremony key does not match
in the first place; the check here also covers a key relabelled on the token.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from smki_desktop.core.ceremony import CeremonyKey
from smki_desktop.core.keys import KeyInfo, KeyLocation
from smki_desktop.services import crossing
from smki_desktop.services.context import AppContext


def made_here_problem(ctx: AppContext, ceremony_id: str, label: str, key_id: str,
                      started: datetime | None, when: Callable[[str], datetime | None]) -> str:
    """Why the audit log does not show key `key_id` made by this ceremony's step (its
    `key.generate` record names this ceremony and label, dated after the step first started),
    or "" when it does."""
    records = [e for e in ctx.audit.entries(action_prefix="key.generate")
               if e.action == "key.generate" and e.details.get("key_id") == key_id]
    ours = [e for e in records if e.details.get("ceremony") == ceremony_id
            and e.details.get("label") == label]
    if not ours:
        return ("the audit log does not record it being made by this ceremony"
                + (" (it was made outside it)" if records else
                   " (no record of it being made here: restored, imported or relabelled)"))
    made = when(ours[-1].ts)
    if started is None or made is None or made < started:
        return (f"it was made on {ours[-1].ts[:19]}, before this step started "
                f"(audit record {ours[-1].seq})")
    return ""


def store_problems(k: CeremonyKey, info: KeyInfo, token_label: str) -> list[str]:
    """How `info` differs from the plan's key: its usage, its store (the token, non-exportable;
    or the key store)."""
    problems: list[str] = []
    if info.usage is not k.usage:
        problems.append(f"its usage is {info.usage.value}; the plan says {k.usage.value}")
    if k.store == "token":
        if info.location is not KeyLocation.PKCS11:
            problems.append(f"it is in the {info.location.value} key store; the plan says "
                            "on the token")
        else:
            if "non-exportable" not in info.flags:
                problems.append("it is exportable; the plan's token keys are not")
            token = info.location_ref.split("|", 1)[0]
            if token_label and token != token_label:
                problems.append(f"it is on token {token!r}; the plan says {token_label!r}")
    elif info.location is not KeyLocation.OS_KEYRING:
        problems.append(f"it is on a token ({info.location.value}); the plan says the key "
                        "store")
    return problems


def refuse_other_environments_key(ctx: AppContext, key_id: str, step_id: str,
                                  label: str) -> None:
    """Before a key found under the ceremony's label is recorded or adopted: refuse (naming
    both environments) one the other environment made or holds."""
    crossing.refuse_key_the_other_environment_made(
        ctx, key_id, f"Step {step_id}: the key labelled {label!r}, not adopted:")
