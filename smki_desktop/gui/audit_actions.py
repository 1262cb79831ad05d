"""The audit log's action codes in plain words, for the Audit page: the officer reads what
was done, the auditor still has the code. An action not in the table is shown as it is."""

from __future__ import annotations

from typing import Any

ACTIONS: dict[str, str] = {
    "adt.anchor.add": "ADT trust anchor added",
    "adt.confirm": "ADT file confirmed",
    "adt.deliver": "ADT file delivered",
    "adt.edit": "ADT file edited",
    "adt.profile.use": "ADT profile used",
    "adt.send": "ADT file sent",
    "adt.sign": "ADT file signed",
    "adt.sign-refused": "ADT signing refused",
    "adt.validate": "ADT file checked",
    "audit.loss.acknowledge": "Audit log loss acknowledged",
    "audit.signing.start": "Audit signing started",
    "audit.writer.endorse": "Audit writer endorsed",
    "audit.writer.register": "Audit writer registered",
    "ceremony.begin": "Key ceremony begun",
    "ceremony.finish": "Key ceremony finished",
    "ceremony.resume": "Key ceremony resumed",
    "ceremony.witness_sign": "Ceremony witness signed",
    "cert.anchor.add": "Certificate trust anchor added",
    "cert.export": "Certificate exported",
    "cert.import": "Certificate imported",
    "cert.import-refused": "Certificate import refused",
    "cert.recheck": "Certificate checked again",
    "cert.reject": "Certificate rejected",
    "cert.renew": "Certificate renewal started",
    "cert.supersede": "Certificate superseded",
    "credential.crl": "Credential revocation list checked",
    "credential.import": "Credential imported",
    "credential.request": "Credential requested",
    "csr.authorise": "CSR authorised",
    "csr.org.authorise": "Organisation CSR authorised",
    "csr.org.create": "Organisation CSR made",
    "csr.org.discard": "Organisation CSR discarded",
    "csr.org.export": "Organisation CSR exported",
    "devices.export": "Device list exported",
    "devices.generate-test": "Test devices generated",
    "devices.import-response": "Device response imported",
    "devices.package": "Device package made",
    "devices.package-placed": "Device package placed",
    "devices.package-staging-removed": "Device package staging removed",
    "devices.package-undone": "Device package undone",
    "devices.results": "Device results recorded",
    "devices.settings": "Device settings changed",
    "devices.submit": "Device request submitted",
    "environment.switch": "Environment switched",
    "first_run.step": "First-run step done",
    "forecast.plan": "Forecast planned",
    "incident.close": "Incident closed",
    "incident.confirm": "Incident confirmed",
    "incident.open": "Incident opened",
    "incident.rekey": "Incident re-key",
    "key.archive": "Key archived",
    "key.backup": "Key backed up",
    "key.backup_abandoned": "Key backup abandoned",
    "key.delete": "Key deleted",
    "key.generate": "Key generated",
    "key.relabel": "Key relabelled",
    "key.restore": "Key restored",
    "key.restore_leftover_cleared": "Key restore leftovers cleared",
    "key.share_sheet": "Backup share sheet made",
    "key.store.recover": "Key store recovered",
    "officer.activate": "Officer activated",
    "officer.draft.delete": "Officer draft deleted",
    "officer.draft.save": "Officer draft saved",
    "officer.link-key": "Key linked to officer",
    "officer.link-profile": "Officer profile linked",
    "officer.nominate": "Officer nominated",
    "officer.pdf": "Officer form made",
    "officer.pdf.refused": "Officer form refused",
    "officer.revoke": "Officer revoked",
    "officer.suspend": "Officer suspended",
    "officer.verify": "Officer verified",
    "party.set": "Party profile set",
    "portal.adt.upload": "ADT file uploaded to the portal",
    "portal.answer": "Portal answer recorded",
    "portal.api-key.set": "Portal API key set",
    "portal.endpoint.set": "Portal endpoint set",
    "portal.offline.export": "Offline portal request exported",
    "portal.offline.import": "Offline portal answer imported",
    "portal.offline.relay": "Offline portal request relayed",
    "portal.poll": "Portal polled",
    "portal.refuse_send": "Portal send refused",
    "portal.revoke": "Revocation sent to the portal",
    "portal.send": "Request sent to the portal",
    "portal.setting.set": "Portal setting changed",
    "portal.submit": "Request submitted to the portal",
    "profile.set": "Officer profile set",
    "quarantine.action-withdrawn": "Quarantine action withdrawn",
    "quarantine.decide": "Quarantine decided",
    "quarantine.import": "Quarantined item imported",
    "readiness.set": "Readiness set",
    "repo.crl.fetch": "Revocation list fetched",
    "revoke.approve": "Revocation approved",
    "revoke.crl-applied": "Revocation list applied",
    "revoke.defer": "Revocation deferred",
    "revoke.export": "Revocation exported",
    "revoke.import": "Revocation imported",
    "revoke.reject": "Revocation rejected",
    "revoke.request": "Revocation requested",
    "revoke.submit": "Revocation submitted",
    "settings.expiry-window": "Expiry warning window changed",
    "simulator.start": "Test simulator started",
    "simulator.stop": "Test simulator stopped",
    "team.connect": "Team store connected",
    "team.disconnect": "Team store disconnected",
    "team.export": "Team store exported",
    "team.init": "Team store set up",
    "team.migrate_from_local": "Moved to the team store",
    "token.change-pin": "Token PIN changed",
    "token.login-test": "Token login tested",
    "token.use": "Token used",
}


def action_text(code: str) -> str:
    """The action in words; one not in the table, as it is."""
    return ACTIONS.get(code, code)


def pruned(value: Any) -> Any:
    """The details without their empty fields (None, "", empty lists and mappings), at any
    depth: "Errors: ;" said nothing."""
    if isinstance(value, dict):
        kept = {k: pruned(v) for k, v in value.items()}
        return {k: v for k, v in kept.items() if not _empty(v)}
    if isinstance(value, (list, tuple)):
        return [v for v in (pruned(x) for x in value) if not _empty(v)]
    return value


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, (str, dict, list, tuple)) and not value)
