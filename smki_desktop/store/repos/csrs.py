"""Organisation CSR rows (the part of csr_requests new code needs): typed in and out."""

from __future__ import annotations

import sqlite3


def discard(c: sqlite3.Connection, csr_id: int, environment: str) -> str | None:
    """Delete a CSR that never left the application (no certificate refers to it); returns
    its key id, or None when there is no such CSR here or a certificate refers to it."""
    row = c.execute("SELECT key_id FROM csr_requests WHERE csr_id=? AND environment=?",
                    (csr_id, environment)).fetchone()
    if row is None:
        return None
    if c.execute("SELECT 1 FROM certificates WHERE csr_id=?", (csr_id,)).fetchone():
        return None
    c.execute("DELETE FROM csr_requests WHERE csr_id=?", (csr_id,))
    return str(row[0])
