"""SQLite persistence, one database per environment."""
