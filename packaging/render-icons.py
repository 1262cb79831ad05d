"""Render resources/icons/smki-desktop.svg to the PNG sizes desktops ask for, a Windows .ico and
a macOS .icns, with Qt's own SVG renderer (no other tool needed). The results are committed;
re-run after changing the SVG:  .venv/bin/python packaging/render-icons.py
"""

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
ICONS = Path(__file__).resolve().parent.parent / "resources" / "icons"


def render(renderer: QSvgRenderer, size: int) -> QImage:
    img = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    img.fill(Qt.GlobalColor.transparent)
    p = QPainter(img)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(p)
    p.end()
    return img


def main() -> int:
    QGuiApplication(sys.argv[:1])
    renderer = QSvgRenderer(str(ICONS / "smki-desktop.svg"))
    if not renderer.isValid():
        sys.stderr.write("render-icons: the SVG is not valid\n")
        return 1
    for size in SIZES:
        out = ICONS / f"smki-desktop-{size}.png"
        if not render(renderer, size).save(str(out), "PNG"):
            sys.stderr.write(f"render-icons: could not write {out}\n")
            return 1
    ok = render(renderer, 256).save(str(ICONS / "smki-desktop.ico"), "ICO")
    ok = render(renderer, 512).save(str(ICONS / "smki-desktop.icns"), "ICNS") and ok
    print(f"render-icons: {len(SIZES)} PNGs, .ico and .icns in {ICONS}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
