"""Keys page, "Archive…" / "Delete…": the reason first, then a summary (which key, the
environment, its CSRs and certificates, whether a live certificate depends on it: the service
then refuses; for a delete, the key's backups the audit log records, each of which can still
restore it, each on a line of its own), then the service in the background. What the summary
shows is read on the job runner. The page says what came of it on its message line: the key
deleted (and, in a sentence, that its backups can still restore it: the summary listed them),
or "Cancelled — nothing deleted." when the officer cancels. The focus goes back to the control
that opened the flow (or the table)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from smki_desktop.gui.controllers.keys_view import KeysView, key_op, opener
from smki_desktop.gui.page_op import PageOp
from smki_desktop.gui.qt import QWidget
from smki_desktop.gui.widgets.confirm import ask_confirmation, give_focus_back
from smki_desktop.gui.widgets.reason import ReasonDialog
from smki_desktop.services import key_backup, key_lifecycle

if TYPE_CHECKING:
    from smki_desktop.core.keys import KeyInfo
    from smki_desktop.services.context import AppContext


def read_summary(ctx: AppContext, key_id: str, action: str
                 ) -> tuple[key_lifecycle.KeyObject, list[dict[str, Any]]]:
    """The key as one object and, for a delete, its recorded backups (a job: no Qt here)."""
    backups = key_backup.recorded_backups(ctx, key_id) if action == "delete" else []
    return key_lifecycle.key_object(ctx, key_id), backups


def backups_warning(backups: list[dict[str, Any]]) -> str:
    """What the delete summary says of the key's recorded backups ("" if none)."""
    if not backups:
        return ""
    n = len(backups)
    # one backup a line, its path first: a path wrapped at the end of a sentence was shown
    # broken after its first slash ("/ tmp/…")
    where = "\n".join(f"{b['location']} ({b['kind']}, audit record {b['audit_seq']})"
                       for b in backups)
    return (f"{n} recorded backup{'s' if n != 1 else ''} can still restore this key after it "
            f"is deleted:\n{where}\nDestroy {'them' if n != 1 else 'it'} (every copy, and "
            "every custodian's share) if the key must be gone for good.")


def nothing_done(action: str) -> str:
    """What the page says when the officer cancels an archive or a delete."""
    return f"Cancelled — nothing {'deleted' if action == 'delete' else 'archived'}."


class RetireKey:
    def __init__(self, view: KeysView) -> None:
        self.view = view

    def ask(self, action: str) -> None:
        v = self.view
        k = v.selected()
        if k is None:
            v.message.setText("Select a key first.")
            return
        back = opener(v)
        dlg = ReasonDialog(f"{action.capitalize()} key {k.label} ({k.short_id})", v.widget(),
                           check=lambda r: key_lifecycle.check_reason(r, action))
        v.reason_dialog = dlg
        give_focus_back(dlg, back, v.table)

        def reasoned() -> None:
            reason = dlg.reason.text().strip()

            def summary(read: tuple[key_lifecycle.KeyObject, list[dict[str, Any]]]) -> None:
                self.confirm(action, k, reason, read[0], read[1], back=back)
            PageOp(v.widget(), v.services, read_summary, v.services.ctx, k.key_id, action,
                   name=f"Key {action} summary") \
                .success(summary) \
                .failure(lambda text, _exc: v.message.setText(text)).run()

        dlg.accepted.connect(reasoned)
        dlg.rejected.connect(lambda: v.message.setText(nothing_done(action)))
        dlg.open()

    def confirm(self, action: str, k: KeyInfo, reason: str, obj: key_lifecycle.KeyObject,
                backups: list[dict[str, Any]], back: QWidget | None = None) -> None:
        """The summary before the act; the act only when the officer confirms it."""
        v = self.view
        what = ("Archive this key: it is kept but offered for no new work."
                if action == "archive" else
                "Delete this key's private key. This cannot be undone: nothing it "
                "signed can be signed again with it.")
        facts = [("Key", f"{k.label} ({k.short_id})"), ("Usage", k.usage.value),
                 ("Reason", reason), ("CSRs made with it", str(len(obj.csrs))),
                 ("Certificates issued for it", str(len(obj.certificates))),
                 ("Still in use", str(len(obj.live)))]
        if action == "delete":
            facts.append(("Recorded backups", str(len(backups)) if backups else "none"))
        warnings = [w for w in (
            "A live certificate depends on this key: the service will refuse."
            if obj.live else "", backups_warning(backups)) if w]
        ask_confirmation(
            v.widget(), lambda: self.retire(action, k.key_id, reason),
            title=f"{action.capitalize()} a key", env=v.services.ctx.env,
            action=f"&{action.capitalize()} key", what=what, facts=facts,
            warning="\n\n".join(warnings),
            cancelled=lambda: v.message.setText(nothing_done(action)),
            focus_to=back if back is not None and back.isEnabled() else v.table)

    def retire(self, action: str, key_id: str, reason: str) -> None:
        fn = key_lifecycle.archive_key if action == "archive" else key_lifecycle.delete_key
        v = self.view

        def done(res: key_lifecycle.KeyRetired) -> None:
            text = (f"Key {res.key_id[:16]} {'archived' if action == 'archive' else 'deleted'} "
                    f"(audit record {res.audit.seq}): {res.reason}")
            n = len(res.backups)
            if n:  # the summary listed them; a second box said it all again
                text += (f"\n{n} recorded backup{'s' if n != 1 else ''} can still restore it: "
                         f"destroy {'them' if n != 1 else 'it'} if the key must be gone for "
                         "good.")
            v.message.setText(text)
            v.refresh()
        key_op(self.view, fn, self.view.services.ctx, key_id, reason, name=f"key {action}") \
            .success(done).run()
