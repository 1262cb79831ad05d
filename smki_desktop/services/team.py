"""Team mode: connect this workstation to a shared PostgreSQL team store, initialise it for one
environment and Party, report its state, and disconnect.

Both faces call these. The link (address, this workstation's installation id) is a local file
in the environment's folder; the password is kept in the OS keyring, never in a file. Private
keys and their wrapping keys stay local whatever the store: the shared `keys` table holds only
public halves and where each key is held (location, reference, fingerprint).

A team store is initialised for one environment: the `environment` setting (the same stamp a
local database carries) is written by `init`, and a context of the other environment refuses
it naming both. `init` also records the Party, when this workstation has a Party profile.
"""

from __future__ import annotations

import secrets
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from smki_desktop.core.environment import Environment
from smki_desktop.core.errors import (
    EnvironmentMismatch,
    Refusal,
    StoreUnreachable,
    TeamStoreNotReached,
)
from smki_desktop.core.ports import Clock, SystemClock
from smki_desktop.core.team_url import parse_team_url
from smki_desktop.keystores.secrets import OsSecrets
from smki_desktop.portal.outbox import Outbox
from smki_desktop.portal.ws_client import Endpoint
from smki_desktop.services import move_records, outbox_vouched, portal_endpoint
from smki_desktop.services.audit import AuditLog
from smki_desktop.services.context import (
    UNKNOWN_ACTOR,
    AppContext,
    EnvPaths,
    audit_folder,
    default_data_root,
    open_context,
)
from smki_desktop.services.trust import fingerprints_vouched_by
from smki_desktop.store import team_copy, team_link
from smki_desktop.store.atomic import atomic_output, check_output
from smki_desktop.store.db import Database, StoreError
from smki_desktop.store.repos import endpoints as endpoints_repo
from smki_desktop.store.repos import settings as settings_repo
from smki_desktop.store.repos import team as team_repo
from smki_desktop.store.team_link import TeamLink


@dataclass
class TeamStatus:
    connected: bool
    url: str = ""
    where: str = ""
    tls: bool = False
    reachable: bool = False
    initialised: bool = False
    environment: str = ""
    party_id: str = ""
    installation_id: str = ""
    initialised_at: str = ""
    schema: dict[str, int] = field(default_factory=dict)
    error: str = ""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _env_dir(env: Environment, data_root: Path | None) -> Path:
    return EnvPaths.for_env(data_root or default_data_root(), env).env_dir


def password_of(link: TeamLink, env: Environment) -> str | None:
    """The team store's password from the OS keyring (None for a trusted local socket)."""
    return OsSecrets(env).get_optional(link.secret_name)


def connect(ctx: AppContext, url: str, password: str | None = None) -> TeamStatus:
    """Link this workstation (ctx's environment) to the team store at `url`.

    The server is reached first (TLS verified unless on the loopback interface); a store
    initialised for the other environment is refused now, naming both. The password goes to the
    OS keyring; the link file holds no secret. Audited in this workstation's own log."""
    if ctx.team is not None:
        raise Refusal(f"This workstation is already connected to the team store "
                      f"{ctx.team.address.display} in {ctx.env.value}: disconnect it first.")
    address, in_url = parse_team_url(url, ctx.env)
    password = password if password is not None else in_url
    link = TeamLink(address.text(), secrets.token_hex(16), ctx.clock.now().isoformat())
    try:
        store = team_link.open_store(link, password, ctx.paths.env_dir, migrate=False)
        try:
            found = team_repo.read_state(store)
        finally:
            store.close()
    except StoreUnreachable as exc:
        # not linked yet: nothing is refused, this workstation's own database goes on
        cause = (getattr(exc, "cause", "") or exc.message).rstrip(".")
        raise TeamStoreNotReached(
            f"The team store at {address.display} cannot be reached: {cause}. Nothing was "
            "changed: this workstation keeps using its own database.") from exc
    if found.environment and found.environment != ctx.env.value:
        raise EnvironmentMismatch(
            f"The team store {address.display} is initialised for the {found.environment} "
            f"environment, not {ctx.env.value}: connect {ctx.env.value} to its own store.")
    if password:
        OsSecrets(ctx.env).set(link.secret_name, password)
    ctx.audit.record("team.connect", {"url": link.url, "tls": address.tls_required,
                                      "installation_id": link.installation_id,
                                      "initialised": bool(found.environment)})
    team_link.save(ctx.paths.env_dir, link)
    return status(ctx.env, ctx.paths.root)


def init(env: Environment, data_root: Path | None = None, *,
         clock: Clock | None = None) -> TeamStatus:
    """Create the schema in the linked team store and record its environment and Party.

    Idempotent for the same environment and Party; refused for another environment (both
    named) or another Party. The first record of the team's audit log says who initialised it.
    """
    env_dir = _env_dir(env, data_root)
    link = _require_link(env, env_dir)
    party = team_repo.local_party_id(EnvPaths.for_env(data_root or default_data_root(), env))
    clock = clock or SystemClock()
    now = clock.now().isoformat()
    store = team_link.open_store(link, password_of(link, env), env_dir, migrate=False)
    try:
        before = team_repo.read_state(store)
        _refuse_foreign(link, before, env, party, "Nothing was changed.")
        store.migrate()
        # the store's facts and the record saying who initialised it: one transaction
        log = AuditLog(team_link.as_database(store), OsSecrets(env), env, clock,
                       lambda: UNKNOWN_ACTOR, link.installation_id, audit_folder(
                           EnvPaths.for_env(data_root or default_data_root(), env), True))
        with log.change():
            if team_repo.initialise(store, env.value, party or "", link.installation_id, now):
                log.record("team.init", {"url": link.url, "environment": env.value,
                                         "party_id": party or ""})
    finally:
        store.close()
    return status(env, data_root)


def status(env: Environment, data_root: Path | None = None) -> TeamStatus:
    """Is this workstation linked, is the store reachable, and for what is it initialised.
    Never raises for an unreachable store: that is what it reports."""
    env_dir = _env_dir(env, data_root)
    link = team_link.load(env_dir)
    if link is None:
        return TeamStatus(connected=False)
    address = link.address
    st = TeamStatus(connected=True, url=link.url, where=address.display,
                    tls=address.tls_required, installation_id=link.installation_id)
    try:
        store = team_link.open_store(link, password_of(link, env), env_dir, migrate=False)
        try:
            found = team_repo.read_state(store)
            st.schema = store.applied()
        finally:
            store.close()
    except StoreError as exc:
        st.error = str(exc)
        return st
    st.reachable = True
    st.initialised = bool(found.environment)
    st.environment = found.environment
    st.party_id = found.party_id
    st.initialised_at = found.initialised_at
    return st


def disconnect(env: Environment, data_root: Path | None = None, *,
               clock: Clock | None = None) -> TeamStatus:
    """Remove this workstation's link and its password from the keyring; the team store and
    its contents are left as they are (it need not be reachable). Recorded in this
    workstation's own log, which it uses again from now on."""
    env_dir = _env_dir(env, data_root)
    link = _require_link(env, env_dir)
    team_link.remove(env_dir)
    OsSecrets(env).delete(link.secret_name)
    ctx = open_context(env, data_root, clock=clock)
    try:
        ctx.audit.record("team.disconnect", {"url": link.url,
                                             "installation_id": link.installation_id})
    finally:
        ctx.close()
    return TeamStatus(connected=False)


@dataclass
class MoveReport:
    """What `migrate_from_local` or `export` copied: rows per table, and for a move in the rows
    that stayed on the workstation (its own audit log and writer)."""

    store: str
    tables: dict[str, int]
    rows: int
    kept_local: dict[str, int] = field(default_factory=dict)
    party_id: str = ""
    out: str = ""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def migrate_from_local(env: Environment, data_root: Path | None = None, *,
                       clock: Clock | None = None) -> MoveReport:
    """Copy this workstation's own database (this environment) into the linked team store,
    which must be initialised for this environment and hold nothing yet. Refused, nothing
    copied, if the store is for the other environment, belongs to another Party (both named),
    or holds data. One transaction, with its record in the team's audit log; every table
    counted again before it commits. The local audit log stays here, anchored in this
    workstation's keyring; the record carries a reference to it (installation, writer key,
    length, head, whether it verified), which this workstation's verify checks from then on
    (docs/team-audit.md)."""
    root = data_root or default_data_root()
    paths = EnvPaths.for_env(root, env)
    link = _require_link(env, paths.env_dir)
    if not paths.db_path.is_file():
        raise Refusal(f"There is no local database to copy in {env.value} ({paths.db_path}). "
                      "Nothing was copied.")
    local_env = team_copy.local_environment(paths.db_path)
    if local_env and local_env != env.value:
        raise EnvironmentMismatch(f"The local database {paths.db_path} belongs to the "
                                  f"{local_env} environment, not {env.value}. Nothing was "
                                  "copied.")
    party = team_repo.local_party_id(paths) or ""
    store = team_link.open_store(link, password_of(link, env), paths.env_dir, migrate=False)
    try:
        found = team_repo.read_state(store)
        if not found.environment:
            raise Refusal(f"The team store {link.address.display} is not initialised: "
                          f"initialise it for {env.value} first. Nothing was copied.")
        _refuse_foreign(link, found, env, party, "Nothing was copied.")
        store.migrate()
    finally:
        store.close()
    local_log = _local_log_reference(env, paths, clock or SystemClock())
    anchors = _local_vouched_anchors(env, paths, clock or SystemClock())
    endpoint = _local_endpoint(env, paths, clock or SystemClock())
    queued = _local_queued(env, paths, clock or SystemClock())
    vouched = _local_vouched_records(env, paths, clock or SystemClock())
    ctx = open_context(env, root, clock=clock)
    try:
        # the copy and its record in the team's log: one transaction (a kill in between
        # leaves neither)
        with ctx.audit.change():
            try:
                copied = team_copy.copy_local_into(team_link.as_store(ctx.db), paths.db_path,
                                                   party_id="" if found.party_id else party)
            except team_copy.NotEmpty as exc:
                raise Refusal(str(exc)) from None
            report = MoveReport(link.address.display, copied.tables, copied.rows,
                                copied.kept_local, found.party_id or party)
            ctx.audit.record("team.migrate_from_local", {
                "from": str(paths.db_path), "url": link.url, "rows": report.rows,
                "tables": report.tables, "kept_local": report.kept_local,
                "party_id": report.party_id, "local_log": local_log,
                "trust_anchors": anchors})
            if endpoint is not None:
                # the portal endpoint copied with the tables is used only while a record of
                # the team's log vouches for it: the one that set it stays in the local log
                ctx.audit.record(portal_endpoint.ENDPOINT_ACTION, endpoint[0],
                                 {"trust_anchor": endpoint[1]})
            for action, details, artifacts in queued:
                # likewise each request queued here and not yet sent: the team store sends it
                # only while a record of its log says it was queued through SMKI Desktop
                ctx.audit.record(action, details, artifacts)
            for action, details, artifacts in vouched:
                # and what the checks of certificates, the expiry window and nominations
                # compare the copied rows with (move_records): only what the local log proves
                ctx.audit.record(action, details, artifacts)
    finally:
        ctx.close()
    return report


def _local_endpoint(env: Environment, paths: EnvPaths, clock: Clock
                    ) -> tuple[dict[str, Any], bytes] | None:
    """The workstation's configured portal endpoint, when its own log vouches for it (the
    record that set it, signed by this workstation's key): the details of the record that
    vouches for it in the team's log, and its trust anchor. None otherwise: the team store
    then refuses the copied endpoint until it is set again."""
    local = Database(paths.db_path)
    try:
        row = endpoints_repo.get(local, env.value)
        if row is None or row.source != "configured":
            return None
        installation = settings_repo.get(local, "installation_id") or ""
        log = AuditLog(local, OsSecrets(env), env, clock, lambda: UNKNOWN_ACTOR, installation,
                       audit_folder(paths, False))
        rec = portal_endpoint.EndpointRecord(
            env, row.source, Endpoint(row.portal_url, row.repository_url, row.trust_anchor),
            None)
        if portal_endpoint.problem_in_log(log, rec) is not None:
            return None
        return {"portal_url": row.portal_url, "repository_url": row.repository_url,
                "anchor": portal_endpoint.anchor_subject(row.trust_anchor),
                "carried_from": "the workstation's own audit log"}, row.trust_anchor
    finally:
        local.close()


def _local_queued(env: Environment, paths: EnvPaths, clock: Clock
                  ) -> list[tuple[str, dict[str, Any], dict[str, bytes | str]]]:
    """The records that queue, in the team's log, the workstation's requests still waiting to
    be sent, for those its own log vouches for (outbox_vouched); a request it does not vouch
    for gets none and is not sent from the team store."""
    local = Database(paths.db_path)
    try:
        installation = settings_repo.get(local, "installation_id") or ""
        log = AuditLog(local, OsSecrets(env), env, clock, lambda: UNKNOWN_ACTOR, installation,
                       audit_folder(paths, False))
        items = Outbox(local, env, clock).items(["queued"])
        return outbox_vouched.carried_records(log, items, "the workstation's own audit log")
    finally:
        local.close()


def _local_vouched_records(env: Environment, paths: EnvPaths, clock: Clock
                           ) -> list[move_records.Carried]:
    """The records of the workstation's own log that the team's log takes over (those the
    local log proves; move_records)."""
    local = Database(paths.db_path)
    try:
        installation = settings_repo.get(local, "installation_id") or ""
        log = AuditLog(local, OsSecrets(env), env, clock, lambda: UNKNOWN_ACTOR, installation,
                       audit_folder(paths, False))
        return move_records.vouched_records(log, "the workstation's own audit log")
    finally:
        local.close()


def _local_log_reference(env: Environment, paths: EnvPaths, clock: Clock) -> dict[str, Any]:
    """The workstation's own audit log, which stays in its own database, as the team log's
    move record refers to it: installation, writer key, length, head, and its verify now."""
    local = Database(paths.db_path)
    try:
        installation = settings_repo.get(local, "installation_id") or ""
        return AuditLog(local, OsSecrets(env), env, clock, lambda: UNKNOWN_ACTOR, installation,
                        audit_folder(paths, False)).reference()
    finally:
        local.close()


def _local_vouched_anchors(env: Environment, paths: EnvPaths, clock: Clock) -> list[str]:
    """The trust anchors (fingerprints) the workstation's own audit log proves were added
    through SMKI Desktop: the move record lists them, so that they vouch for officers'
    signatures in the team store too (an anchor only put in the local database does not)."""
    local = Database(paths.db_path)
    try:
        installation = settings_repo.get(local, "installation_id") or ""
        log = AuditLog(local, OsSecrets(env), env, clock, lambda: UNKNOWN_ACTOR, installation,
                       audit_folder(paths, False))
        return sorted(fingerprints_vouched_by(log))
    finally:
        local.close()


def export(env: Environment, out: Path, data_root: Path | None = None, *,
           overwrite: bool = False, clock: Clock | None = None) -> MoveReport:
    """Write a local SQLite copy of the linked team store (all of it, the team's audit log
    too, read in one snapshot) to `out`, atomically: a failure leaves no file, an existing file
    is replaced only with `overwrite`. Audited in the team's log."""
    root = data_root or default_data_root()
    env_dir = _env_dir(env, root)
    link = team_link.load(env_dir)
    if link is None:
        raise Refusal(f"This workstation is not connected to a team store in {env.value}: "
                      "there is nothing to export.")
    out = check_output(Path(out), overwrite=overwrite)
    store = team_link.open_store(link, password_of(link, env), env_dir, migrate=False)
    try:
        if not team_repo.read_state(store).environment:
            raise Refusal(f"The team store {link.address.display} is not initialised: there "
                          "is nothing to export.")
        ctx = open_context(env, root, clock=clock)
        try:
            with atomic_output(out, overwrite=overwrite, mode=0o600) as tmp:
                copied = team_copy.copy_store_out(store, tmp)
                # recorded before the copy is put in place: a kill in between leaves a record
                # of an export whose file is missing, never a copy of the store unrecorded
                ctx.audit.record("team.export", {"out": str(out), "url": link.url,
                                                 "rows": copied.rows, "tables": copied.tables})
        finally:
            ctx.close()
    finally:
        store.close()
    return MoveReport(link.address.display, copied.tables, copied.rows, out=str(out))


def endorse(ctx: AppContext, ref: str) -> dict[str, Any]:
    """From an endorsed workstation: vouch for another workstation's audit writer (named by its
    installation id, which `status` shows on that workstation, or its writer id), in a record
    signed by this workstation's key. Until then verify reports that writer's records."""
    if ctx.team is None:
        raise Refusal(f"This workstation is not connected to a team store in {ctx.env.value}: "
                      "its audit log has no other writer to endorse.")
    target, entry = ctx.audit.endorse(ref)
    return {"writer": target.writer_id, "installation_id": target.installation_id,
            "registered": target.registered, "seq": entry.seq}


def store_reachable(ctx: AppContext) -> str:
    """'' when this context's store answers (always, for a workstation's own database); else
    why the team store cannot be reached. One round trip: the window asks it every few seconds
    while linked, to say on every page that changes are refused until the store returns."""
    if ctx.team is None:
        return ""
    try:
        ctx.db.ping()
    except StoreUnreachable as exc:
        return exc.message
    return ""


def _refuse_foreign(link: TeamLink, state: team_repo.TeamState, env: Environment,
                    party: str | None, outcome: str) -> None:
    """Refuse a store initialised for the other environment or for another Party, naming
    both; `outcome` says what was therefore not done."""
    if state.environment and state.environment != env.value:
        raise EnvironmentMismatch(
            f"The team store {link.address.display} is initialised for the "
            f"{state.environment} environment, not {env.value}. {outcome}")
    if state.party_id and party and state.party_id != party:
        raise Refusal(f"The team store {link.address.display} belongs to Party "
                      f"{state.party_id}, not this workstation's Party {party}. {outcome}")


def _require_link(env: Environment, env_dir: Path) -> TeamLink:
    link = team_link.load(env_dir)
    if link is None:
        raise Refusal(f"This workstation is not connected to a team store in {env.value}: "
                      "connect it first.")
    return link
