"""The nomination forms installed (resources/forms/<form>-v<N>.json), every version."""

from __future__ import annotations

from smki_desktop.core.forms import FormSchema, schema_from_json
from smki_desktop.resources_path import resource


def all_schemas() -> list[FormSchema]:
    return [schema_from_json(p.read_bytes())
            for p in sorted(resource("forms").glob("*-v*.json"))]
