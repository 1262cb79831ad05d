"""Wizards drawn from the state machines in `core` (one module per wizard)."""
