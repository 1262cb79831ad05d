"""Audit log signatures: each record names its writer and carries that writer's signature;
writers' public keys are registered here (several writers may share one log later)."""

COMPONENT = "audit"

MIGRATIONS = [
    """
    ALTER TABLE audit_log ADD COLUMN writer TEXT NOT NULL DEFAULT '';
    ALTER TABLE audit_log ADD COLUMN sig TEXT NOT NULL DEFAULT '';
    CREATE TABLE audit_writers (
        writer_id TEXT PRIMARY KEY,
        public_key BLOB NOT NULL,
        installation_id TEXT NOT NULL,
        environment TEXT NOT NULL,
        registered TEXT NOT NULL
    );
    """,
]
