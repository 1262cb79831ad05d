"""One module per command group; each defines `register(subparsers)`.

`COMMANDS` maps each top-level command to the module that registers it, so that `smki adt
sign ...` imports only the `adt` module (and what it needs), not every workflow: a command line
tool should answer at once. `smki --help`, or an unknown command, loads them all; a test checks
that this map agrees with the modules.
"""

COMMANDS: dict[str, str] = {
    "adt": "adt",
    "agent": "agent",
    "audit": "audit",
    "cert": "cert",
    "ceremony": "ceremony",
    "credential": "credential",
    "csr": "csr",
    "devices": "devices",
    "expiry": "expiry",
    "forecast": "forecast",
    "incident": "incident",
    "key": "key",
    "lint": "lint",
    "officer": "officer",
    "party": "party",
    "profile": "party",
    "portal": "portal",
    "quarantine": "quarantine",
    "readiness": "readiness",
    "repo": "repo",
    "revoke": "revoke",
    "simulator": "simulator",
    "team": "team",
    "token": "token",
}
