"""The desktop's words for the hint keys that face-neutral messages carry (see
`core/errors.py`): the page, menu or field where the officer acts. Never a command or an
option: a test scans these texts."""

from __future__ import annotations

GUI_HINTS: dict[str, str] = {
    "credential.request.web-service":
        "Settings → Portal → Request the web-service client credential",
    "credential.request.file-signing":
        "Settings → Portal → Request a file-signing credential",
    "trust-anchor.add": "Settings → ADT files → Add trust anchor",
    "party.set": "Dashboard → Edit Party profile",
    "profile.set": "Dashboard → Edit your profile",
    "key.generate": "Keys → Generate key",
    "officer.nominate.sro": "Officers → New nomination (SRO form)",
    "officer.nominate.aro": "Officers → New nomination (ARO form)",
    "officer.link-key": "Officers → select the officer → Link key",
    "officer.template": "Officers → New nomination",
    "readiness.org-verified": "Dashboard → Record identity verification / SREPT",
    "readiness.srept": "Dashboard → Record identity verification / SREPT (date and reference)",
    "portal.poll": "Devices → All device CSRs (collects results)",
    "field.evidence": "tick the evidence seen in the verification dialog",
    "field.resubmitter": "the 'Who resubmits' box on the ADT page",
    "field.decision": "the SRO confirmation choice on the ADT page",
    "field.note": "the note",
    "field.smsr": "the Service Request reference box",
    "field.ref": "the SREPT reference box",
    "field.org-verified": "the organisation verified date",
    "field.srept-passed": "the SREPT passed date",
    "field.readiness": "a date in at least one of the two boxes",
    "field.eui": "the EUI box",
    "field.device": "the device EUI box",
    "field.serial": "the serial box",
    "field.repository-search": "the EUI, device or serial box",
    "field.issuer": "choose the certificate in the list",
    "field.out": "the file name you chose",
    "field.reason": "the reason box",
    "field.label": "the label box",
    "field.pkcs11-module": "Settings → Tokens → PKCS#11 module",
    "field.pin": "the PIN dialog",
    "field.expiry-days": "the window in days on the Dashboard",
    "field.count": "the number of CSRs",
    "field.usage": "the usage",
    "field.format": "the output form",
    "field.first-eui": "the first device EUI",
    "field.form": "the form chosen on the wizard's first page",
    "field.template-format": "the file type",
    "field.from": "the answers file",
    "field.purpose": "the credential purpose",
    "field.organisation": "Organisation (Party profile)",
    "field.role": "Role (Party profile)",
    "field.name": "Name (officer profile)",
    "field.key": "the key",
    "field.shares": "the shares (M of N) or the share files chosen",
    "field.witness": "the witness's name as the ceremony file gives it",
    "token.use": "Settings → Tokens → PKCS#11 module",
}


def gui_hint(key: str) -> str:
    return GUI_HINTS.get(key, "")
