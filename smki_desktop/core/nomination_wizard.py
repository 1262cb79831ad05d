"""The nomination wizard as a pure state machine: choose a form, fill its pages with validation
as typed, review, produce. The GUI draws it (gui/wizards/nomination.py); tests drive it without
Qt. A wizard saves to and resumes from a plain dict (a draft).

Only nomination-stage pages are filled here: the verification meeting record is completed later
(`smki officer verify`), so its page is skipped by the wizard and printed blank on the form.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from smki_desktop.core.errors import InputError, Refusal
from smki_desktop.core.forms import (
    STAGE_NOMINATION,
    FieldError,
    FieldSpec,
    FormSchema,
    Page,
    Value,
    coerce,
    display_value,
    validate_field,
)


class Step(enum.Enum):
    CHOOSE = "choose"
    PAGE = "page"
    REVIEW = "review"
    DONE = "done"


@dataclass(frozen=True)
class ReviewLine:
    page: str
    label: str
    value: str


class NominationWizard:
    def __init__(self, forms: Mapping[str, FormSchema], defaults: Mapping[str, Value] | None
                 = None) -> None:
        if not forms:
            raise InputError("No nomination form schemas are installed.")
        self.forms = dict(forms)
        self.defaults = dict(defaults or {})
        self.step = Step.CHOOSE
        self.schema: FormSchema | None = None
        self.values: dict[str, Value] = {}
        self.page_index = 0
        self.draft_id: str | None = None

    # -- choose ---------------------------------------------------------------------------
    def choose(self, form: str) -> None:
        if form not in self.forms:
            raise InputError(f"form: {form!r} is not one of {', '.join(sorted(self.forms))}.")
        self.schema = self.forms[form]
        vals = self.schema.empty_values()
        for k, v in self.defaults.items():
            if k in vals:
                vals[k] = v
        self.values = vals
        self.page_index = 0
        self.step = Step.PAGE

    def _require_schema(self) -> FormSchema:
        if self.schema is None:
            raise Refusal("Choose a form first.")
        return self.schema

    @property
    def pages(self) -> list[Page]:
        s = self._require_schema()
        return [p for p in s.pages if p.stage == STAGE_NOMINATION]

    @property
    def page(self) -> Page:
        return self.pages[self.page_index]

    # -- fill -----------------------------------------------------------------------------
    def set_value(self, key: str, value: Any) -> FieldError | None:
        """Set a value as typed; return its validation error (or None)."""
        spec = self._require_schema().field(key)
        try:
            v = coerce(spec, value)
        except InputError as exc:
            return FieldError(spec.key, spec.label, exc.message)
        self.values[key] = v
        return validate_field(spec, v)

    def field_error(self, key: str) -> FieldError | None:
        spec = self._require_schema().field(key)
        return validate_field(spec, self.values.get(key, spec.empty()))

    def page_errors(self, index: int | None = None) -> list[FieldError]:
        p = self.pages[self.page_index if index is None else index]
        return self._require_schema().validate_page(p.id, self.values)

    def can_next(self) -> bool:
        return self.step is Step.PAGE and not self.page_errors()

    def next(self) -> None:
        if self.step is not Step.PAGE:
            raise Refusal(f"Next is not possible at the {self.step.value} step.")
        errs = self.page_errors()
        if errs:
            raise InputError("; ".join(str(e) for e in errs))
        if self.page_index + 1 < len(self.pages):
            self.page_index += 1
        else:
            self.step = Step.REVIEW

    def back(self) -> None:
        if self.step is Step.REVIEW:
            self.step = Step.PAGE
            self.page_index = len(self.pages) - 1
        elif self.step is Step.PAGE:
            if self.page_index > 0:
                self.page_index -= 1
            else:
                self.step = Step.CHOOSE
        else:
            raise Refusal(f"Back is not possible at the {self.step.value} step.")

    def locate(self, text: str) -> tuple[int, FieldSpec] | None:
        """The page (its index) and field of the first field key a message names, as the
        nomination's messages do (`nominator.name: ...`), or None: a problem found when the
        form is produced is then shown where the officer can correct it."""
        best: tuple[int, int, FieldSpec] | None = None
        for index, page in enumerate(self.pages):
            for f in page.fields:
                m = re.search(rf"(?<![\w.]){re.escape(f.key)}(?!\w|\.\w)", text)
                if m is not None and (best is None or m.start() < best[0]):
                    best = (m.start(), index, f)
        return None if best is None else (best[1], best[2])

    def go_to_page(self, index: int) -> None:
        """Back to a page of the form (from the review, to correct an answer)."""
        if not 0 <= index < len(self.pages):
            raise Refusal(f"The form has no page {index + 1}.")
        self.step = Step.PAGE
        self.page_index = index

    # -- review and produce ---------------------------------------------------------------
    def review(self) -> list[ReviewLine]:
        out: list[ReviewLine] = []
        for p in self.pages:
            for f in p.fields:
                if f.print_blank:
                    continue
                out.append(ReviewLine(p.title, f.label, display_value(f, self.values.get(f.key))))
        return out

    def produce(self) -> tuple[FormSchema, dict[str, Value]]:
        """The completed form for the nomination service; every page must validate."""
        if self.step is not Step.REVIEW:
            raise Refusal("Review the form before producing it.")
        s = self._require_schema()
        errs = s.validate(self.values)
        if errs:
            raise InputError("; ".join(str(e) for e in errs))
        self.step = Step.DONE
        return s, dict(self.values)

    # -- drafts ---------------------------------------------------------------------------
    def to_draft(self) -> dict[str, Any]:
        s = self._require_schema()
        return {"form": s.form, "version": s.version, "values": dict(self.values),
                "page_index": self.page_index, "step": self.step.value}

    @classmethod
    def from_draft(cls, forms: Mapping[str, FormSchema], draft: Mapping[str, Any],
                   draft_id: str | None = None) -> NominationWizard:
        wiz = cls(forms)
        wiz.choose(str(draft["form"]))
        s = wiz._require_schema()
        if int(draft.get("version", s.version)) != s.version:
            raise Refusal(
                f"This draft was saved with {draft['form']}-v{draft['version']}; the installed "
                f"form is {s.form_id}. Start a new nomination."
            )
        known = {f.key: f for f in s.fields()}
        for k, v in dict(draft.get("values", {})).items():
            if k in known:
                wiz.values[k] = coerce(known[k], v)
        wiz.page_index = min(int(draft.get("page_index", 0)), len(wiz.pages) - 1)
        step = str(draft.get("step", "page"))
        wiz.step = Step.REVIEW if step == "review" else Step.PAGE
        wiz.draft_id = draft_id
        return wiz

    def spec(self, key: str) -> FieldSpec:
        return self._require_schema().field(key)
