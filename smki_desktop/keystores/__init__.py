"""Key stores: the OS keyring (default) and PKCS#11 tokens, behind the `KeyStore` port."""
