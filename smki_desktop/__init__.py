"""SMKI Desktop: the workstation application for GB smart-metering SMKI officers."""

import os

__version__ = "0.1.0"

# PySide 6.8+ creates each Qt type on first use ("lazy" types). That creation is not safe
# against a second thread doing the same, nor re-entrant: CI saw a segfault while a background
# job imported QtGui names as the GUI thread ran. Every Qt type is created when PySide6 loads
# instead (about 60 ms and a few MB once). The variable only counts before PySide6 is first
# imported, which is why it is set here, on entry to the package, ahead of any Qt import.
os.environ.setdefault("PYSIDE6_OPTION_LAZY", "0")
