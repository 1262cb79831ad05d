"""The least a Python process on our stack spends on `smki adt sign` or `verify` of FILE.

Run as a script: `python bench/adt_floor.py FILE`. It starts the same interpreter, hashes FILE
on a helper thread (4 MiB reads, as `services/digest_prefetch.py` does) while it imports the
libraries those commands cannot do without — `sqlite3` (database and audit), `cryptography`'s
X.509 and EC (the certificate and the signature), `asn1crypto.cms` (the CMS structure) and
`secretstorage` (the keyring) — and prints the digest. No app code, no keyring call, no
database, no signature: the figure is a floor under the real commands, not a rival to them.
"""

import hashlib
import sys
import threading

digest = hashlib.sha256()


def _hash(path: str) -> None:
    buf = bytearray(4 << 20)
    view = memoryview(buf)
    with open(path, "rb", buffering=0) as fh:
        while n := fh.readinto(view):
            digest.update(view[:n])


worker = threading.Thread(target=_hash, args=(sys.argv[1],))
worker.start()
import sqlite3  # noqa: E402,F401

import asn1crypto.cms  # noqa: E402,F401
import secretstorage  # noqa: E402,F401
from cryptography import x509  # noqa: E402,F401
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402,F401

worker.join()
print(digest.hexdigest())
