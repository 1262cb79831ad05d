"""Issue 13's table: which new key and CSR replace which certificate (a renewal)."""

COMPONENT = "renewals"

MIGRATIONS = [
    """
    CREATE TABLE renewals (
        renewal_id INTEGER PRIMARY KEY,
        environment TEXT NOT NULL,
        old_serial TEXT NOT NULL,
        old_issuer TEXT NOT NULL,
        old_key_id TEXT NOT NULL,
        new_key_id TEXT NOT NULL UNIQUE,
        csr_id INTEGER NOT NULL,
        created TEXT NOT NULL
    );
    CREATE INDEX renewals_old ON renewals(environment, old_serial);
    """,
]
