"""X.509, PKCS#10 and CMS on `cryptography` and `asn1crypto`."""
