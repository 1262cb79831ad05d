"""Anomaly Detection Threshold files, pure: profiles (columns as data), the CSV validator,
the signed manifest and the quarantine Action file."""
