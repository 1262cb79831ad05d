"""A local SMKI portal and repository simulator (separate process; HTTPS with mutual TLS)."""
