"""The one place that finds bundled data files under `resources/` (works from a checkout,
an installed wheel with the data beside the package, or a frozen bundle)."""

from __future__ import annotations

import sys
from pathlib import Path


def resources_dir() -> Path:
    frozen = getattr(sys, "_MEIPASS", None)
    candidates = []
    if frozen:
        candidates.append(Path(frozen) / "resources")
    here = Path(__file__).resolve().parent
    candidates += [here.parent / "resources", here / "resources"]
    for c in candidates:
        if c.is_dir():
            return c
    raise FileNotFoundError("SMKI Desktop's resources folder is missing from this installation.")


def resource(*parts: str) -> Path:
    return resources_dir().joinpath(*parts)
