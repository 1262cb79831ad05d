"""Issue 14's tables: which keys have a backup (passphrase file or SLIP-39 shares), and the
key ceremonies run in this environment."""

COMPONENT = "key_backup"

MIGRATIONS = [
    """
    CREATE TABLE key_backups (
        backup_id INTEGER PRIMARY KEY AUTOINCREMENT,
        environment TEXT NOT NULL,
        key_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        threshold INTEGER NOT NULL DEFAULT 0,
        shares INTEGER NOT NULL DEFAULT 0,
        location TEXT NOT NULL,
        file_sha256 TEXT NOT NULL,
        created TEXT NOT NULL
    );
    CREATE INDEX key_backups_key ON key_backups(key_id);
    """,
]
