"""Tables for Organisation CSRs, imported certificates and per-environment trust anchors.

`csr_requests.key_id` is UNIQUE: one key per CSR (a key with a CSR is not offered again).
Certificates are identified by (issuer_key, serial): issuer_key is the RFC 5280-normalised
issuer name, so re-importing the same certificate is a no-op. Issue 4 (simulator) adds its root
through `services.certificates.add_trust_anchor(ctx, der, source="simulator")`.
"""

COMPONENT = "certificates"

MIGRATIONS = [
    """
    CREATE TABLE csr_requests (
        csr_id INTEGER PRIMARY KEY,
        environment TEXT NOT NULL,
        key_id TEXT NOT NULL UNIQUE,
        family TEXT NOT NULL,
        role TEXT,
        eui TEXT,
        cn TEXT,
        usage TEXT NOT NULL,
        der BLOB NOT NULL,
        created TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'created'
    );
    CREATE TABLE certificates (
        cert_id INTEGER PRIMARY KEY,
        environment TEXT NOT NULL,
        issuer TEXT NOT NULL,
        issuer_key TEXT NOT NULL,
        serial TEXT NOT NULL,
        family TEXT NOT NULL,
        role TEXT,
        eui TEXT,
        cn TEXT,
        device_eui TEXT,
        usage TEXT,
        key_id TEXT NOT NULL,
        csr_id INTEGER REFERENCES csr_requests(csr_id),
        status TEXT NOT NULL,
        reasons TEXT NOT NULL,
        warnings TEXT NOT NULL,
        not_before TEXT,
        not_after TEXT,
        checked_at TEXT NOT NULL,
        der BLOB NOT NULL,
        imported TEXT NOT NULL,
        UNIQUE (issuer_key, serial)
    );
    CREATE INDEX certificates_key ON certificates(key_id);
    CREATE TABLE trust_anchors (
        fingerprint TEXT PRIMARY KEY,
        environment TEXT NOT NULL,
        subject TEXT NOT NULL,
        source TEXT NOT NULL,
        der BLOB NOT NULL,
        added TEXT NOT NULL
    );
    """,
    # A certificate superseded by the genuine one with its issuer and serial (one that did not
    # verify under this environment's trust anchors, replaced by one that does): kept here,
    # out of `certificates` (whose issuer + serial it would hold), for the audit trail.
    """
    CREATE TABLE certificates_superseded (
        id INTEGER PRIMARY KEY,
        cert_id INTEGER NOT NULL UNIQUE,
        environment TEXT NOT NULL,
        issuer TEXT NOT NULL,
        issuer_key TEXT NOT NULL,
        serial TEXT NOT NULL,
        key_id TEXT NOT NULL,
        csr_id INTEGER,
        status TEXT NOT NULL,
        reasons TEXT NOT NULL,
        der BLOB NOT NULL,
        imported TEXT NOT NULL,
        superseded_by INTEGER NOT NULL,
        superseded_at TEXT NOT NULL,
        reason TEXT NOT NULL
    );
    """,
]
