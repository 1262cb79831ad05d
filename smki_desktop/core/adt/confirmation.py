"""The SRO's confirmation that a User's submitted ADTs should apply (or who will resubmit them):
a small canonical JSON document that the SRO signs with a detached CMS signature and that is
kept with the ADT file's history. Format `smki-desktop/adt-confirmation` version 1."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from smki_desktop.core.environment import Environment
from smki_desktop.core.errors import InputError

FORMAT = "smki-desktop/adt-confirmation"
DECISIONS = ("apply", "resubmit")


@dataclass(frozen=True)
class Confirmation:
    environment: Environment
    adt_file_name: str
    adt_file_sha256: str
    decision: str  # apply | resubmit
    confirmed_at: datetime
    sro_name: str
    sro_email: str = ""
    user_ids: tuple[str, ...] = ()
    resubmitter: str = ""  # who will resubmit (decision resubmit)
    smsr_reference: str = ""
    party_id: str = ""
    note: str = ""

    def __post_init__(self) -> None:
        if self.decision not in DECISIONS:
            raise InputError(f"Decision: {self.decision!r} is not apply or resubmit.",
                             hint="field.decision")
        if self.decision == "resubmit" and not self.resubmitter.strip():
            raise InputError("Resubmitter: name who will resubmit the ADTs.",
                             hint="field.resubmitter")
        if len(self.note) > 2000:
            raise InputError("Note: at most 2000 characters.", hint="field.note")

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT, "format_version": 1, "environment": self.environment.value,
            "adt_file": {"name": self.adt_file_name, "sha256": self.adt_file_sha256},
            "decision": self.decision,
            "statement": (
                "The SRO confirms that the submitted Anomaly Detection Thresholds should apply."
                if self.decision == "apply" else
                f"The submitted ADTs should not apply; {self.resubmitter} will resubmit them."),
            "confirmed_at": self.confirmed_at.isoformat().replace("+00:00", "Z"),
            "sro": {"name": self.sro_name, "email": self.sro_email},
            "user_ids": list(self.user_ids), "resubmitter": self.resubmitter,
            "smsr_reference": self.smsr_reference, "party_id": self.party_id, "note": self.note,
        }

    def to_bytes(self) -> bytes:
        return (json.dumps(self.to_dict(), sort_keys=True, indent=2, ensure_ascii=False)
                + "\n").encode("utf-8")
