"""Devices page: drop a folder, zip or CSV of Device CSRs, validate, package for the portal,
submit to the web service, import the portal's answer, generate test devices (Test only), and
browse 50,000 rows without stalling.

Every long step runs in the job runner with a progress bar and a Cancel button. The results
table is a `QAbstractTableModel` behind a `QSortFilterProxyModel`; filtering and sorting are
done by the source model on plain Python lists (a few tens of milliseconds for 50,000 rows)
rather than by per-row virtual calls from C++ (seconds at that size), and the proxy passes its
`sort` on. Any view (filtered and sorted as shown) exports to CSV.
"""

from __future__ import annotations

import csv
import importlib
import io
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from smki_desktop.core.environment import Environment
from smki_desktop.core.errors import SmkiError
from smki_desktop.core.spreadsheet import safe_cell
from smki_desktop.gui.page_op import PageOp
from smki_desktop.gui.qt import (
    QAbstractItemView,
    QAbstractTableModel,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDragEnterEvent,
    QDropEvent,
    QFileDialog,
    QFormLayout,
    QGuiApplication,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QModelIndex,
    QPersistentModelIndex,
    QProgressBar,
    QPushButton,
    QSortFilterProxyModel,
    QSpinBox,
    Qt,
    QTableView,
    QTimer,
    QVBoxLayout,
    QWidget,
)
from smki_desktop.gui.texts import error_text
from smki_desktop.gui.widgets.confirm import ask_confirmation
from smki_desktop.gui.widgets.details import wire_row_actions
from smki_desktop.services import device_adhoc

if TYPE_CHECKING:
    from smki_desktop.gui.services import GuiServices

COLUMNS = ["Device EUI", "Usage", "Status", "Detail", "Source", "Entry"]
Row = tuple[str, str, str, str, str, str]
DROP_HINT = ("Drop a folder, a .zip or a .csv (device_eui,usage,csr) of Device CSRs here, "
             "or choose one with Open.")


class DeviceRowsModel(QAbstractTableModel):
    """All rows in `rows`; `view` is the list of row numbers shown, in the order shown."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.rows: list[Row] = []
        self.view: list[int] = []
        self._hay: list[str] = []
        self._statuses: list[str] = []
        self._text = ""
        self._status = ""
        self._sort: tuple[int, bool] | None = None

    # -- Qt model interface
    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.view)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def data(self, index: QModelIndex | QPersistentModelIndex,
             role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.DisplayRole or role == Qt.ItemDataRole.ToolTipRole:
            return self.rows[self.view[index.row()]][index.column()]
        return None

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return COLUMNS[section]
        return None

    # -- content, filter, sort
    def set_rows(self, rows: Sequence[Row], hay: list[str] | None = None) -> None:
        """Show `rows`; `hay` (the lower-case search text of each row) may be made by the
        job in the background, so that the GUI thread only swaps lists."""
        self.rows = list(rows)
        self._hay = hay if hay is not None and len(hay) == len(self.rows) else make_hay(rows)
        self._statuses = sorted({r[2] for r in self.rows})
        self._apply()

    def set_filter(self, text: str = "", status: str = "") -> None:
        self._text, self._status = text.strip().lower(), status
        self._apply()

    def sort_by(self, column: int, descending: bool) -> None:
        self._sort = (column, descending)
        self._apply()

    def statuses(self) -> list[str]:
        return list(self._statuses)

    def _apply(self) -> None:
        rows, hay, text, status = self.rows, self._hay, self._text, self._status
        if text and status:
            view = [i for i, h in enumerate(hay) if text in h and rows[i][2] == status]
        elif text:
            view = [i for i, h in enumerate(hay) if text in h]
        elif status:
            view = [i for i, r in enumerate(rows) if r[2] == status]
        else:
            view = list(range(len(rows)))
        if self._sort is not None:
            col, desc = self._sort
            view.sort(key=lambda i: rows[i][col], reverse=desc)
        self.beginResetModel()
        self.view = view
        self.endResetModel()

    def visible_rows(self) -> list[Row]:
        return [self.rows[i] for i in self.view]


def make_hay(rows: Sequence[Row]) -> list[str]:
    return ["\t".join(r).lower() for r in rows]


class PassThroughProxy(QSortFilterProxyModel):
    """Hands sorting to the source model (one Python sort instead of a C++ sort calling back
    into Python for every comparison)."""

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        src = self.sourceModel()
        if isinstance(src, DeviceRowsModel) and column >= 0:
            src.sort_by(column, order == Qt.SortOrder.DescendingOrder)


def rows_to_csv(rows: Sequence[Row]) -> bytes:
    out = io.StringIO(newline="")
    w = csv.writer(out, lineterminator="\n")
    w.writerow(COLUMNS)
    w.writerows([safe_cell(v) for v in r] for r in rows)  # no formula from a file name
    return out.getvalue().encode("utf-8")


class Page(QWidget):
    title = "Devices"
    order = 40
    shows = frozenset({"devices"})

    def __init__(self, services: GuiServices, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.ctx = services.ctx
        self.op: PageOp | None = None
        self.source: Path | None = None
        self.valid_count = 0  # CSRs found valid in `source` by the last validation
        self.setAcceptDrops(True)

        layout = QVBoxLayout(self)
        self.hint = QLabel(DROP_HINT)
        self.hint.setWordWrap(True)
        layout.addWidget(self.hint)

        bar = QHBoxLayout()
        self.open_btn = QPushButton("&Open file…")
        self.folder_btn = QPushButton("Open &folder…")
        self.package_btn = QPushButton("&Package for portal…")
        self.submit_btn = QPushButton("Su&bmit (web service)")
        self.import_btn = QPushButton("&Import response…")
        self.all_btn = QPushButton("&All device CSRs")
        self.generate_btn = QPushButton("&Generate test devices…")
        self.export_btn = QPushButton("&Export view to CSV…")
        self.adhoc_btn = QPushButton("Send &one CSR…")
        self.adhoc_btn.setToolTip("Check a single Device CSR and send it on its own over the "
                                  "web service")
        # two rows: where CSRs come from, then what to do with them (one row would make the
        # window wider than a laptop screen)
        for b in (self.open_btn, self.folder_btn, self.all_btn, self.generate_btn,
                  self.adhoc_btn):
            bar.addWidget(b)
        bar.addStretch(1)
        layout.addLayout(bar)
        actions = QHBoxLayout()
        self.chart_btn = QPushButton("Batches &chart")
        self.chart_btn.setCheckable(True)
        self.chart_btn.setToolTip("Batches over time and their outcomes (the figures are the "
                                  "table)")
        for b in (self.package_btn, self.submit_btn, self.import_btn, self.export_btn,
                  self.chart_btn):
            actions.addWidget(b)
        actions.addStretch(1)
        layout.addLayout(actions)
        self.generate_btn.setVisible(self.ctx.env is Environment.TEST)
        self.package_btn.setEnabled(False)
        self.submit_btn.setEnabled(False)

        prog = QHBoxLayout()
        self.progress = QProgressBar()
        self.progress.setTextVisible(True)
        self.cancel_btn = QPushButton("&Cancel")
        self.cancel_btn.setEnabled(False)
        prog.addWidget(self.progress, 1)
        prog.addWidget(self.cancel_btn)
        layout.addLayout(prog)

        filt = QHBoxLayout()
        self.filter_edit = QLineEdit()
        self.filter_edit.setPlaceholderText("Filter: EUI, file, reason…")
        self.filter_edit.setClearButtonEnabled(True)
        self.status_combo = QComboBox()
        self.status_combo.addItem("All statuses", "")
        show_label = QLabel("&Show:")
        show_label.setBuddy(self.status_combo)
        filt.addWidget(show_label)
        filt.addWidget(self.status_combo)
        filt.addWidget(self.filter_edit, 1)
        self.count_label = QLabel("")
        filt.addWidget(self.count_label)
        layout.addLayout(filt)

        self.model = DeviceRowsModel(self)
        self.proxy = PassThroughProxy(self)
        self.proxy.setSourceModel(self.model)
        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(22)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setStretchLastSection(True)
        for col, width in enumerate((190, 100, 90, 360, 160)):
            self.table.setColumnWidth(col, width)
        self.table.setAccessibleName("Device CSRs")
        wire_row_actions(self.table, self.row_actions, self.copy_row)
        layout.addWidget(self.table, 1)
        self.chart: Any = None  # built when first asked for (charting stays out of start-up)
        self._layout = layout
        self.summary = QLabel("")
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.summary)

        self._filter_timer = QTimer(self)
        self._filter_timer.setSingleShot(True)
        self._filter_timer.setInterval(150)
        self._filter_timer.timeout.connect(self._apply_filter)
        self.filter_edit.textChanged.connect(lambda _t: self._filter_timer.start())
        self.status_combo.currentIndexChanged.connect(lambda _i: self._apply_filter())
        self.open_btn.clicked.connect(self._choose_file)
        self.folder_btn.clicked.connect(self._choose_folder)
        self.package_btn.clicked.connect(self._choose_package)
        self.submit_btn.clicked.connect(self.request_submit)
        self.import_btn.clicked.connect(self._choose_import)
        self.all_btn.clicked.connect(self.show_all)
        self.generate_btn.clicked.connect(self._choose_generate)
        self.export_btn.clicked.connect(self._choose_export)
        self.cancel_btn.clicked.connect(self.cancel)
        self.adhoc_btn.clicked.connect(self._choose_adhoc)
        self.chart_btn.toggled.connect(self.show_chart)

    # -- drag and drop
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls() and any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = [Path(u.toLocalFile()) for u in event.mimeData().urls() if u.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            self.validate(paths[0])

    # -- jobs
    @property
    def job(self) -> PageOp | None:
        """The device job running, if one is (one at a time)."""
        return self.op if self.op is not None and self.op.running else None

    def _run(self, fn: Callable[..., Any], *args: Any, done: Callable[[Any], None],
             what: str, cancellable: bool = True,
             failed: Callable[[], None] | None = None, **kwargs: Any) -> None:
        """Run `fn` as a PageOp; `cancellable` False for a job that does not check
        `progress.cancelled` (its Cancel button stays disabled rather than do nothing);
        `failed()` runs first when the job fails or is cancelled."""
        if self.job is not None:
            self.services.status("A device job is already running; wait or cancel it.")
            return

        def started(busy: bool) -> None:
            self._busy(busy, what if busy else "Done")
            if busy:
                self.cancel_btn.setEnabled(cancellable)

        def cancelled(_exc: BaseException) -> None:
            if failed is not None:
                failed()
            self._busy(False, "Cancelled")
            self.summary.setText(f"{what} cancelled; nothing was changed.")

        def failure(text: str, exc: BaseException) -> None:
            if failed is not None:
                failed()
            self._busy(False, "Failed")
            self.summary.setText(f"{what} failed: {text}")
            self.services.error(what, exc)

        self.op = PageOp(self, self.services, fn, *args, name=what, **kwargs) \
            .busy(hook=started).progress(self._progress).changes("devices") \
            .success(done).cancelled(cancelled).failure(failure)
        self.op.run()

    def _busy(self, busy: bool, text: str = "") -> None:
        """What the page shows while a job runs: sources and actions greyed, the progress bar
        moving; after it, the actions that have a source again."""
        self.cancel_btn.setEnabled(busy)
        for b in (self.open_btn, self.folder_btn, self.import_btn, self.generate_btn,
                  self.all_btn, self.adhoc_btn):
            b.setEnabled(not busy)
        self.package_btn.setEnabled(not busy and self.source is not None)
        self.submit_btn.setEnabled(not busy and self.source is not None)
        if busy:
            self.progress.setRange(0, 0)
            self.progress.setFormat(text)
        else:
            self.progress.setRange(0, 1)
            self.progress.setValue(1)
            self.progress.setFormat(text or "Ready")

    def _progress(self, done: int, total: int, text: str) -> None:
        if total:
            self.progress.setRange(0, total)
            self.progress.setValue(done)
            self.progress.setFormat(f"{text}: {done:,}/{total:,}")

    def cancel(self) -> None:
        if self.job is not None:
            self.job.cancel()
            self.progress.setFormat("Cancelling…")

    # -- actions
    def validate(self, path: Path) -> None:
        self.source = Path(path)
        self.valid_count = 0
        self.hint.setText(f"Source: {self.source}")
        self._run(_validate_rows, self.ctx, self.source, done=self._show_validation,
                  what="Validating", failed=self._load_failed)

    def _load_failed(self) -> None:
        """A source that could not be read is no source: Package and Submit go grey and the
        previous rows go, so nothing old is mistaken for this file's result."""
        self.source = None
        self.valid_count = 0
        self.hint.setText(DROP_HINT)
        self._set_rows([])

    def _show_validation(self, payload: tuple[Any, list[Row], list[str]]) -> None:
        res, rows, hay = payload
        self.valid_count = len(res.accepted)
        self._set_rows(rows, hay)
        self.summary.setText(f"{res.assessment.total:,} CSRs: {len(res.accepted):,} valid, "
                             f"{len(res.rejected):,} rejected ({res.seconds:.1f} s).")
        self._busy(False, "Validated")

    def package(self, out_dir: Path, max_per_zip: int | None = None) -> None:
        from smki_desktop.services import devices

        if self.source is None:
            return
        kwargs: dict[str, Any] = {}
        if max_per_zip:
            kwargs["max_per_zip"] = max_per_zip
        self._run(devices.package, self.ctx, self.source, Path(out_dir), done=self._packaged,
                  what="Packaging", **kwargs)

    def _packaged(self, res: Any) -> None:
        zips = ", ".join(f"{p.name} ({n:,})" for p, n in
                         zip(res.files.zips, res.files.counts, strict=True))
        self.summary.setText(
            f"Batch {res.batch_id}: {zips} in {res.files.zips[0].parent}. Upload each zip to the "
            "SMKI Portal, then import the report and response zip here within 30 days.")
        self.show_all()

    def request_submit(self) -> None:
        """The Submit button: a summary of what will be sent, then `submit()`."""
        if self.source is None:
            return
        ask_confirmation(
            self, self.submit, title="Submit Device CSRs", env=self.ctx.env,
            action="&Submit to the DCC",
            what="Send these Device CSRs to the DCC over the web service, signed with your "
                 "web-service credential. The DCC issues a certificate for each one.",
            facts=[("Source", str(self.source)), ("Device CSRs", f"{self.valid_count:,}"),
                   ("Credential", "the web-service credential (Settings → Portal)")])

    def show_chart(self, on: bool) -> None:
        if on and self.chart is None:
            charts = importlib.import_module("smki_desktop.gui.charts")
            self.chart = charts.BatchChart()
            self._layout.insertWidget(self._layout.indexOf(self.table) + 1, self.chart)
        if self.chart is not None:
            self.chart.setVisible(on)
        if on:
            self.services.jobs.submit(
                _batch_counts, self.ctx, name="batch outcomes",
                on_done=lambda b: self.chart.show_batches(b) if self.chart else None,
                on_error=lambda e: self.summary.setText(error_text(e)))

    def adhoc(self, path: Path) -> None:
        """One Device CSR: checked in the background, then a summary, then sent."""
        def check(ctx: Any, p: Path) -> Any:
            return device_adhoc.check(ctx, p.read_bytes(), p.name)

        def checked(c: device_adhoc.AdhocCheck) -> None:
            if not c.ok:
                self.summary.setText(f"{path.name}: Device CSR for {c.device_eui} fails the "
                                     "device profile, so it is not sent: "
                                     + "; ".join(c.findings))
                return
            ask_confirmation(
                self, lambda: self._run(device_adhoc.submit, self.ctx, c.der, str(path),
                                        done=self._adhoc_sent, what="Sending the Device CSR",
                                        cancellable=False),
                title="Send one Device CSR", env=self.ctx.env, action="&Send to the DCC",
                what="Send this Device CSR on its own (ad hoc) to the DCC over the web "
                     "service; the DCC issues its certificate.",
                facts=[("File", str(path)), ("Device", c.device_eui), ("Usage", c.usage),
                       ("How many", "1")])

        self._run(check, self.ctx, Path(path), done=checked, what="Checking the Device CSR",
                  cancellable=False)

    def _adhoc_sent(self, res: device_adhoc.AdhocSent) -> None:
        item = res.item
        self.summary.setText(f"Device CSR sent as {item.ref}: {item.state}"
                             + (f" ({item.last_error})" if item.last_error else "") + ".")

    def _choose_adhoc(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "One Device CSR", "",
                                              "Device CSR (*.csr *.pem *.der);;All files (*)")
        if path:
            self.adhoc(Path(path))

    def submit(self) -> None:
        from smki_desktop.services import devices

        if self.source is None:
            return
        self._run(devices.submit, self.ctx, self.source, done=self._submitted,
                  what="Submitting")

    def _submitted(self, res: Any) -> None:
        self.summary.setText(f"Batch {res.batch_id} queued ({res.outbox_ref}); results arrive "
                             "when the portal is polled.")
        self.show_all()

    def import_response(self, report: Path, zip_path: Path | None) -> None:
        from smki_desktop.services import devices

        self._run(devices.import_response, self.ctx, report, zip_path, done=self._imported,
                  what="Importing results")

    def _imported(self, res: Any) -> None:
        counts = ", ".join(f"{k} {v:,}" for k, v in sorted(res.counts.items()))
        extra = []
        if res.unmatched:
            extra.append(f"{len(res.unmatched)} certificates match no CSR")
        if res.problems:
            extra.append(f"{len(res.problems)} problems: " + "; ".join(res.problems[:3]))
        self.summary.setText(f"Imported: {counts}." + (" " + "; ".join(extra) if extra else ""))
        self.show_all()

    def show_all(self) -> None:
        # collecting files each finished batch whole and cannot be stopped half-way
        self._run(_store_rows, self.ctx, done=self._show_store, what="Loading device CSRs",
                  cancellable=False)

    def _show_store(self, payload: tuple[list[Row], list[str], list[str]]) -> None:
        rows, hay, warnings = payload
        self._set_rows(rows, hay)
        if warnings:
            self.summary.setText(" | ".join(warnings))

    def generate(self, count: int, out_dir: Path) -> None:
        from smki_desktop.services import devices

        self._run(devices.generate_test, self.ctx, count, Path(out_dir), done=self._generated,
                  what="Generating test devices")

    def _generated(self, res: Any) -> None:
        self.summary.setText(f"{res.count:,} test device CSRs in {res.out} "
                             f"({res.first_eui}..{res.last_eui}); keys: "
                             f"{res.keys_file or 'discarded'}.")
        self.validate(res.out)

    def export_view(self, path: Path) -> None:
        """Write the rows in view as CSV; the save dialog has already confirmed replacing an
        existing file."""
        rows = self.model.visible_rows()
        self._run(_export_rows, self.ctx, Path(path), rows_to_csv(rows), len(rows),
                  done=lambda p: self.summary.setText(f"Exported {len(rows):,} rows to {p}."),
                  what="Exporting", cancellable=False)

    def selected_row(self) -> Row | None:
        idx = self.table.currentIndex()
        if not idx.isValid():
            return None
        src = self.proxy.mapToSource(idx)
        return self.model.rows[self.model.view[src.row()]] if src.isValid() else None

    def copy_row(self) -> None:
        r = self.selected_row()
        if r is not None:
            QGuiApplication.clipboard().setText("\t".join(r))
            self.services.status(f"Copied the row of {r[0]}.")

    def row_actions(self) -> list[tuple[str, Callable[[], None]]]:
        r = self.selected_row()
        if r is None:
            return []
        return [("Copy the row", self.copy_row),
                (f"Copy the EUI {r[0]}", lambda: QGuiApplication.clipboard().setText(r[0])),
                ("Show only this device", lambda: self.filter_edit.setText(r[0])),
                ("Export this view to CSV…", self._choose_export)]

    # -- table helpers
    def _set_rows(self, rows: list[Row], hay: list[str] | None = None) -> None:
        self.model.set_rows(rows, hay)
        current = self.status_combo.currentData()
        self.status_combo.blockSignals(True)
        self.status_combo.clear()
        self.status_combo.addItem("All statuses", "")
        for s in self.model.statuses():
            self.status_combo.addItem(s, s)
        idx = self.status_combo.findData(current)
        self.status_combo.setCurrentIndex(max(idx, 0))
        self.status_combo.blockSignals(False)
        self._apply_filter()

    def _apply_filter(self) -> None:
        self.model.set_filter(self.filter_edit.text(), self.status_combo.currentData() or "")
        self.count_label.setText(f"{len(self.model.view):,} of {len(self.model.rows):,}")

    # -- dialogs (thin: each calls the method above)
    def _choose_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Device CSRs", "",
                                              "Device CSRs (*.zip *.csv *.csr);;All files (*)")
        if path:
            self.validate(Path(path))

    def _choose_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Folder of device CSRs")
        if path:
            self.validate(Path(path))

    def _choose_package(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Write the portal zips into")
        if path:
            self.package(Path(path))

    def _choose_import(self) -> None:
        report, _ = QFileDialog.getOpenFileName(self, "The portal's report", "",
                                                "Report (*.txt);;All files (*)")
        if not report:
            return
        zip_path, _ = QFileDialog.getOpenFileName(self, "The <request>-response zip (Cancel if "
                                                  "none)", str(Path(report).parent),
                                                  "Response zip (*.zip)")
        self.import_response(Path(report), Path(zip_path) if zip_path else None)

    def _choose_generate(self) -> None:
        dlg = QDialog(self)
        dlg.setWindowTitle("Generate test devices")
        form = QFormLayout(dlg)
        spin = QSpinBox()
        spin.setRange(1, 1_000_000)
        spin.setValue(1000)
        form.addRow("&Number of CSRs (a signing and a key-agreement CSR per device)", spin)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(dlg.accept)
        buttons.rejected.connect(dlg.reject)
        form.addRow(buttons)
        if not dlg.exec():
            return
        count = spin.value()
        path = QFileDialog.getExistingDirectory(self, "Write the test devices into")
        if path:
            self.generate(count, Path(path))

    def _choose_export(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export this view", "devices.csv",
                                              "CSV (*.csv)")
        if path:
            self.export_view(Path(path))

    def refresh(self) -> None:
        if self.job is None and not self.model.rows:
            self.show_all()


def _validate_rows(ctx: Any, path: Path, progress: Any = None) -> tuple[Any, list[Row],
                                                                       list[str]]:
    """Background: validate, and build the table rows and their search text."""
    from smki_desktop.services import devices

    res = devices.validate(ctx, path, progress=progress)
    rows: list[Row] = [(a.eui_text, a.usage, "valid", "", a.source, a.locator)
                       for a in res.accepted]
    rows += [(r.eui, r.usage, "rejected", r.reason, r.source, r.locator) for r in res.rejected]
    return res, rows, make_hay(rows)


def _batch_counts(ctx: Any) -> list[tuple[str, dict[str, int]]]:
    """Background: every batch's creation time and per-status counts, in time order."""
    from smki_desktop.services import devices

    return [(b.created, dict(b.counts)) for b in devices.status(ctx)]


def _export_rows(ctx: Any, path: Path, data: bytes, count: int) -> Path:
    """Background: write the exported view (replacing the file the user chose) and audit it."""
    from smki_desktop.store.atomic import write_atomic

    replaced = path.exists()
    out = write_atomic(path, data, overwrite=True)
    ctx.audit.record("devices.export", {"path": str(path), "rows": count,
                                        "replaced": replaced}, {"csv": data})
    return out


def _store_rows(ctx: Any) -> tuple[list[Row], list[str], list[str]]:
    """Background: every stored device CSR as a table row, and pick-up warnings."""
    from smki_desktop.services import devices

    warnings = []
    try:
        devices.collect(ctx)
    except SmkiError as exc:
        # show what is stored, and say why the latest results could not be filed
        warnings.append(f"Results not collected: {exc.message}")
    rows = [(r.device_eui, r.usage, r.status, r.detail, r.batch_id, r.file_name)
            for r in devices.csr_rows(ctx)]
    warnings += [f"{b.batch_id}: {b.warning}" for b in devices.status(ctx) if b.warning]
    return rows, make_hay(rows), warnings
