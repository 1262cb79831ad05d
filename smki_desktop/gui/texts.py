"""User-facing texts that appear in more than one place, kept together for review and
translation."""

from collections.abc import Sequence

from smki_desktop.core.environment import Environment
from smki_desktop.gui.hints import gui_hint

APP_TITLE = "SMKI Desktop"

BANNER = {
    Environment.TEST: "TEST ENVIRONMENT — test keys and certificates only; nothing here is "
                      "valid on live meters",
    Environment.LIVE: "LIVE ENVIRONMENT — real keys and certificates for live smart meters",
}

# Amber for Test, red for Live; text colours chosen for contrast (WCAG AA).
BANNER_STYLE = {
    Environment.TEST: "background:#F2A900; color:#1A1A1A;",
    Environment.LIVE: "background:#C62828; color:#FFFFFF;",
}


def window_title(env: Environment) -> str:
    return f"{APP_TITLE} — {env.label.upper()} environment"


# Where a web-service submission goes, by environment: in Test it is the Test portal (the
# bundled simulator, or the DCC's Test service if Settings › Portal names it), never the DCC's
# live service, and the confirmation must not say otherwise.
SENT_TO = {
    Environment.TEST: "the Test portal",
    Environment.LIVE: "the DCC",
}
ISSUER = {
    Environment.TEST: "The Test portal issues",
    Environment.LIVE: "The DCC issues",
}


def switch_question(current: Environment, target: Environment,
                    unsaved: Sequence[str] = ()) -> str:
    lost = (f"\n\nEdits not saved on: {', '.join(unsaved)}. They are discarded by the switch: "
            "Cancel and save them first to keep them.") if unsaved else ""
    return (
        f"Switch from the {current.label} environment to the {target.label} environment?\n\n"
        f"The window will reopen on the {target.label} environment's own data, keys and "
        f"trust anchors. Nothing from {current.label} is carried over.{lost}"
    )


KEYRING_HINT = (
    "Private keys are stored encrypted in this environment's data folder; the key that "
    "unlocks each one is kept in your OS keyring."
)


def error_text(exc: BaseException | str) -> str:
    """What the GUI shows for a failure: our own errors' messages as they are; for anything
    else a sentence in plain words, never Python's own text (e.g. a codec message)."""
    if isinstance(exc, str):
        return exc
    message = getattr(exc, "message", None)
    if isinstance(message, str) and message:
        hint = gui_hint(str(getattr(exc, "hint", "") or ""))
        return f"{message} ({hint})" if hint else message
    if isinstance(exc, UnicodeDecodeError):
        return (f"The file is not UTF-8 text (byte 0x{exc.object[exc.start]:02X} at position "
                f"{exc.start:,} cannot be read). Save it as UTF-8 and open it again.")
    if isinstance(exc, FileNotFoundError):
        return f"{exc.filename or 'The file'} was not found."
    if isinstance(exc, PermissionError):
        return f"No permission to use {exc.filename or 'the file'}."
    if isinstance(exc, OSError):
        where = f" {exc.filename}" if exc.filename else ""
        return f"The file{where} could not be used ({exc.strerror or 'system error'})."
    return (f"Something unexpected went wrong ({type(exc).__name__}). Try again; if it "
            "happens again, report it with the time it happened.")


def plain_time(iso: str) -> str:
    """An ISO timestamp from a record as a plain local date and time ("6 Dec 2026, 23:07");
    one without a zone is taken as UTC (the records' own), text that does not read as kept."""
    from datetime import UTC, datetime

    try:
        at = datetime.fromisoformat(iso)
    except ValueError:
        return iso
    local = (at if at.tzinfo else at.replace(tzinfo=UTC)).astimezone()
    return f"{local.day} {local:%b %Y, %H:%M}"


def file_layout(kind: str, version: str, status: str) -> str:
    """A file profile in words, for the pages that read and write such files: whose layout
    it is and its version, not the internal reference."""
    if status == "assumed":
        return (f"file layout: SMKI Desktop's assumed {kind} layout, version {version} (the "
                "DCC's is not published)")
    return f"file layout: the DCC's published {kind} layout, version {version}"
