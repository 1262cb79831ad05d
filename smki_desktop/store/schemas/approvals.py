"""Issue 11's tables: signed approval requests (revocation, Organisation CSR authorisation),
their signatures (request, approvals, rejections), the signed officer register log, and
compromise incidents with their event log, and the officers' IKI credentials their issuer's CRL
lists as revoked."""

COMPONENT = "approvals"

MIGRATIONS = [
    """
    CREATE TABLE approval_requests (
        request_id TEXT PRIMARY KEY,
        environment TEXT NOT NULL,
        kind TEXT NOT NULL,
        body BLOB NOT NULL,
        sha256 TEXT NOT NULL,
        requester TEXT NOT NULL,
        created TEXT NOT NULL,
        expires TEXT NOT NULL,
        deferred_reason TEXT NOT NULL DEFAULT '',
        submitted_at TEXT NOT NULL DEFAULT '',
        revoked_at TEXT NOT NULL DEFAULT '',
        outcome TEXT NOT NULL DEFAULT '',
        incident_id TEXT NOT NULL DEFAULT ''
    );
    CREATE TABLE approval_signatures (
        request_id TEXT NOT NULL REFERENCES approval_requests(request_id),
        environment TEXT NOT NULL,
        kind TEXT NOT NULL,
        officer_id TEXT NOT NULL,
        signed_at TEXT NOT NULL,
        body BLOB NOT NULL,
        signature BLOB NOT NULL,
        PRIMARY KEY (request_id, kind, officer_id)
    );
    CREATE TABLE officer_log (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        environment TEXT NOT NULL,
        officer_id TEXT NOT NULL,
        action TEXT NOT NULL,
        status TEXT NOT NULL,
        body BLOB NOT NULL,
        signer TEXT NOT NULL DEFAULT '',
        signature BLOB,
        at TEXT NOT NULL
    );
    CREATE INDEX officer_log_officer ON officer_log(officer_id);
    CREATE TABLE incidents (
        incident_id TEXT PRIMARY KEY,
        environment TEXT NOT NULL,
        state TEXT NOT NULL,
        data TEXT NOT NULL,
        created TEXT NOT NULL,
        updated TEXT NOT NULL
    );
    CREATE TABLE incident_events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        incident_id TEXT NOT NULL REFERENCES incidents(incident_id),
        environment TEXT NOT NULL,
        at TEXT NOT NULL,
        action TEXT NOT NULL,
        actor TEXT NOT NULL DEFAULT '',
        details TEXT NOT NULL DEFAULT '{}'
    );
    """,
    """
    CREATE TABLE revoked_credentials (
        environment TEXT NOT NULL,
        issuer TEXT NOT NULL,
        serial TEXT NOT NULL,
        revoked_at TEXT NOT NULL,
        crl_sha256 TEXT NOT NULL,
        PRIMARY KEY (environment, issuer, serial)
    );
    """,
]
