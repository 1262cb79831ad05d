"""Nomination form schemas as data, and the validation of a value against its field.

The SMKI RAPP nomination forms are not published, so their fields live in versioned JSON under
`resources/forms/` (see its README). This module turns such a document into a `FormSchema` and
checks values field by field; it reads no files itself (the services hand it the bytes).

A value's key is `<page>.<field>`, e.g. `nominee.email`. Values are `str` for text-like fields,
`bool` for `bool` and `list[str]` for `checklist`.
"""

from __future__ import annotations

import datetime as _dt
import json
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from smki_desktop.core.errors import InputError
from smki_desktop.core.plain_text import bad_char_words

FIELD_TYPES = ("text", "multiline", "email", "phone", "date", "choice", "bool", "checklist",
               "party_id")
STAGE_NOMINATION = "nomination"
STAGE_VERIFICATION = "verification"

_EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@"
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$"
)

Value = str | bool | list[str]

MAX_DOCUMENT_BYTES = 1024 * 1024
MAX_DEPTH = 32
MAX_NUMBER_DIGITS = 64


def _nesting_problem(text: str) -> str | None:
    """The first place where JSON/TOML brackets nest deeper than MAX_DEPTH (outside strings)."""
    depth, line, in_str, esc, quote = 0, 1, False, False, ""
    for ch in text:
        if ch == "\n":
            line += 1
        if in_str:
            if esc:
                esc = False
            elif ch == "\\" and quote == '"':
                esc = True
            elif ch == quote:
                in_str = False
            continue
        if ch in "\"'":
            in_str, quote = True, ch
        elif ch in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return f"line {line}: nested more than {MAX_DEPTH} levels deep"
        elif ch in "]}":
            depth -= 1
    return None


def _number(text: str) -> int | float:
    digits = len(text.lstrip("-+"))
    if digits > MAX_NUMBER_DIGITS:
        raise InputError(f"a number of {digits} digits (at most {MAX_NUMBER_DIGITS})")
    return int(text) if text.lstrip("-+").isdigit() else float(text)


def _no_constant(name: str) -> Any:
    raise InputError(f"{name} is not a value a form accepts")


def load_document(raw: bytes, source: str, *, toml: bool) -> dict[str, Any]:
    """A filled form document (JSON or TOML) parsed strictly: size, nesting depth, number
    length, NaN and Infinity are refused with an InputError naming `source` and the cause."""
    if len(raw) > MAX_DOCUMENT_BYTES:
        raise InputError(f"{source}: {len(raw)} bytes; a form document is at most "
                         f"{MAX_DOCUMENT_BYTES} bytes.")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{source}: not UTF-8 text (byte {exc.start}).") from exc
    deep = _nesting_problem(text)
    if deep:
        raise InputError(f"{source}: {deep}.")
    try:
        if toml:
            doc: Any = tomllib.loads(text, parse_float=lambda t: _number(t))
        else:
            doc = json.loads(text, parse_int=_number, parse_float=_number,
                             parse_constant=_no_constant)
    except InputError as exc:
        raise InputError(f"{source}: {exc}.") from exc
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{source}: not valid TOML: {exc}") from exc
    except json.JSONDecodeError as exc:
        raise InputError(f"{source}: not valid JSON: line {exc.lineno}: {exc.msg}") from exc
    except (RecursionError, ValueError, OverflowError) as exc:
        raise InputError(f"{source}: cannot be read ({exc}).") from exc
    if not isinstance(doc, dict):
        raise InputError(f"{source}: expected a document of pages, not {type(doc).__name__}.")
    return doc


def document_version(doc: Mapping[str, Any], default: int, source: str) -> int:
    """The `version` of a form document: a whole number, or an InputError naming it."""
    v = doc.get("version", default)
    if isinstance(v, bool) or not isinstance(v, int):
        raise InputError(f"{source}: version: expected a whole number such as {default}, "
                         f"got {str(v)[:40]!r}.")
    return v


@dataclass(frozen=True)
class Option:
    value: str
    label: str


@dataclass(frozen=True)
class FieldSpec:
    page: str
    id: str
    label: str
    type: str
    required: bool = False
    pattern: str | None = None
    pattern_hint: str = ""
    max_length: int | None = None
    options: tuple[Option, ...] = ()
    help: str = ""
    must_be_true: bool = False
    stage: str = STAGE_NOMINATION
    print_blank: bool = False
    example: Value | None = None

    @property
    def key(self) -> str:
        return f"{self.page}.{self.id}"

    def empty(self) -> Value:
        if self.type == "bool":
            return False
        if self.type == "checklist":
            return []
        return ""

    def option_label(self, value: str) -> str:
        for o in self.options:
            if o.value == value:
                return o.label
        return value


@dataclass(frozen=True)
class Page:
    id: str
    title: str
    help: str
    fields: tuple[FieldSpec, ...]

    @property
    def stage(self) -> str:
        """`verification` when every field is for the verification meeting."""
        if self.fields and all(f.stage == STAGE_VERIFICATION for f in self.fields):
            return STAGE_VERIFICATION
        return STAGE_NOMINATION


@dataclass(frozen=True)
class FieldError:
    key: str
    label: str
    message: str

    def __str__(self) -> str:
        return f"{self.key} ({self.label}): {self.message}"


@dataclass(frozen=True)
class FormSchema:
    form: str  # "sro" | "aro"
    version: int
    role: str
    title: str
    intro: str
    pages: tuple[Page, ...]
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def form_id(self) -> str:
        return f"{self.form}-v{self.version}"

    def fields(self) -> list[FieldSpec]:
        return [f for p in self.pages for f in p.fields]

    def field(self, key: str) -> FieldSpec:
        for f in self.fields():
            if f.key == key:
                return f
        raise InputError(f"Form {self.form_id} has no field {key!r}.")

    def page(self, page_id: str) -> Page:
        for p in self.pages:
            if p.id == page_id:
                return p
        raise InputError(f"Form {self.form_id} has no page {page_id!r}.")

    def empty_values(self) -> dict[str, Value]:
        return {f.key: f.empty() for f in self.fields()}

    # -- validation -----------------------------------------------------------------------
    def validate_page(self, page_id: str, values: Mapping[str, Any], *,
                      stage: str = STAGE_NOMINATION) -> list[FieldError]:
        errs: list[FieldError] = []
        for f in self.page(page_id).fields:
            err = validate_field(f, values.get(f.key, f.empty()), stage=stage)
            if err:
                errs.append(err)
        return errs

    def validate(self, values: Mapping[str, Any], *,
                 stage: str = STAGE_NOMINATION) -> list[FieldError]:
        errs: list[FieldError] = []
        known = {f.key for f in self.fields()}
        for k in values:
            if k not in known:
                errs.append(FieldError(k, k, f"form {self.form_id} has no such field"))
        for p in self.pages:
            errs += self.validate_page(p.id, values, stage=stage)
        return errs

    # -- input documents ------------------------------------------------------------------
    def values_from_document(self, doc: Mapping[str, Any]) -> dict[str, Value]:
        """Flatten `{page: {field: value}}` (the template's shape) into keyed values, coercing
        types; unknown pages/fields are refused by name."""
        out = self.empty_values()
        for page_id, section in doc.items():
            if page_id in ("form", "version"):
                continue
            if not isinstance(section, Mapping):
                raise InputError(f"{page_id}: expected a table of fields, got {section!r}.")
            try:
                self.page(page_id)
            except InputError:
                raise InputError(
                    f"{page_id}: form {self.form_id} has no page of that name; pages are "
                    + ", ".join(p.id for p in self.pages) + "."
                ) from None
            for fid, val in section.items():
                key = f"{page_id}.{fid}"
                spec = self.field(key)
                if spec.print_blank and not is_empty(val):
                    raise InputError(f"{key} ({spec.label}): {PRINT_BLANK_MESSAGE}.")
                out[key] = coerce(spec, val)
        return out

    def example_values(self) -> dict[str, Value]:
        """The schema's example answers (nomination stage), for templates and tests."""
        vals = self.empty_values()
        for f in self.fields():
            if f.example is not None:
                vals[f.key] = f.example
        return vals

    def template_document(self, *, with_examples: bool = True) -> dict[str, Any]:
        """A complete input document (`{page: {field: value}}`), filled with the examples."""
        vals = self.example_values() if with_examples else self.empty_values()
        doc: dict[str, Any] = {"form": self.form, "version": self.version}
        for p in self.pages:
            doc[p.id] = {f.id: vals[f.key] for f in p.fields if not f.print_blank}
        return doc


def coerce(spec: FieldSpec, val: Any) -> Value:
    if spec.type == "bool":
        if isinstance(val, bool):
            return val
        if isinstance(val, str) and val.strip().lower() in ("true", "yes", "1", "x"):
            return True
        if isinstance(val, str) and val.strip().lower() in ("false", "no", "0", ""):
            return False
        raise InputError(f"{spec.key} ({spec.label}): expected true or false, got {val!r}.")
    if spec.type == "checklist":
        if isinstance(val, str):
            return [v.strip() for v in val.split(",") if v.strip()]
        if isinstance(val, list | tuple) and all(isinstance(v, str) for v in val):
            return list(val)
        raise InputError(f"{spec.key} ({spec.label}): expected a list of items, got {val!r}.")
    if isinstance(val, _dt.date):
        return val.isoformat()
    if isinstance(val, bool) or not isinstance(val, str | int):
        raise InputError(f"{spec.key} ({spec.label}): expected text, got {val!r}.")
    return str(val)


def is_empty(val: Any) -> bool:
    return val is None or val is False or val == "" or val == [] or (
        isinstance(val, str) and not val.strip())


def _missing_message(spec: FieldSpec) -> str:
    if spec.type == "bool":
        return "this declaration must be accepted"
    if spec.type == "checklist":
        return "tick at least one item"
    return "required"


def _checklist_problem(spec: FieldSpec, val: Any) -> str | None:
    if not isinstance(val, list):
        return "expected a list of items"
    allowed = {o.value for o in spec.options}
    bad = [v for v in val if v not in allowed]
    if bad:
        return f"unknown item(s) {', '.join(bad)}; allowed: {', '.join(sorted(allowed))}"
    return None


PRINT_BLANK_MESSAGE = ("this is signed by hand on the printed form and is left empty here; "
                       "remove the value")


def _char_problem(spec: FieldSpec, text: str) -> str | None:
    """A control, format or bidirectional character (a line break only in a multiline
    field): such text prints and shows differently from what is stored."""
    allowed = text.replace("\n", "") if spec.type == "multiline" else text
    what = bad_char_words(allowed)
    if what is None:
        return None
    if spec.type == "multiline":
        return f"holds {what}; plain text and line breaks only"
    return f"holds {what}; one line of plain text only"


def _text_problem(spec: FieldSpec, text: str) -> str | None:
    """What is wrong with a filled text field, by its type and pattern; None when fine."""
    if spec.max_length is not None and len(text) > spec.max_length:
        return f"at most {spec.max_length} characters (has {len(text)})"
    if spec.type == "email" and not _EMAIL.match(text):
        return f"{text!r} is not a valid email address (name@domain.example)"
    if spec.type == "date":
        try:
            _dt.date.fromisoformat(text)
        except ValueError:
            return f"{text!r} is not a date; write YYYY-MM-DD"
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return f"{text!r} is not a date; write YYYY-MM-DD"
    if spec.type == "choice":
        choices = [o.value for o in spec.options]
        if text not in choices:
            return f"{text!r} is not one of {', '.join(choices)}"
    if spec.pattern and not re.fullmatch(spec.pattern, text):
        hint = f" ({spec.pattern_hint})" if spec.pattern_hint else ""
        what = "a valid Party / RDP ID" if spec.type == "party_id" else "in the expected form"
        return f"{text!r} is not {what}{hint}"
    return None


def _filled_problem(spec: FieldSpec, val: Any) -> str | None:
    if spec.type == "bool":
        return None if isinstance(val, bool) else "expected true or false"
    if spec.type == "checklist":
        return _checklist_problem(spec, val)
    if not isinstance(val, str):
        return "expected text"
    return _text_problem(spec, val.strip())


def validate_field(spec: FieldSpec, val: Any, *, stage: str = STAGE_NOMINATION
                   ) -> FieldError | None:
    """Check one value; `None` when it is acceptable. Verification-stage fields are only
    required at the verification stage (but are checked for form whenever filled)."""
    if spec.print_blank:
        # signed on paper: a value typed here would enter the record as a signature
        return None if is_empty(val) else FieldError(spec.key, spec.label, PRINT_BLANK_MESSAGE)
    chars = _char_problem(spec, val) if isinstance(val, str) else None
    if chars:  # the value as stored, before any stripping (which drops some of them)
        return FieldError(spec.key, spec.label, chars)
    if is_empty(val):
        applies = spec.stage == STAGE_NOMINATION or stage == STAGE_VERIFICATION
        if spec.required and applies:
            return FieldError(spec.key, spec.label, _missing_message(spec))
        return None
    problem = _filled_problem(spec, val)
    return None if problem is None else FieldError(spec.key, spec.label, problem)


# -- loading ------------------------------------------------------------------------------
def schema_from_dict(doc: Mapping[str, Any]) -> FormSchema:
    try:
        form = str(doc["form"])
        version = int(doc["version"])
        pages = []
        for p in doc["pages"]:
            fields = []
            for f in p["fields"]:
                ftype = f["type"]
                if ftype not in FIELD_TYPES:
                    raise InputError(f"form {form}: field {p['id']}.{f['id']} has unknown type "
                                     f"{ftype!r}")
                fields.append(FieldSpec(
                    page=p["id"], id=f["id"], label=f["label"], type=ftype,
                    required=bool(f.get("required", False)), pattern=f.get("pattern"),
                    pattern_hint=f.get("pattern_hint", ""), max_length=f.get("max_length"),
                    options=tuple(Option(o["value"], o["label"]) for o in f.get("options", [])),
                    help=f.get("help", ""), must_be_true=bool(f.get("must_be_true", False)),
                    stage=f.get("stage", STAGE_NOMINATION),
                    print_blank=bool(f.get("print_blank", False)),
                    example=f.get("example"),
                ))
            pages.append(Page(p["id"], p["title"], p.get("help", ""), tuple(fields)))
        return FormSchema(form=form, version=version, role=str(doc.get("role", form)),
                          title=str(doc["title"]), intro=str(doc.get("intro", "")),
                          pages=tuple(pages), raw=dict(doc))
    except (KeyError, TypeError, ValueError, OverflowError) as exc:
        raise InputError(f"Form schema is malformed: {exc!r}") from exc


def schema_from_json(data: bytes | str) -> FormSchema:
    try:
        doc = json.loads(data)
    except json.JSONDecodeError as exc:
        raise InputError(f"Form schema is not JSON: line {exc.lineno}: {exc.msg}") from exc
    except (ValueError, RecursionError) as exc:  # e.g. a 5,000-digit number, deep nesting
        raise InputError(f"Form schema is not usable JSON: {type(exc).__name__}") from None
    return schema_from_dict(doc)


def newest(schemas: list[FormSchema]) -> dict[str, FormSchema]:
    """The newest version of each form."""
    out: dict[str, FormSchema] = {}
    for s in schemas:
        if s.form not in out or s.version > out[s.form].version:
            out[s.form] = s
    return out


def display_value(spec: FieldSpec, val: Any) -> str:
    """A value as printed on the form and shown on review."""
    if spec.type == "bool":
        return "Yes" if val else "No"
    if spec.type == "checklist":
        return "; ".join(spec.option_label(v) for v in (val or []))
    if spec.type == "choice":
        return spec.option_label(str(val)) if val else ""
    return str(val or "")
