"""The least a Python process on our stack spends on `smki adt sign` or `verify` of FILE.

Run as a script: `python bench/adt_floor.py sign|verify FILE`. It starts the same interpreter,
hashes FILE on a helper thread (4 MiB reads, as `services/digest_prefetch.py` does) while it
imports the libraries that command cannot do without — `sqlite3` (database and audit),
`cryptography`'s X.509 and EC (the certificate and the signature), `asn1crypto.cms` (the CMS
structure) and, for `sign` only, `secretstorage` (the keyring holds the signing key; `verify`
does not import it) — and prints the digest. No app code, no keyring call, no database, no
signature: the figure is a floor under the real commands, not a rival to them.
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


command, path = sys.argv[1:3]
if command not in ("sign", "verify"):
    raise SystemExit("usage: adt_floor.py sign|verify FILE")
worker = threading.Thread(target=_hash, args=(path,))
worker.start()
import sqlite3  # noqa: E402,F401

import asn1crypto.cms  # noqa: E402,F401
from cryptography import x509  # noqa: E402,F401
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402,F401

if command == "sign":
    import secretstorage  # noqa: F401

worker.join()
print(digest.hexdigest())
