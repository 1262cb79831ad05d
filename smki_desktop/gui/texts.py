"""User-facing texts that appear in more than one place, kept together for review and
translation."""

from smki_desktop.core.environment import Environment

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


def switch_question(current: Environment, target: Environment) -> str:
    return (
        f"Switch from the {current.label} environment to the {target.label} environment?\n\n"
        f"The window will reopen on the {target.label} environment's own data, keys and "
        f"trust anchors. Nothing from {current.label} is carried over."
    )


KEYRING_HINT = (
    "Private keys are stored encrypted in this environment's data folder; the key that "
    "unlocks each one is kept in your OS keyring."
)
