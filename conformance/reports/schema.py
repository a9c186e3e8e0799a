"""The JSON Schema of report.json (`report.schema.json`, shipped in the package; its `run.options` part is generated
from the option table) and validation against it."""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import files
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker

from conformance.checker.options import options_schema

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


def with_current_options(text: str) -> str:
    """The schema file's text with its `run.options` block generated afresh from the option table
    (`options.options_schema`); the rest of the file as it is. A test checks the shipped file is current."""
    lines = text.split("\n")
    start = next(number for number, line in enumerate(lines) if line.strip() == '"options": {')
    indent = lines[start][: len(lines[start]) - len(lines[start].lstrip())]
    end = next(number for number in range(start + 1, len(lines)) if lines[number].startswith(indent + "}"))
    return "\n".join([*lines[:start], *_options_block(indent, lines[end][len(indent) + 1 :]), *lines[end + 1 :]])


def _options_block(indent: str, after: str) -> list[str]:
    def compact(value: Any) -> str:
        return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))

    schema = options_schema()
    inner, property_indent = indent + "  ", indent + "    "
    block = [f'{indent}"options": {{']
    block += [f"{inner}{compact(key)}: {compact(value)}," for key, value in schema.items() if key != "properties"]
    block.append(f'{inner}"properties": {{')
    block += [f"{property_indent}{compact(name)}: {compact(value)}," for name, value in schema["properties"].items()]
    block[-1] = block[-1].rstrip(",")
    return [*block, f"{inner}}}", f"{indent}}}{after}"]
