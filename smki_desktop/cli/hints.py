"""The command line's words for the hint keys that face-neutral messages carry (see
`core/errors.py`): the command to run or the option to give. `cli_hint(key, env)` names the
environment in Live (a bare `smki ...` works in Test, the default)."""

from __future__ import annotations

from smki_desktop.core.environment import Environment

CLI_HINTS: dict[str, str] = {
    "credential.request.web-service": "{smki} credential request --purpose web-service",
    "credential.request.file-signing": "{smki} credential request --purpose file-signing",
    "trust-anchor.add": "{smki} adt anchor add FILE",
    "party.set": "{smki} party set",
    "profile.set": "{smki} profile set",
    "key.generate": "{smki} key generate",
    "officer.nominate.sro": "{smki} officer nominate --form sro",
    "officer.nominate.aro": "{smki} officer nominate --form aro",
    "officer.link-key": "{smki} officer link-key ID KEY",
    "officer.verify": "{smki} officer verify ID --date YYYY-MM-DD --verifier NAME --evidence ...",
    "officer.activate": "{smki} officer activate ID [--as OFFICER --key KEY]",
    "officer.template": "{smki} officer template",
    "readiness.org-verified": "{smki} readiness set --org-verified DATE",
    "readiness.srept": "{smki} readiness set --type TYPE --srept-passed DATE --ref REF",
    "readiness.srept.device": "{smki} readiness set --type device --srept-passed DATE --ref REF",
    "readiness.srept.organisation":
        "{smki} readiness set --type organisation --srept-passed DATE --ref REF",
    "portal.poll": "{smki} portal poll",
    "field.evidence": "option --evidence",
    "field.resubmitter": "option --resubmitter (with --decision resubmit)",
    "field.decision": "option --decision",
    "field.note": "option --note",
    "field.smsr": "option --smsr",
    "field.ref": "option --ref",
    "field.org-verified": "option --org-verified",
    "field.srept-passed": "option --srept-passed",
    "field.readiness": "options --org-verified DATE and/or --srept-passed DATE",
    "field.eui": "option --eui",
    "field.device": "option --device",
    "field.serial": "option --serial",
    "field.repository-search": "options --eui (with --role), --device or --serial",
    "field.issuer": "option --issuer",
    "field.out": "option --out",
    "field.reason": "option --reason",
    "field.label": "option --label",
    "field.pkcs11-module": "option --module (or smki token use)",
    "field.pin": "the PIN asked",
    "field.expiry-days": "option --days / --set-window",
    "field.count": "option --count",
    "field.usage": "option --usage",
    "field.format": "option --format",
    "field.first-eui": "option --first-eui",
    "field.form": "option --form",
    "field.template-format": "option --format",
    "field.from": "option --from",
    "field.purpose": "option --purpose",
    "field.organisation": "option --organisation",
    "field.role": "option --role",
    "field.name": "option --name",
    "field.key": "option --key",
    "field.shares": "option --shares M-of-N (restore: --shares FILE...)",
    "field.custodians": "option --custodian NAME (once per share)",
    "field.witness": "option --witness",
    "token.use": "{smki} token use --module M --token LABEL",
    "field.revocation-reason": "option --reason",
    "field.urgency": "option --urgency",
    "field.signer": "options --as OFFICER --key KEY",
    "nomination.signer": "options --as SRO --key KEY where the SRO's key is; or "
                         "{smki} officer link-key SRO KEY",
    "field.officer": "option --officer REGISTER_ID",
    "field.reported-by": "option --reported-by",
    "field.when": "option --when",
    "field.incident-subject": "option --key or --cert",
    "field.outcome": "option --outcome",
    "field.revoke-certificates": "SERIAL... or --eui",
    "field.justification": "option --justification",
    "csr.authorise": "{smki} csr authorise FILE --as SRO --key K",
    "credential.request.officer": "{smki} credential request --purpose file-signing --officer ID",
    "officer.link-profile": "{smki} officer link-profile ID",
    "incident.rekey": "{smki} incident list, then {smki} incident rekey ID --out FOLDER",
}


def cli_hint(key: str, env: Environment | str = Environment.TEST) -> str:
    """The command or option for `key` ("" for an unknown key)."""
    template = CLI_HINTS.get(key, "")
    live = env is Environment.LIVE or env == "live"
    return template.format(smki="smki --env live" if live else "smki")


def with_hint(message: str, key: str, env: Environment | str = Environment.TEST) -> str:
    hint = cli_hint(key, env)
    return f"{message} ({hint})" if hint else message
