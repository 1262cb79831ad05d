"""Sidebar pages; each module defines `Page(QWidget)` with `title` and `order` (auto-discovered)."""
