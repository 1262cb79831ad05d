"""Device CSR batch tables: batches (one per package or web-service submission) and one row
per Device CSR with its state, DCC result, matched certificate and lint findings."""

COMPONENT = "devices"

MIGRATIONS = [
    """
    CREATE TABLE device_batches (
        id TEXT PRIMARY KEY,
        environment TEXT NOT NULL,
        name TEXT NOT NULL,
        channel TEXT NOT NULL,              -- portal-zip | web-service
        state TEXT NOT NULL,                -- packaged | submitted | completed
        total INTEGER NOT NULL,
        created TEXT NOT NULL,
        submitted TEXT,
        pickup_deadline TEXT,
        outbox_ref TEXT,
        server_id TEXT,
        out_dir TEXT,
        files TEXT NOT NULL DEFAULT '[]',
        updated TEXT NOT NULL
    );
    CREATE TABLE device_csrs (
        environment TEXT NOT NULL,
        key_id TEXT NOT NULL,
        batch_id TEXT REFERENCES device_batches(id),
        file_name TEXT NOT NULL,
        device_eui TEXT NOT NULL,           -- 16 upper-case hex digits
        usage TEXT NOT NULL,                -- signing | key-agreement
        csr BLOB NOT NULL,
        source TEXT NOT NULL DEFAULT '',
        locator TEXT NOT NULL DEFAULT '',
        status TEXT NOT NULL,               -- packaged | pending | issued | error | anomaly |
                                            -- ineligible | mismatch
        error_code TEXT,
        detail TEXT,
        certificate BLOB,
        cert_serial TEXT,
        cert_issuer TEXT,
        lint TEXT,
        created TEXT NOT NULL,
        updated TEXT NOT NULL,
        PRIMARY KEY (environment, key_id)
    );
    CREATE INDEX device_csrs_eui ON device_csrs(environment, device_eui);
    CREATE INDEX device_csrs_batch ON device_csrs(batch_id);
    CREATE INDEX device_csrs_file ON device_csrs(environment, file_name);
    """,
    # keyset paging of the Devices list filtered by status and sorted by EUI (list_page):
    # the filter and the sort key in one index, key_id last to make the order total
    """
    CREATE INDEX device_csrs_status_eui ON device_csrs(environment, status, device_eui, key_id);
    """,
]
