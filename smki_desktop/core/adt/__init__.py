"""Anomaly Detection Threshold files, pure: profiles (columns as data), the CSV validator,
the signed manifest and the quarantine Action file."""

# the kinds of file a profile describes (here, so that a command line naming them loads no
# profile code: `smki adt verify` reads none)
KINDS = ("adt-file", "quarantine-report", "quarantine-action")
