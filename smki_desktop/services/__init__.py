"""Workflows, one module each; the GUI and the CLI are thin faces over these."""
