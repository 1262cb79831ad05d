"""Help for the officer: the About box (version, and the licences of the parts we ship) and
the help text of the page shown (F1). The minimal About of the first-run work lives in
`gui/about.py`; this one adds the licences."""

from __future__ import annotations

import html
from importlib import metadata

from smki_desktop import __version__
from smki_desktop.gui import help_texts, texts
from smki_desktop.gui.qt import QMessageBox, QWidget

#: the runtime parts we ship, whose licences About lists
PARTS = ("PySide6-Essentials", "cryptography", "asn1crypto", "keyring", "platformdirs",
         "python-pkcs11", "httpx", "defusedxml", "shamir-mnemonic", "segno", "pyqtgraph",
         "numpy")


def licence_of(dist: str) -> tuple[str, str]:
    """(version, licence) of an installed distribution, "not installed" where it is not."""
    try:
        md = metadata.metadata(dist)
    except metadata.PackageNotFoundError:
        return "", "not installed"
    def first(key: str) -> str:
        values = md.get_all(key) or []
        return str(values[0]) if values else ""

    lic = first("License-Expression")
    if not lic:
        raw = first("License")
        lic = raw if raw and len(raw) < 60 and "\n" not in raw else ""
    if not lic:
        classifiers = [c.split("::")[-1].strip() for c in md.get_all("Classifier") or []
                       if c.startswith("License ::")]
        lic = ", ".join(classifiers) or "see the package"
    return first("Version"), lic


def about_html() -> str:
    rows = "".join(
        f"<tr><td>{html.escape(d)}</td><td>{html.escape(v)}</td><td>{html.escape(lic)}</td></tr>"
        for d in PARTS for v, lic in [licence_of(d)])
    return (f"<h3>{texts.APP_TITLE} {html.escape(__version__)}</h3>"
            "<p>A workstation for the security officers (AROs and SROs) of GB smart-metering "
            "parties using the DCC's SMKI.</p><p><b>Parts and their licences</b></p>"
            f"<table cellpadding='2'>{rows}</table>")


def show_about(parent: QWidget) -> QMessageBox:
    box = QMessageBox(QMessageBox.Icon.Information, f"About {texts.APP_TITLE}", about_html(),
                      parent=parent)
    box.setObjectName("aboutBox")
    box.open()
    return box


def show_page_help(parent: QWidget, module: str, title: str) -> QMessageBox:
    box = QMessageBox(QMessageBox.Icon.Information, f"Help — {title}",
                      help_texts.as_html(module, title), parent=parent)
    box.setObjectName("pageHelpBox")
    box.open()
    return box
