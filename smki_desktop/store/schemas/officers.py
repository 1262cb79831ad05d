"""Issue 7's tables: the officer register, the credentials officers hold, nomination drafts,
readiness milestones (organisation verified, SREPT passed) and CSR forecast plans; and each
officer's nomination record as written at the nomination (`nomination_records`: its bytes, so
that any workstation of a team store can check a reprint against the SHA-256 anchored in the
register log and the audit log; the `sha256` column is for reading, never trusted)."""

COMPONENT = "officers"

MIGRATIONS = [
    """
    CREATE TABLE officers (
        officer_id TEXT PRIMARY KEY,
        environment TEXT NOT NULL,
        role TEXT NOT NULL,
        status TEXT NOT NULL,
        name TEXT NOT NULL,
        email TEXT NOT NULL,
        organisation TEXT NOT NULL,
        party_id TEXT NOT NULL,
        job_title TEXT NOT NULL DEFAULT '',
        nominated_by TEXT,
        nominator_name TEXT NOT NULL DEFAULT '',
        nominator_capacity TEXT NOT NULL DEFAULT '',
        self_nominated INTEGER NOT NULL DEFAULT 0,
        nominated_on TEXT NOT NULL DEFAULT '',
        verification TEXT,
        activated_at TEXT NOT NULL DEFAULT '',
        status_reason TEXT NOT NULL DEFAULT '',
        status_changed_at TEXT NOT NULL DEFAULT '',
        screening_date TEXT NOT NULL DEFAULT '',
        screening_ref TEXT NOT NULL DEFAULT '',
        form_id TEXT NOT NULL DEFAULT '',
        form_values TEXT NOT NULL DEFAULT '{}',
        record_sha256 TEXT NOT NULL DEFAULT '',
        created TEXT NOT NULL,
        updated TEXT NOT NULL
    );
    CREATE TABLE officer_credentials (
        officer_id TEXT NOT NULL REFERENCES officers(officer_id),
        key_id TEXT NOT NULL,
        environment TEXT NOT NULL,
        kind TEXT NOT NULL,
        label TEXT NOT NULL,
        created TEXT NOT NULL,
        flagged TEXT NOT NULL DEFAULT '',
        PRIMARY KEY (officer_id, key_id)
    );
    CREATE TABLE officer_drafts (
        draft_id TEXT PRIMARY KEY,
        environment TEXT NOT NULL,
        form TEXT NOT NULL,
        version INTEGER NOT NULL,
        data TEXT NOT NULL,
        updated TEXT NOT NULL
    );
    CREATE TABLE readiness_facts (
        name TEXT PRIMARY KEY,
        environment TEXT NOT NULL,
        date TEXT NOT NULL,
        reference TEXT NOT NULL DEFAULT '',
        updated TEXT NOT NULL
    );
    CREATE TABLE forecast_plans (
        month TEXT NOT NULL,
        category TEXT NOT NULL,
        environment TEXT NOT NULL,
        count INTEGER NOT NULL,
        updated TEXT NOT NULL,
        PRIMARY KEY (month, category)
    );
    """,    # the nomination record's bytes in the store, not only in the officers folder of the
    # workstation that made the nomination (services/form_record.py)
    """
    CREATE TABLE nomination_records (
        officer_id TEXT PRIMARY KEY REFERENCES officers(officer_id),
        environment TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        record BLOB NOT NULL,
        stored TEXT NOT NULL
    );
    """,
]
