"""The file-signing key chooser shared by the ADT and Quarantine pages: the keys are read on
the job runner (`read_file_signing_keys`), the chooser filled on the GUI thread."""

from __future__ import annotations

from typing import TYPE_CHECKING

from smki_desktop.core.errors import SmkiError, StoreUnreachable
from smki_desktop.gui.qt import QComboBox, Qt
from smki_desktop.services.context import AppContext

if TYPE_CHECKING:
    from cryptography import x509

NO_CREDENTIAL = "No file-signing credential (Settings → Portal)"
NO_CREDENTIAL_HELP = ("Signing needs a file-signing credential: once you are in the officer "
                      "register, request one in Settings → Portal → Request a file-signing "
                      "credential.")


def file_signing_keys(ctx: AppContext) -> list[tuple[str, str]]:
    """(key_id, label) of this environment's keys that have a valid file-signing credential."""
    from smki_desktop.services.credentials import list_credentials

    now = ctx.clock.now()
    valid = [c for c in list_credentials(ctx, "file-signing") if c.valid_at(now)]
    labels = [key_label(c.certificate, c.key_id) for c in valid]
    # two credentials for the same person are told apart by their key
    return [(c.key_id, label if labels.count(label) == 1 else f"{label} · {c.key_id[:8]}")
            for c, label in zip(valid, labels, strict=True)]


def key_label(cert: x509.Certificate, key_id: str) -> str:
    """A file-signing key as a person reads it: "Alex Officer (ARO-0001) — file-signing key"
    (the credential's common name and the register id it names), not its raw subject."""
    from cryptography.x509.oid import NameOID

    from smki_desktop.services.credential_store import register_id_of

    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    name = str(names[0].value).strip() if names else ""
    register_id = register_id_of(cert)
    who = f"{name} ({register_id})" if name and register_id else \
        name or register_id or f"Key {key_id[:16]}"
    return f"{who} — file-signing key"


def read_file_signing_keys(ctx: AppContext) -> list[tuple[str, str]]:
    """`file_signing_keys`, none when they cannot be listed (a job: no Qt here); a team store
    that cannot be reached is raised, for the window's banner."""
    try:
        return file_signing_keys(ctx)
    except StoreUnreachable:
        raise
    except SmkiError:
        return []


def fill_file_signing_keys(combo: QComboBox, keys: list[tuple[str, str]]) -> None:
    """List the keys that hold a file-signing credential, keeping the current choice."""
    current = combo.currentData()
    combo.clear()
    for key_id, label in keys:
        combo.addItem(label, key_id)
        combo.setItemData(combo.count() - 1, f"Key {key_id}", Qt.ItemDataRole.ToolTipRole)
    if not keys:
        combo.addItem(NO_CREDENTIAL, "")
        combo.setItemData(0, NO_CREDENTIAL_HELP, Qt.ItemDataRole.ToolTipRole)
    combo.setToolTip("" if keys else NO_CREDENTIAL_HELP)
    idx = combo.findData(current)
    if idx >= 0:
        combo.setCurrentIndex(idx)
