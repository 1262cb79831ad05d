"""Adapters to the DCC: web service (mutual TLS), browser-portal upload, offline bundles, outbox."""
