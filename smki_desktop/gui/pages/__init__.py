"""Sidebar pages; each module defines `Page(QWidget)` with `title` and `order`.

`REGISTRY` names each page module's title and order so that the sidebar is drawn without
importing the pages (each is imported and built when first shown: start-up pays only for the
Dashboard). A page module missing from the registry is still found, by importing it at start-up;
a test checks that the registry agrees with the modules.
"""

REGISTRY: dict[str, tuple[str, int]] = {
    "dashboard": ("Dashboard", 0),
    "keys": ("Keys", 10),
    "certificates": ("Certificates", 20),
    "requests": ("Requests", 30),
    "approvals": ("Approvals", 35),
    "devices": ("Devices", 40),
    "adt": ("ADT", 50),
    "quarantine": ("Quarantine", 55),
    "officers": ("Officers", 60),
    "incidents": ("Incidents", 62),
    "forecast": ("Forecast", 65),
    "repository": ("Repository", 70),
    "audit": ("Audit log", 90),
    "ceremony": ("Key ceremony", 95),
    "settings": ("Settings", 100),
}
