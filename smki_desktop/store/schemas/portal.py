"""Portal tables: the outbox of requests to the DCC, the credentials the DCC issued to this
installation (web-service client and file-signing), and the portal endpoint per environment."""

COMPONENT = "portal"

MIGRATIONS = [
    """
    CREATE TABLE portal_outbox (
        ref TEXT PRIMARY KEY,
        environment TEXT NOT NULL,
        kind TEXT NOT NULL,
        payload BLOB NOT NULL,
        meta TEXT NOT NULL DEFAULT '{}',
        state TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        server_id TEXT,
        server_status TEXT,
        result BLOB,
        last_error TEXT,
        next_action_at TEXT,
        last_poll_at TEXT,
        created TEXT NOT NULL,
        updated TEXT NOT NULL
    );
    CREATE INDEX portal_outbox_state ON portal_outbox(state);
    CREATE TABLE portal_credentials (
        id INTEGER PRIMARY KEY,
        environment TEXT NOT NULL,
        purpose TEXT NOT NULL,
        key_id TEXT NOT NULL,
        certificate BLOB NOT NULL,
        issuer TEXT NOT NULL,
        serial TEXT NOT NULL,
        subject TEXT NOT NULL,
        not_before TEXT NOT NULL,
        not_after TEXT NOT NULL,
        imported TEXT NOT NULL,
        UNIQUE (environment, issuer, serial)
    );
    CREATE TABLE portal_credential_requests (
        id INTEGER PRIMARY KEY,
        environment TEXT NOT NULL,
        purpose TEXT NOT NULL,
        key_id TEXT NOT NULL,
        csr BLOB NOT NULL,
        created TEXT NOT NULL,
        state TEXT NOT NULL
    );
    CREATE TABLE portal_endpoints (
        environment TEXT PRIMARY KEY,
        source TEXT NOT NULL,
        portal_url TEXT NOT NULL,
        repository_url TEXT NOT NULL,
        trust_anchor BLOB NOT NULL,
        state_dir TEXT,
        pid INTEGER,
        updated TEXT NOT NULL
    );
    CREATE TABLE portal_rate_state (
        environment TEXT NOT NULL,
        name TEXT NOT NULL,
        last_at TEXT NOT NULL,
        PRIMARY KEY (environment, name)
    );
    """,
]
