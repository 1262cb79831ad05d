"""ADT validation receipts: that a file with this exact SHA-256 and size was found valid
against this profile version, for this Party's EUI-64 ranges, by this release of the validator,
in this environment (issue 15: signing bytes validated before skips re-validating the rows)."""

COMPONENT = "adt_receipts"

MIGRATIONS = [
    """
    CREATE TABLE adt_receipts (
        id INTEGER PRIMARY KEY,
        environment TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        size INTEGER NOT NULL,
        kind TEXT NOT NULL,
        profile_id TEXT NOT NULL,
        profile_version TEXT NOT NULL,
        ranges_sha256 TEXT NOT NULL,
        software TEXT NOT NULL,
        row_count INTEGER NOT NULL,
        warning_count INTEGER NOT NULL DEFAULT 0,
        validated_at TEXT NOT NULL,
        UNIQUE (environment, sha256, size, kind, profile_id, profile_version, ranges_sha256,
                software)
    );
    """,
    # the seq of the `adt.validate` audit record written with the receipt: a receipt is used
    # only while that record, proven by the log, names exactly its key (0: none, not used)
    """
    ALTER TABLE adt_receipts ADD COLUMN audit_seq INTEGER NOT NULL DEFAULT 0;
    """,
]
