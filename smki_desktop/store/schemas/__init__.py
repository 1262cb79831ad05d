"""Per-component schema migrations; each module holds COMPONENT and MIGRATIONS (append only)."""
