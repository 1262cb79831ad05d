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

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from smki_desktop.core.environment import Environment
from smki_desktop.core.errors import SmkiError
from smki_desktop.gui.controllers.devices_adhoc import SendOne
from smki_desktop.gui.controllers.devices_generate import GenerateTest
from smki_desktop.gui.controllers.devices_package import PackageForPortal
from smki_desktop.gui.controllers.devices_results import ImportResults
from smki_desktop.gui.controllers.devices_source import OpenSource
from smki_desktop.gui.controllers.devices_submit import SubmitBatch, who_answers
from smki_desktop.gui.controllers.devices_view import DROP_HINT, Row, make_hay
from smki_desktop.gui.page_op import PageOp
from smki_desktop.gui.qt import (
    QAbstractItemView,
    QAbstractTableModel,
    QComboBox,
    QDragEnterEvent,
    QDropEvent,
    QFileDialog,
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
    Qt,
    QTableView,
    QTimer,
    QVBoxLayout,
    QWidget,
)
from smki_desktop.gui.tables import select_on_focus, upright_sort_arrows
from smki_desktop.gui.widgets.details import wire_row_actions

if TYPE_CHECKING:
    from smki_desktop.gui.services import GuiServices

COLUMNS = ["Device EUI", "Usage", "Status", "Detail", "Source", "Entry"]


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


class PassThroughProxy(QSortFilterProxyModel):
    """Hands sorting to the source model (one Python sort instead of a C++ sort calling back
    into Python for every comparison)."""

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        src = self.sourceModel()
        if isinstance(src, DeviceRowsModel) and column >= 0:
            src.sort_by(column, order == Qt.SortOrder.DescendingOrder)


def rows_to_csv(rows: Sequence[Row]) -> bytes:
    from smki_desktop.services import devices

    return devices.rows_csv(rows)


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
        # each Alt letter once on the page, the window's menus (&File, &Help) included: a
        # letter two controls share only moves focus between them (Alt+C is Cancel)
        self.open_btn = QPushButton("&Open file…")
        self.folder_btn = QPushButton("Open fol&der…")
        self.package_btn = QPushButton("&Package for portal…")
        self.submit_btn = QPushButton("Su&bmit (web service)")
        self.import_btn = QPushButton("&Import response…")
        self.all_btn = QPushButton("&All device CSRs")
        self.generate_btn = QPushButton("&Generate test devices…")
        self.export_btn = QPushButton("&Export view to CSV…")
        self.adhoc_btn = QPushButton("Send o&ne CSR…")
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
        self.chart_btn = QPushButton("Ba&tches chart")
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
        self._idle_progress()
        self.cancel_btn = QPushButton("&Cancel")
        self.cancel_btn.setEnabled(False)
        prog.addWidget(self.progress, 1)
        prog.addWidget(self.cancel_btn)
        layout.addLayout(prog)

        filt = QHBoxLayout()
        self.filter_edit = QLineEdit()
        self.filter_edit.setPlaceholderText("EUI, file, reason…")
        self.filter_edit.setClearButtonEnabled(True)
        self.status_combo = QComboBox()
        self.status_combo.addItem("All statuses", "")
        show_label = QLabel("&Show:")
        show_label.setBuddy(self.status_combo)
        filt.addWidget(show_label)
        filt.addWidget(self.status_combo)
        filter_label = QLabel("Fi&lter:")
        filter_label.setBuddy(self.filter_edit)
        self.filter_edit.setAccessibleName("Filter the device CSRs")
        filt.addWidget(filter_label)
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
        # by Device EUI, first to last, the arrow pointing up as it is read (Qt's own default
        # was descending under an up arrow)
        self.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        upright_sort_arrows(self.table)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        select_on_focus(self.table)  # Tab into the table selects a row: the buttons follow
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
        foot = QHBoxLayout()
        foot.addWidget(self.summary, 1)
        # after a submit: results are not fetched on their own (`SubmitBatch.check_now`)
        self.check_btn = QPushButton("Chec&k now")
        self.check_btn.setToolTip("Ask the portal for the results of the batches sent, and "
                                  "file what is ready")
        self.check_btn.setVisible(False)
        foot.addWidget(self.check_btn, 0, Qt.AlignmentFlag.AlignTop)
        layout.addLayout(foot)

        self._filter_timer = QTimer(self)
        self._filter_timer.setSingleShot(True)
        self._filter_timer.setInterval(150)
        self._filter_timer.timeout.connect(self._apply_filter)
        self.filter_edit.textChanged.connect(lambda _t: self._filter_timer.start())
        self.status_combo.currentIndexChanged.connect(lambda _i: self._apply_filter())
        self.opener = OpenSource(self)
        self.packager = PackageForPortal(self)
        self.submitter = SubmitBatch(self)
        self.one_sender = SendOne(self)
        self.importer = ImportResults(self)
        self.generator = GenerateTest(self, self.validate)
        self.open_btn.clicked.connect(self.opener.choose_file)
        self.folder_btn.clicked.connect(self.opener.choose_folder)
        self.package_btn.clicked.connect(self.packager.choose)
        self.submit_btn.clicked.connect(self.request_submit)
        self.import_btn.clicked.connect(self.importer.choose)
        self.all_btn.clicked.connect(self.show_all)
        self.generate_btn.clicked.connect(self.generator.choose)
        self.export_btn.clicked.connect(self._choose_export)
        self.cancel_btn.clicked.connect(self.cancel)
        self.adhoc_btn.clicked.connect(self.one_sender.choose)
        self.check_btn.clicked.connect(self.submitter.check_now)
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

    def widget(self) -> QWidget:
        """The page, as the parent of its controllers' dialogs."""
        return self

    # -- jobs
    @property
    def job(self) -> PageOp | None:
        """The device job running, if one is (one at a time)."""
        return self.op if self.op is not None and self.op.running else None

    def run_job(self, fn: Callable[..., Any], *args: Any, done: Callable[[Any], None],
             what: str, cancellable: bool = True,
             failed: Callable[[], None] | None = None, finished: str = "Done",
             **kwargs: Any) -> None:
        """Run `fn` as a PageOp; `cancellable` False for a job that does not check
        `progress.cancelled` (its Cancel button stays disabled rather than do nothing);
        `failed()` runs first when the job fails or is cancelled; `finished` is what the
        progress bar says after it ("" for a read: then what is loaded)."""
        if self.job is not None:
            self.services.status("A device job is already running; wait or cancel it.")
            return

        def started(busy: bool) -> None:
            self.show_busy(busy, what if busy else finished)
            if busy:
                self.cancel_btn.setEnabled(cancellable)

        def cancelled(_exc: BaseException) -> None:
            if failed is not None:
                failed()
            self.show_busy(False, "Cancelled")
            self.summary.setText(f"{what} cancelled; nothing was changed.")

        def failure(text: str, exc: BaseException) -> None:
            if failed is not None:
                failed()
            self.show_busy(False, "Failed")
            self.summary.setText(f"{what} failed: {text}")
            self.services.error(what, exc)

        self.op = PageOp(self, self.services, fn, *args, name=what, **kwargs) \
            .busy(hook=started).progress(self._progress).changes("devices") \
            .success(done).cancelled(cancelled).failure(failure)
        self.op.run()

    def show_busy(self, busy: bool, text: str = "") -> None:
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
            self.progress.setFormat(text)
            if not text:
                self._idle_progress()

    def _idle_progress(self) -> None:
        """No job has run, or a read: an empty bar saying what is loaded (not "Done")."""
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        rows = len(self.model.rows) if hasattr(self, "model") else 0
        self.progress.setFormat(f"{rows:,} CSRs loaded" if rows else "No CSRs loaded")

    def _progress(self, done: int, total: int, text: str) -> None:
        if total:
            self.progress.setRange(0, total)
            self.progress.setValue(done)
            self.progress.setFormat(f"{text}: {done:,}/{total:,}")

    def cancel(self) -> None:
        if self.job is not None:
            self.job.cancel()
            self.progress.setFormat("Cancelling…")

    # -- actions: one controller each (gui/controllers/devices_*.py); these names stay the
    # page's own for the keyboard, the menus and the tests
    def validate(self, path: Path) -> None:
        self.opener.validate(path)

    def package(self, out_dir: Path, max_per_zip: int | None = None) -> None:
        self.packager.package(out_dir, max_per_zip)

    def request_submit(self) -> None:
        self.submitter.request()

    def submit(self) -> None:
        self.submitter.submit()

    def adhoc(self, path: Path) -> None:
        self.one_sender.check(path)

    def import_response(self, report: Path, zip_path: Path | None) -> None:
        self.importer.import_response(report, zip_path)

    def generate(self, count: int, out_dir: Path) -> None:
        self.generator.generate(count, out_dir)

    def show_chart(self, on: bool) -> None:
        if on and self.chart is None:
            from smki_desktop.gui import charts

            self.chart = charts.BatchChart()
            self._layout.insertWidget(self._layout.indexOf(self.table) + 1, self.chart)
        if self.chart is not None:
            self.chart.setVisible(on)
        if on:
            PageOp(self, self.services, _batch_counts, self.ctx, name="Batch outcomes") \
                .background() \
                .success(lambda b: self.chart.show_batches(b) if self.chart else None) \
                .failure(lambda text, _e: self.summary.setText(text)).run()

    def show_all(self) -> None:
        # collecting files each finished batch whole and cannot be stopped half-way
        self.run_job(_store_rows, self.ctx, done=self._show_store, what="Loading device CSRs",
                  cancellable=False, finished="")

    def _show_store(self, payload: tuple[list[Row], list[str], list[str]]) -> None:
        rows, hay, warnings = payload
        self.set_rows(rows, hay)
        self._idle_progress()
        if warnings:
            self.summary.setText(" | ".join(warnings))

    def export_view(self, path: Path) -> None:
        """Write the rows in view as CSV; the save dialog has already confirmed replacing an
        existing file."""
        rows = self.model.visible_rows()
        self.run_job(_export_rows, self.ctx, Path(path), rows,
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
    def set_rows(self, rows: list[Row], hay: list[str] | None = None) -> None:
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

    # -- dialogs
    def _choose_export(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export this view", "devices.csv",
                                              "CSV (*.csv)")
        if path:
            self.export_view(Path(path))

    def refresh(self) -> None:
        if self.job is None and not self.model.rows:
            self.show_all()


def _batch_counts(ctx: Any) -> list[tuple[str, dict[str, int]]]:
    """Background: every batch's creation time and per-status counts, in time order."""
    from smki_desktop.services import devices

    return [(b.created, dict(b.counts)) for b in devices.status(ctx)]


def _export_rows(ctx: Any, path: Path, rows: list[Row]) -> Path:
    """Background: write the exported view (replacing the file the user chose), audited by the
    service."""
    from smki_desktop.services import devices

    return devices.export_rows(ctx, path, rows, overwrite=True).path


def _store_rows(ctx: Any) -> tuple[list[Row], list[str], list[str]]:
    """Background: every stored device CSR as a table row, and pick-up warnings."""
    from smki_desktop.services import devices

    warnings = []
    try:
        devices.collect(ctx)
    except SmkiError as exc:
        # show what is stored, and say why the latest results could not be filed
        warnings.append(f"Results not collected: {exc.message}")
    rows = who_answers(ctx, [devices.view_row(r) for r in devices.csr_rows(ctx)])
    warnings += [f"{b.batch_id}: {b.warning}" for b in devices.status(ctx) if b.warning]
    return rows, make_hay(rows), warnings
