"""Messages name an audit record one way, "audit record N", as the officer reads it in the
Audit page and in `smki audit` output; "audit #N" was a second spelling in four messages."""

from __future__ import annotations

import ast
from pathlib import Path

import smki_desktop
from smki_desktop.core.audit import AuditEntry
from smki_desktop.services.key_lifecycle import KeyRetired

ROOT = Path(smki_desktop.__file__).parent


def test_no_message_spells_an_audit_record_audit_hash() -> None:
    found = []
    for path in sorted(ROOT.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) \
                    and "audit #" in node.value:
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert found == []


def test_a_deleted_keys_backups_are_named_with_their_audit_records() -> None:
    entry = AuditEntry.__new__(AuditEntry)
    retired = KeyRetired("ab" * 16, "delete", "replaced", entry, (
        {"location": "/media/usb/key.smkikey", "kind": "passphrase", "audit_seq": 12},
        {"location": "/media/usb/shares", "kind": "2-of-3 shares", "audit_seq": 13}))
    assert retired.warning.startswith("2 recorded backups of key abababababababab can still "
                                      "restore it: /media/usb/key.smkikey (passphrase, audit "
                                      "record 12); /media/usb/shares (2-of-3 shares, audit "
                                      "record 13).")
