"""Lay HTML out on A4 PDF pages with QtGui (QTextDocument onto a QPdfWriter), header and
footer with the environment on each page, in THIS process and thread. Without a running Qt
application an offscreen one is created (no display needed).

Below both render/pdf.py (which calls it on the main thread) and render/isolated.py (the child
process that calls it for other threads); it imports neither."""

from __future__ import annotations

import os
from typing import Any

from smki_desktop.core.environment import Environment

_APP: Any = None

FONT_FAMILY = "DejaVu Sans"


def ensure_app() -> None:
    global _APP
    from PySide6.QtCore import QCoreApplication

    if QCoreApplication.instance() is None:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        # A QApplication (not only a QGuiApplication): the same process may show widgets
        # later (the GUI, or a test run), and Qt allows one application object per process.
        from PySide6.QtWidgets import QApplication

        _APP = QApplication(["smki-render"])


def _no_ligatures(font: Any) -> None:
    """Keep `ffi`/`fl` as letters so that text extracted from the PDF reads as typed."""
    from PySide6.QtGui import QFont

    try:
        for tag in ("liga", "clig"):
            font.setFeature(QFont.Tag(tag), 0)
    except AttributeError:  # Qt before 6.7
        pass


def environment_banner(env: Environment) -> str:
    return f"{env.label.upper()} ENVIRONMENT"


def render_here(body_html: str, *, env: Environment, title: str, reference: str) -> bytes:
    ensure_app()
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QMarginsF, QRectF, QSizeF, Qt
    from PySide6.QtGui import (
        QColor,
        QFont,
        QPageLayout,
        QPageSize,
        QPainter,
        QPdfWriter,
        QPen,
        QTextDocument,
    )

    data = QByteArray()
    buf = QBuffer(data)
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    writer = QPdfWriter(buf)
    writer.setResolution(300)
    writer.setPageSize(QPageSize(QPageSize.PageSizeId.A4))
    writer.setPageMargins(QMarginsF(15, 12, 15, 12), QPageLayout.Unit.Millimeter)
    writer.setTitle(f"{title} ({env.label})")
    writer.setCreator("SMKI Desktop")
    rect = writer.pageLayout().paintRectPixels(writer.resolution())
    width, height = rect.width(), rect.height()
    header_h = int(height * 0.055)
    footer_h = int(height * 0.04)
    body_h = height - header_h - footer_h

    doc = QTextDocument()
    doc.documentLayout().setPaintDevice(writer)
    base = QFont(FONT_FAMILY, 10)
    _no_ligatures(base)
    doc.setDefaultFont(base)
    doc.setDocumentMargin(0)
    doc.setHtml(body_html)
    doc.setPageSize(QSizeF(width, body_h))
    pages = doc.pageCount()

    painter = QPainter(writer)
    try:
        banner = environment_banner(env)
        color = QColor("#b00020") if env is Environment.LIVE else QColor("#005a9c")
        small = QFont(FONT_FAMILY, 8)
        bold = QFont(FONT_FAMILY, 11)
        _no_ligatures(small)
        _no_ligatures(bold)
        bold.setBold(True)
        for i in range(pages):
            if i:
                writer.newPage()
            # header
            painter.setPen(QPen(color))
            painter.setFont(bold)
            painter.drawText(QRectF(0, 0, width, header_h * 0.7),
                             int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter),
                             banner)
            painter.setPen(QPen(QColor("black")))
            painter.setFont(small)
            painter.drawText(QRectF(0, 0, width * 0.7, header_h * 0.7),
                             int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
                             f"SMKI Desktop · {title}")
            pen = QPen(color)
            pen.setWidth(6)
            painter.setPen(pen)
            painter.drawLine(0, int(header_h * 0.8), width, int(header_h * 0.8))
            # body
            painter.save()
            painter.translate(0, header_h)
            painter.setClipRect(QRectF(0, 0, width, body_h))
            painter.translate(0, -i * body_h)
            doc.drawContents(painter, QRectF(0, i * body_h, width, body_h))
            painter.restore()
            # footer
            painter.setPen(QPen(QColor("black")))
            painter.setFont(small)
            foot = QRectF(0, height - footer_h * 0.8, width, footer_h * 0.8)
            painter.drawText(foot, int(Qt.AlignmentFlag.AlignLeft
                                       | Qt.AlignmentFlag.AlignVCenter),
                             f"Environment: {env.label}" + (f" · {reference}" if reference
                                                            else ""))
            painter.drawText(foot, int(Qt.AlignmentFlag.AlignRight
                                       | Qt.AlignmentFlag.AlignVCenter),
                             f"Page {i + 1} of {pages}")
    finally:
        painter.end()
    buf.close()
    return bytes(data.data())


# -- nomination forms ---------------------------------------------------------------------
