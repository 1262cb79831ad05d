"""ADT tables: signed files (ADT and quarantine Action files) with their manifests, SRO
confirmations, delivery packages, imported quarantine reports and their items.
(Trust anchors are the certificate store's, issue 3.)"""

COMPONENT = "adt"

MIGRATIONS = [
    """
    CREATE TABLE adt_files (
        id INTEGER PRIMARY KEY,
        environment TEXT NOT NULL,
        kind TEXT NOT NULL,
        name TEXT NOT NULL,
        path TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        size INTEGER NOT NULL,
        profile TEXT NOT NULL,
        smsr_reference TEXT NOT NULL DEFAULT '',
        key_id TEXT NOT NULL,
        signer_subject TEXT NOT NULL,
        signer_issuer TEXT NOT NULL,
        signer_serial TEXT NOT NULL,
        signed_at TEXT NOT NULL,
        signature_path TEXT NOT NULL,
        signature_sha256 TEXT NOT NULL,
        manifest_path TEXT NOT NULL,
        manifest_sha256 TEXT NOT NULL,
        audit_seq INTEGER
    );
    CREATE INDEX adt_files_sha ON adt_files(sha256);
    CREATE TABLE adt_confirmations (
        id INTEGER PRIMARY KEY,
        environment TEXT NOT NULL,
        adt_sha256 TEXT NOT NULL,
        decision TEXT NOT NULL,
        resubmitter TEXT NOT NULL DEFAULT '',
        sro TEXT NOT NULL,
        confirmed_at TEXT NOT NULL,
        document_path TEXT NOT NULL,
        document_sha256 TEXT NOT NULL,
        signature_path TEXT NOT NULL,
        signature_sha256 TEXT NOT NULL,
        key_id TEXT NOT NULL,
        audit_seq INTEGER
    );
    CREATE INDEX adt_confirmations_sha ON adt_confirmations(adt_sha256);
    CREATE TABLE adt_deliveries (
        id INTEGER PRIMARY KEY,
        environment TEXT NOT NULL,
        file_sha256 TEXT NOT NULL,
        package_path TEXT NOT NULL,
        package_sha256 TEXT NOT NULL,
        sent_to TEXT NOT NULL DEFAULT '',
        remote_ref TEXT NOT NULL DEFAULT '',
        created TEXT NOT NULL,
        audit_seq INTEGER
    );
    CREATE TABLE adt_quarantine_reports (
        id INTEGER PRIMARY KEY,
        environment TEXT NOT NULL,
        name TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        profile TEXT NOT NULL,
        imported TEXT NOT NULL,
        items INTEGER NOT NULL,
        action_sha256 TEXT NOT NULL DEFAULT '',
        UNIQUE (environment, sha256)
    );
    CREATE TABLE adt_quarantine_items (
        report_id INTEGER NOT NULL REFERENCES adt_quarantine_reports(id),
        quarantine_id TEXT NOT NULL,
        data TEXT NOT NULL,
        decision TEXT NOT NULL DEFAULT '',
        PRIMARY KEY (report_id, quarantine_id)
    );
    """,
]
