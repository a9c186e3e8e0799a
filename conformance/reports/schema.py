"""The JSON Schema of report.json (`report.schema.json`, shipped in the package) and validation against it."""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import files
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker

SCHEMA_FILENAME = "report.schema.json"


@cache
def report_schema() -> dict[str, Any]:
    """The report's JSON Schema (draft 2020-12) as shipped beside this module."""
    return json.loads(files("conformance.reports").joinpath(SCHEMA_FILENAME).read_text(encoding="utf-8"))


def schema_errors(report: Any) -> list[str]:
    """Why `report` does not follow the schema, one line per problem (empty when it does)."""
    validator = Draft202012Validator(report_schema(), format_checker=FormatChecker())
    errors = sorted(validator.iter_errors(report), key=lambda error: list(error.absolute_path))
    return [f"{'/'.join(map(str, error.absolute_path)) or '(report)'}: {error.message[:200]}" for error in errors]
