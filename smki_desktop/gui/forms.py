"""Reusable editors for the Party profile and the officer profile (used by the first-run
dialog and the Dashboard), validating through `core` as the user types. A field's error shows
once the user has left it (or pressed Save), never for a field not reached yet, just under the
field it is about (as `widgets.field_check` does for dialogs)."""

from __future__ import annotations

from smki_desktop.core.eui import EuiRange
from smki_desktop.core.party import (
    PARTY_FIELDS,
    PARTY_ID_HINT,
    PARTY_ID_UPPER_CASE,
    SIGNIFIER_HINT,
    OfficerProfile,
    OfficerRole,
    PartyProfile,
    PartyType,
    party_field_problems,
)
from smki_desktop.gui.qt import (
    QComboBox,
    QEvent,
    QFormLayout,
    QLabel,
    QLineEdit,
    QObject,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)
from smki_desktop.gui.tones import text_style


class _VisitedFields(QWidget):
    """A form whose errors show field by field, once the field was left (`visit`) or the
    whole form was submitted (`show_all`)."""

    error: QLabel
    field_errors: dict[str, QLabel]

    def _add_field(self, form: QFormLayout, label: str, key: str, field: QWidget) -> None:
        """A form row whose field has its own (hidden until needed) error label under it;
        the row's mnemonic and any focus given to the row go to the field itself."""
        cell = QWidget()
        lay = QVBoxLayout(cell)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(2)
        lay.addWidget(field)
        error = QLabel("")
        error.setObjectName("fieldError")
        error.setStyleSheet(text_style("error"))
        error.setWordWrap(True)
        error.setVisible(False)
        lay.addWidget(error)
        cell.setFocusProxy(field)
        form.addRow(label, cell)
        self.field_errors[key] = error

    def _show_errors(self, shown: dict[str, list[str]]) -> None:
        """Each field's messages under it (and as its accessible description); `error` keeps
        them all, one a line, in the order given (the summary read by tests and the status)."""
        for key, label in self.field_errors.items():
            text = "\n".join(shown.get(key, []))
            label.setText(text)
            label.setVisible(bool(text))
            self._fields[key].setAccessibleDescription(text)
        self.error.setText("\n".join(m for messages in shown.values() for m in messages))

    def first_wrong(self) -> QWidget | None:
        """The first field (in form order) whose error shows, to give the focus to."""
        return next((self._fields[k] for k, label in self.field_errors.items() if label.text()),
                    None)

    def _init_visits(self, fields: dict[str, QWidget], all_visited: bool) -> None:
        self._fields = fields
        self._visited: set[str] = set(fields) if all_visited else set()
        for key, widget in fields.items():
            if isinstance(widget, QLineEdit):
                widget.editingFinished.connect(lambda k=key: self.visit(k))
            else:
                widget.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.FocusOut:
            for key, widget in self._fields.items():
                if widget is watched:
                    self.visit(key)
        return super().eventFilter(watched, event)

    def visit(self, key: str) -> None:
        """The user left field `key`: its errors show from now on."""
        self._visited.add(key)
        self.validate()

    def show_all(self) -> bool:
        """Save was pressed: every field's errors show, reached or not."""
        self._visited |= set(self._fields)
        return self.validate()

    def validate(self) -> bool:
        raise NotImplementedError


class PartyForm(_VisitedFields):
    def __init__(self, current: PartyProfile | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        form = QFormLayout(self)
        self.name = QLineEdit()
        self.party_id = QLineEdit()
        self.party_type = QComboBox()
        for t in PartyType:
            self.party_type.addItem(t.label, t.value)
        self.ranges = QPlainTextEdit()
        self.ranges.setPlaceholderText("90-B3-D5-1F-30-01-00-00..90-B3-D5-1F-30-01-FF-FF\n"
                                       "(one allocated range per line)")
        self.ranges.setFixedHeight(64)
        self.ranges.setTabChangesFocus(True)
        self.signifier = QLineEdit()
        # the formats are shown before they are refused (a new officer cannot guess them)
        self.party_id.setPlaceholderText(PARTY_ID_HINT)
        self.party_id.setToolTip(f"Your Party ID as SECAS gave it: {PARTY_ID_HINT}.")
        self.signifier.setPlaceholderText("optional, e.g. ACME")
        self.signifier.setToolTip(f"Optional short name used in file names: {SIGNIFIER_HINT}.")
        self.error = QLabel("")  # every message, for the status line: shown under the fields
        self.error.setObjectName("formError")
        self.field_errors: dict[str, QLabel] = {}
        self._add_field(form, "&Organisation name", "name", self.name)
        self._add_field(form, "&Party ID", "party_id", self.party_id)
        form.addRow("Party &type", self.party_type)
        self._add_field(form, "&EUI-64 ranges", "eui_ranges", self.ranges)
        self._add_field(form, "&Signifier", "signifier", self.signifier)
        if current:
            self.name.setText(current.name)
            self.party_id.setText(current.party_id)
            self.party_type.setCurrentIndex(self.party_type.findData(current.party_type.value))
            self.ranges.setPlainText("\n".join(str(r) for r in current.eui_ranges))
            self.signifier.setText(current.signifier)
        self._device_ranges = current.device_ranges if current else ()
        # a stored profile being edited shows what it breaks at once
        self._init_visits({"name": self.name, "party_id": self.party_id,
                           "signifier": self.signifier, "eui_ranges": self.ranges},
                          all_visited=current is not None)
        for w in (self.name, self.party_id, self.signifier):
            w.textChanged.connect(self.validate)
        self.ranges.textChanged.connect(self.validate)
        if PARTY_ID_UPPER_CASE:
            self.party_id.textEdited.connect(self._upper_case)

    def _upper_case(self, text: str) -> None:
        """The rule is upper-case: what is typed is upper-cased where it stands (ASCII only,
        so the text keeps its length and the cursor its place)."""
        upper = "".join(c.upper() if c.isascii() else c for c in text)
        if upper != text:
            pos = self.party_id.cursorPosition()
            self.party_id.setText(upper)
            self.party_id.setCursorPosition(pos)

    def profile(self) -> PartyProfile:
        lines = [ln.strip() for ln in self.ranges.toPlainText().splitlines() if ln.strip()]
        return PartyProfile(
            name=self.name.text().strip(), party_id=self.party_id.text().strip(),
            party_type=PartyType(self.party_type.currentData()),
            eui_ranges=tuple(EuiRange.parse(ln, f"EUI-64 range line {i + 1}")
                             for i, ln in enumerate(lines)),
            signifier=self.signifier.text().strip(), device_ranges=self._device_ranges,
        )

    def checked_profile(self) -> PartyProfile:
        """The profile with the rules it must meet to be saved (Party ID and Signifier
        formats, ranges that do not overlap), so they show as the user types, not only as
        an error after Save."""
        p = self.profile()
        p.check_new()
        return p

    def validate(self) -> bool:
        """Show every rule the visited fields break, one line each (not only the first);
        True when the whole form passes."""
        lines = [ln.strip() for ln in self.ranges.toPlainText().splitlines() if ln.strip()]
        found = party_field_problems(self.name.text().strip(), self.party_id.text().strip(),
                                     lines, self.signifier.text().strip(), self._device_ranges)
        self._show_errors({f: found.get(f, []) for f in PARTY_FIELDS if f in self._visited})
        return not found


class OfficerForm(_VisitedFields):
    def __init__(self, current: OfficerProfile | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        form = QFormLayout(self)
        self.name = QLineEdit()
        self.role = QComboBox()
        self.role.addItem("ARO — Authorised Responsible Officer", OfficerRole.ARO.value)
        self.role.addItem("SRO — Senior Responsible Officer", OfficerRole.SRO.value)
        self.email = QLineEdit()
        self.error = QLabel("")  # every message, for the status line: shown under the fields
        self.field_errors: dict[str, QLabel] = {}
        self._add_field(form, "Your &name", "name", self.name)
        form.addRow("Your &role", self.role)
        self._add_field(form, "E&mail", "email", self.email)
        self._register_id = current.register_id if current else ""
        if current:
            self.name.setText(current.name)
            self.role.setCurrentIndex(self.role.findData(current.role.value))
            self.email.setText(current.email)
        self._init_visits({"name": self.name, "email": self.email},
                          all_visited=current is not None)
        self.name.textChanged.connect(self.validate)
        self.email.textChanged.connect(self.validate)

    def profile(self) -> OfficerProfile:
        return OfficerProfile(name=self.name.text().strip(),
                              role=OfficerRole(self.role.currentData()),
                              email=self.email.text().strip(), register_id=self._register_id)

    def validate(self) -> bool:
        """Show every rule the visited fields break, one line each (not only the first);
        True when the whole form passes."""
        name, email = self.name.text().strip(), self.email.text().strip()
        found = OfficerProfile.problems(name, email)
        self._show_errors({
            "name": OfficerProfile.problems(name, "") if "name" in self._visited else [],
            "email": OfficerProfile.problems("x", email) if "email" in self._visited else []})
        return not found
