"""Settings sections; each module defines `Section(QWidget)` with `title` and `order`."""
