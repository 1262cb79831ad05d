"""What the Devices page's action controllers see of the page (`DevicesView`), and the table
row shape they fill. The page (`gui/pages/devices.py`) builds the widgets and runs one job at
a time; each user action lives in its own small controller beside this module:

- `devices_source.OpenSource`: open a file or folder (or drop one), validate it;
- `devices_package.PackageForPortal`: write the portal zips;
- `devices_submit.SubmitBatch`: summary, then send over the web service;
- `devices_adhoc.SendOne`: check one Device CSR, summary, send it on its own;
- `devices_results.ImportResults`: file the portal's report and response zip;
- `devices_generate.GenerateTest`: make test devices (Test only).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

from smki_desktop.gui.qt import QLabel, QPushButton, QWidget
from smki_desktop.gui.services import GuiServices

Row = tuple[str, str, str, str, str, str]
DROP_HINT = ("Drop a folder, a .zip or a .csv (device_eui,usage,csr) of Device CSRs here, "
             "or choose one with Open.")


def make_hay(rows: Sequence[Row]) -> list[str]:
    """Each row's search text (lower case), for the page's filter."""
    return ["\t".join(r).lower() for r in rows]


class DevicesView(Protocol):
    """The Devices page as its controllers use it."""

    services: GuiServices
    source: Path | None
    valid_count: int
    hint: QLabel
    summary: QLabel
    check_btn: QPushButton

    def widget(self) -> QWidget:
        """The page itself, as the parent of the dialogs a controller opens."""
        ...

    def run_job(self, fn: Callable[..., Any], *args: Any, done: Callable[[Any], None],
                what: str, cancellable: bool = True,
                failed: Callable[[], None] | None = None, **kwargs: Any) -> None:
        """Run one device job (one at a time) with the page's progress bar and Cancel."""
        ...

    def set_rows(self, rows: list[Row], hay: list[str] | None = None) -> None: ...

    def show_busy(self, busy: bool, text: str = "") -> None: ...

    def show_all(self) -> None: ...
