"""The nomination's checks of single answers against this installation, per field: the
environment the form declares, dates that have not happened yet, the nominee's Party. The
nomination (services/nomination.py) applies them to the whole form; a wizard applies them to one
page when the officer leaves it, each problem named by its field's label. Also the keys the
nominating SRO could sign an ARO's record with here, and internal field keys put into words.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Mapping

from smki_desktop.core.errors import Refusal
from smki_desktop.core.forms import FieldError, FormSchema, Value
from smki_desktop.core.officers import OfficerRole, OfficerStatus, check_environment
from smki_desktop.services import crossing, identity
from smki_desktop.services.context import AppContext
from smki_desktop.services.officers import find_officer

# the dates a nomination form records as already past, and how a message names them
PAST_DATES = {"nominator.date": "the nomination date", "screening.date": "the screening date"}
ENVIRONMENT_KEY = "environment.environment"
PARTY_KEY = "nominee.party_id"
NOMINATOR_KEY = "nominator.officer_id"


def _text(value: Value | None) -> str:
    return value.strip() if isinstance(value, str) else ""


def date_problem(key: str, text: str, today: _dt.date) -> str:
    """'' or why a date of `PAST_DATES` is refused (not a date is the form's own check)."""
    if key not in PAST_DATES or not text:
        return ""
    try:
        day = _dt.date.fromisoformat(text)
    except ValueError:
        return ""
    if day > today:
        return (f"{text} is in the future (today is {today}); {PAST_DATES[key]} must already "
                "have happened.")
    return ""


def party_problem(ctx: AppContext, nominee_party: str) -> str:
    """'' or why the nominee's Party ID is refused: not this installation's Party. In Live,
    without a Party profile, the nomination itself is refused (Refusal)."""
    party = crossing.require_party(ctx, "Nomination")
    if party is not None and nominee_party and nominee_party != party.party_id:
        return (f"{nominee_party!r} is not this installation's Party ({party.party_id}, "
                f"{party.name}): nominate officers of your own Party.")
    return ""


def environment_problem(ctx: AppContext, declared: str) -> str:
    if not declared:
        return ""
    try:
        check_environment(ctx.env, declared)
    except Refusal as exc:
        return exc.message
    return ""


def field_problem(ctx: AppContext, key: str, value: Value | None) -> str:
    """'' or what is wrong with one answer in this installation (the form's own checks of
    type, pattern and required-ness are the schema's, `FormSchema.validate_page`)."""
    text = _text(value)
    if key in PAST_DATES:
        return date_problem(key, text, ctx.clock.now().date())
    if key == PARTY_KEY:
        return party_problem(ctx, text)
    if key == ENVIRONMENT_KEY:
        return environment_problem(ctx, text)
    return ""


def same_name(a: str, b: str) -> bool:
    return " ".join(a.lower().split()) == " ".join(b.lower().split())


def nominator_problems(ctx: AppContext, values: Mapping[str, Value]) -> dict[str, str]:
    """The nominating SRO's answers against this environment's register (an ARO's form
    nominated by an SRO): the register ID an active SRO's, the name theirs. The nomination
    applies the same rules when it is produced, with those that need other pages."""
    ref = _text(values.get(NOMINATOR_KEY))
    if not ref or _text(values.get("nominator.capacity")) not in ("", "sro"):
        return {}
    sro = find_officer(ctx, ref)
    if sro is None:
        return {NOMINATOR_KEY: f"{ref} is not in the {ctx.env.label} officer register."}
    out: dict[str, str] = {}
    if sro.role is not OfficerRole.SRO:
        out[NOMINATOR_KEY] = (f"{sro.name} ({sro.officer_id}) is an {sro.role.label}; an ARO "
                              "is nominated by an active SRO.")
    elif sro.status is not OfficerStatus.ACTIVE:
        out[NOMINATOR_KEY] = (f"{sro.name} ({sro.officer_id}) is {sro.status.value}; an ARO "
                              "is nominated by an active SRO.")
    name = _text(values.get("nominator.name"))
    if name and not same_name(sro.name, name):
        out["nominator.name"] = (f"{name!r} does not match the register entry "
                                 f"{sro.officer_id} ({sro.name}).")
    return out


def page_problems(ctx: AppContext, schema: FormSchema, page_id: str,
                  values: Mapping[str, Value]) -> list[FieldError]:
    """Every problem `field_problem` finds on one page, and the nominating SRO's answers
    (`nominator_problems`) on theirs, each with its field's label. Reads the store (the Party
    profile, the register): run it off the GUI thread."""
    out: list[FieldError] = []
    fields = schema.page(page_id).fields
    keys = {f.key for f in fields}
    nominator = (nominator_problems(ctx, values)
                 if schema.role == OfficerRole.ARO.value and NOMINATOR_KEY in keys else {})
    for f in fields:
        why = field_problem(ctx, f.key, values.get(f.key)) or nominator.get(f.key, "")
        if why:
            out.append(FieldError(f.key, f.label, why))
    return out


def sro_signing_choices(ctx: AppContext, values: Mapping[str, Value]
                        ) -> list[identity.SigningChoice]:
    """The (officer, key) pairs the form's nominating SRO could sign an ARO's record with
    here: their linked keys with a valid file-signing credential naming them. Empty where no
    register officer signs (an SRO's form, an ARO nominated by a Chair) or the SRO is not in
    this register."""
    ref = _text(values.get("nominator.officer_id"))
    if not ref or _text(values.get("nominator.capacity")) not in ("", "sro"):
        return []
    sro = find_officer(ctx, ref)
    if sro is None:
        return []
    usable = set(identity.usable_keys(ctx, sro))
    return [c for c in identity.signing_choices(ctx)
            if c.officer_id == sro.officer_id and c.key_id in usable]


def with_labels(schema: FormSchema, text: str) -> str:
    """A message with the form's internal field keys (`screening.date`, also as
    `screening.date (Screening completed on)`) put as the fields' labels."""
    fields = sorted(schema.fields(), key=lambda f: len(f.key), reverse=True)
    for f in fields:
        text = text.replace(f"{f.key} ({f.label})", f.label)
    for f in fields:
        text = re.sub(rf"(?<![\w.]){re.escape(f.key)}(?!\w|\.\w)",
                      f.label.replace("\\", "\\\\"), text)
    return text
