"""SMKI Desktop: the workstation application for GB smart-metering SMKI officers."""

import os

__version__ = "0.1.0"

# PySide 6.8+ creates each Qt type on first use ("lazy" types). That creation is not safe
# against a second thread doing the same: CI once saw a segfault while a background job imported
# QtGui names as the GUI thread ran. The cause was the job touching Qt at all; since then Qt
# belongs to the GUI thread (docs/DEVELOPING.md), PDFs are laid out in a child process, and the
# tests' guard (SMKI_QT_THREAD_GUARD, gui/jobs.py) fails on any Qt call or Qt-module import made
# by a job. So the types stay lazy, as PySide ships them: building all of them up front cost
# about 0.2 s of every start. PYSIDE6_OPTION_LAZY=0 in the environment still turns it off.
os.environ.setdefault("PYSIDE6_OPTION_LAZY", "1")
