"""Checking a key ceremony before it runs, and the facts of the machine it runs on: read the
ceremony file (bounded), check it against this environment and the Party profile
(`check_ceremony`), compare a CSR's subject with the plan's key entry
(`csr_plan_differences`, used by the run and by `ceremony verify`), list the network
interfaces that are up and name the software (the facts step records both)."""

from __future__ import annotations

import contextlib
import hashlib
import platform
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import smki_desktop
from smki_desktop.core.ceremony import (
    CeremonyPlan,
    parse_ceremony,
)
from smki_desktop.core.environment import require_same
from smki_desktop.core.errors import InputError, Refusal, SmkiError
from smki_desktop.core.eui import Eui64
from smki_desktop.core.officers import OfficerStatus, same_person
from smki_desktop.crypto.csr import OrgCsrRequest
from smki_desktop.crypto.fields import ProfileFields
from smki_desktop.services.ceremony_identity import (
    officer_identity,
    require_named_officer,
)
from smki_desktop.services.context import AppContext
from smki_desktop.services.csr import profile_for
from smki_desktop.services.officers import list_officers

MAX_FILE = 256 * 1024


# -- check -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class CheckedCeremony:
    plan: CeremonyPlan
    text: str
    file_sha256: str
    path: Path
    warnings: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return dict(self.plan.as_dict(), file=str(self.path), file_sha256=self.file_sha256,
                    warnings=list(self.warnings), ok=True)


def read_ceremony_file(path: Path) -> tuple[str, bytes]:
    try:
        with open(path, "rb") as fh:  # never more than the limit (a device, a huge file)
            data = fh.read(MAX_FILE + 1)
    except OSError as exc:
        raise InputError(f"Ceremony file {path}: cannot be read ({exc.strerror or exc}).") \
            from None
    if len(data) > MAX_FILE:
        raise InputError(f"Ceremony file {path}: larger than {MAX_FILE // 1024} KiB.")
    try:
        return data.decode("utf-8"), data
    except UnicodeDecodeError:
        raise InputError(f"Ceremony file {path}: not UTF-8 text.") from None


def check_ceremony(ctx: AppContext, path: Path) -> CheckedCeremony:
    """Static checks (no token, nothing made): schema, the file's environment is this one,
    every key's role, usage and EUI allowed by the profile and the Party profile."""
    text, data = read_ceremony_file(path)
    plan = parse_ceremony(text, str(path), base_dir=path.resolve().parent)
    require_same(ctx.env, plan.environment, f"The ceremony file {path.name}")
    party = ctx.party()
    if party is None:
        raise Refusal("No Party profile is set in this environment, so the ceremony's roles and "
                      "EUIs cannot be checked. Set it first.", hint="party.set")
    profile = profile_for(ctx)
    for k in plan.keys:
        try:
            OrgCsrRequest(k.role, k.eui, k.usage, k.cn).check(profile, party.party_type.value)
            party.require_own_eui(k.eui, "EUI")
        except SmkiError as exc:
            raise type(exc)(f"Ceremony file {path}: key {k.name!r}: {exc.message}") from None
    warnings = register_warnings(ctx, plan)
    try:
        require_named_officer(officer_identity(ctx, plan.administrator_key or None,
                                               plan.administrator),
                              plan.administrator, "administrator")
    except SmkiError as exc:
        warnings.append(f"The run will refuse to start: {exc.message}")
    return CheckedCeremony(plan, text, hashlib.sha256(data).hexdigest(), path,
                           tuple(warnings))


def register_warnings(ctx: AppContext, plan: CeremonyPlan) -> list[str]:
    """The administrator and witnesses the plan names who are not active officers of this
    environment's register (by name, as `ceremony_identity` finds the administrator's key):
    said before the ceremony day, when it is still time to nominate, activate or name someone
    else. A warning, not a refusal: a witness may be someone the register does not hold."""
    officers = list_officers(ctx)
    out: list[str] = []
    for role, name in [("administrator", plan.administrator),
                       *(("witness", w) for w in plan.witnesses)]:
        entries = [o for o in officers if same_person(o.name, "", name, "")]
        if any(o.status is OfficerStatus.ACTIVE for o in entries):
            continue
        if entries:
            standing = ", ".join(f"{o.officer_id} is {o.status.value}" for o in entries)
            out.append(f"The {role} {name!r} named in the plan is not an active officer of the "
                       f"{ctx.env.label} register ({standing}).")
        else:
            out.append(f"The {role} {name!r} named in the plan is not in the {ctx.env.label} "
                       "officer register: no active officer of this environment by that name.")
    return out


def csr_plan_differences(fields: ProfileFields, key: dict[str, Any]) -> list[str]:
    """How a CSR's subject differs from the plan's key entry (a `CeremonyKey.as_dict()`):
    one phrase per differing field (role, EUI, CN, usage); empty when they all agree."""
    out: list[str] = []
    if fields.ou != key.get("ou"):
        out.append(f"role (OU {fields.ou or 'missing'}; the plan says {key.get('role')}, "
                   f"OU {key.get('ou')})")
    try:
        plan_eui: Eui64 | None = Eui64.parse(str(key.get("eui")), "EUI")
    except InputError:
        plan_eui = None
    if fields.eui is None or fields.eui != plan_eui:
        out.append(f"EUI ({fields.eui or 'missing'}; the plan says {key.get('eui')})")
    if (fields.cn or None) != (key.get("cn") or None):
        out.append(f"CN ({fields.cn or 'none'}; the plan says {key.get('cn') or 'none'})")
    if fields.usage is None or fields.usage.value != key.get("usage"):
        out.append(f"usage ({fields.usage.value if fields.usage else 'missing'}; the plan "
                   f"says {key.get('usage')})")
    return out


def network_interfaces_up(sys_net: Path = Path("/sys/class/net")) -> list[str]:
    """Interfaces other than loopback that are up (Linux: /sys/class/net)."""
    up: list[str] = []
    if sys_net.is_dir():
        for d in sorted(sys_net.iterdir()):
            if d.name == "lo":
                continue
            try:
                state = (d / "operstate").read_text().strip()
                flags = int((d / "flags").read_text().strip(), 16)
            except (OSError, ValueError):
                continue
            if state == "up" or (state == "unknown" and flags & 1):
                up.append(d.name)
        return up
    with contextlib.suppress(OSError):
        for _i, name in socket.if_nameindex():
            if not name.startswith("lo"):
                up.append(name)
    return up


def software_identity() -> dict[str, str]:
    """Version and a SHA-256 over the application's own source files (sorted by path)."""
    root = Path(smki_desktop.__file__).parent
    h = hashlib.sha256()
    for p in sorted(root.rglob("*.py")):
        h.update(str(p.relative_to(root)).encode() + b"\0")
        h.update(hashlib.sha256(p.read_bytes()).digest())
    return {"version": smki_desktop.__version__, "source_sha256": h.hexdigest(),
            "python": platform.python_version()}


