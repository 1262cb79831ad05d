"""File profiles as data: which columns a CSV holds, their types, ranges and cross-row rules.

A profile is a JSON document (shipped under `resources/adt/<kind>/<version>.json`); a new layout
is a new file, not new code. This module turns the JSON into a checked, typed model and refuses a
malformed profile with a message naming the field.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from smki_desktop.core.adt import KINDS
from smki_desktop.core.errors import InputError

COLUMN_TYPES = ("eui64", "integer", "enum", "service-request", "text", "datetime")


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    required: bool = True
    doc: str = ""
    values: tuple[str, ...] = ()  # enum
    minimum: int | None = None  # integer
    maximum: int | None = None
    pattern: str = ""  # text: a regular expression the whole value must match
    max_length: int = 256
    party_eui: bool = False  # eui64: must lie in the Party's allocated EUI ranges
    case_insensitive: bool = False  # enum


@dataclass(frozen=True)
class Check:
    """A rule across two integer columns of one row: `lower` <= `upper`."""

    rule: str
    lower: str
    upper: str
    message: str = ""


@dataclass(frozen=True)
class Profile:
    kind: str
    profile_id: str
    version: str
    title: str
    columns: tuple[Column, ...]
    encoding: str = "utf-8"
    bom: str = "forbidden"  # forbidden | allowed
    delimiter: str = ","
    header: bool = True
    unique: tuple[str, ...] = ()
    checks: tuple[Check, ...] = ()
    service_request_types: tuple[str, ...] = ()
    max_rows: int = 1_000_000
    doc: str = ""
    example_rows: tuple[tuple[str, ...], ...] = ()
    status: str = "assumed"  # assumed (our choice: the DCC's layout is not public) | published
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def ref(self) -> str:
        return f"{self.profile_id}/{self.version}"

    @property
    def rules_sha256(self) -> str:
        """SHA-256 of the profile's JSON in canonical form (keys sorted, no spaces): what a
        verdict under this profile depends on, so that rules changed under the same version
        number (a corrected pattern, a new check) are told apart from the old ones."""
        canonical = json.dumps(self.raw, sort_keys=True, separators=(",", ":"),
                               ensure_ascii=True)
        return hashlib.sha256(canonical.encode("ascii")).hexdigest()

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    @classmethod
    def from_json(cls, text: str | bytes, source: str = "profile") -> Profile:
        try:
            data = json.loads(text)
        except (ValueError, UnicodeDecodeError) as exc:
            raise InputError(f"{source}: not JSON ({exc}).") from None
        except RecursionError:
            raise InputError(f"{source}: not JSON (nested too deeply).") from None
        if not isinstance(data, dict):
            raise InputError(f"{source}: a profile is a JSON object.")
        try:
            return cls.from_dict(data, source)
        except (TypeError, ValueError, AttributeError, KeyError, OverflowError) as exc:
            # a value of the wrong type where from_dict does not check it field by field
            raise InputError(f"{source}: a field is malformed ({type(exc).__name__}: "
                             f"{exc}).") from None

    @classmethod
    def from_dict(cls, d: dict[str, Any], source: str = "profile") -> Profile:
        def need(key: str, kind: type | tuple[type, ...]) -> Any:
            if key not in d:
                raise InputError(f"{source}: field {key!r} is missing.")
            if not isinstance(d[key], kind):
                raise InputError(f"{source}: field {key!r} has the wrong type.")
            return d[key]

        kind = need("kind", str)
        if kind not in KINDS:
            raise InputError(f"{source}: kind {kind!r} is not one of {', '.join(KINDS)}.")
        cols = []
        for i, c in enumerate(need("columns", list), start=1):
            where = f"{source}: column {i}"
            if not isinstance(c, dict) or not isinstance(c.get("name"), str):
                raise InputError(f"{where}: needs a name.")
            ctype = c.get("type")
            if ctype not in COLUMN_TYPES:
                raise InputError(f"{where} ({c['name']}): type {ctype!r} is not one of "
                                 f"{', '.join(COLUMN_TYPES)}.")
            if ctype == "enum" and not c.get("values"):
                raise InputError(f"{where} ({c['name']}): an enum needs 'values'.")
            cols.append(Column(
                name=c["name"], type=ctype, required=bool(c.get("required", True)),
                doc=str(c.get("doc", "")), values=tuple(str(v) for v in c.get("values", ())),
                minimum=c.get("min"), maximum=c.get("max"), pattern=str(c.get("pattern", "")),
                max_length=int(c.get("max_length", 256)), party_eui=bool(c.get("party_eui")),
                case_insensitive=bool(c.get("case_insensitive")),
            ))
        names = [c.name for c in cols]
        if len(set(names)) != len(names):
            raise InputError(f"{source}: column names repeat.")
        unique = tuple(d.get("unique", ()))
        for u in unique:
            if u not in names:
                raise InputError(f"{source}: unique key column {u!r} is not a column.")
        checks = []
        for ch in d.get("checks", ()):
            for side in ("lower", "upper"):
                if ch.get(side) not in names:
                    raise InputError(f"{source}: check {ch.get('rule')!r}: {side} column "
                                     f"{ch.get(side)!r} is not a column.")
            checks.append(Check(rule=str(ch["rule"]), lower=ch["lower"], upper=ch["upper"],
                                message=str(ch.get("message", ""))))
        srts = tuple(str(s) for s in d.get("service_request_types", ()))
        if any(c.type == "service-request" for c in cols) and not srts:
            raise InputError(f"{source}: a service-request column needs "
                             "'service_request_types'.")
        delimiter = str(d.get("delimiter", ","))
        if len(delimiter) != 1:
            raise InputError(f"{source}: delimiter must be one character.")
        try:
            "".encode(str(d.get("encoding", "utf-8")))
        except LookupError:
            raise InputError(f"{source}: encoding {d.get('encoding')!r} is not known.") from None
        return cls(
            kind=kind, profile_id=need("id", str), version=str(need("version", (str, int))),
            title=str(d.get("title", "")), columns=tuple(cols),
            encoding=str(d.get("encoding", "utf-8")), bom=str(d.get("bom", "forbidden")),
            delimiter=delimiter, header=bool(d.get("header", True)), unique=unique,
            checks=tuple(checks), service_request_types=srts,
            max_rows=int(d.get("max_rows", 1_000_000)), doc=str(d.get("doc", "")),
            example_rows=tuple(tuple(str(v) for v in r) for r in d.get("example_rows", ())),
            status=str(d.get("status", "assumed")), raw=d,
        )
