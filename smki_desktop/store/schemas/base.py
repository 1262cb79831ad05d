"""Foundation tables: settings, party and officer profile, key metadata, audit log."""

COMPONENT = "base"

MIGRATIONS = [
    """
    CREATE TABLE settings (
        name TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    CREATE TABLE party_profile (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        environment TEXT NOT NULL,
        data TEXT NOT NULL,
        updated TEXT NOT NULL
    );
    CREATE TABLE officer_profile (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        environment TEXT NOT NULL,
        data TEXT NOT NULL,
        updated TEXT NOT NULL
    );
    CREATE TABLE keys (
        key_id TEXT PRIMARY KEY,
        label TEXT NOT NULL,
        key_type TEXT NOT NULL,
        usage TEXT NOT NULL,
        environment TEXT NOT NULL,
        created TEXT NOT NULL,
        location TEXT NOT NULL,
        location_ref TEXT NOT NULL,
        public_key BLOB NOT NULL,
        flags TEXT NOT NULL DEFAULT '',
        last_used TEXT
    );
    CREATE TABLE audit_log (
        seq INTEGER PRIMARY KEY,
        ts TEXT NOT NULL,
        environment TEXT NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        details TEXT NOT NULL,
        artifacts TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL
    );
    CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit_log
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
    CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit_log
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
    """,
]
