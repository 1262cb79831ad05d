"""The desktop face (PySide6): a thin layer over the services."""
