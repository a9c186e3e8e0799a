"""The requirements document (`docs/requirements.md`): the catalogue and the spec, rendered for people.

Users of the checker read the contract here: every requirement with its ID and level, grouped as the
catalogue groups them, with the rules around them (the resource, authentication, paging, ...). Nothing in it
is written by hand: the requirements and rules come from `requirements.yaml`, the resource, the operations,
the event types and the limits from the spec. Regenerate it with

    python -m conformance.contract.document > docs/requirements.md

(`make requirements-doc`); a test fails while the committed copy is not current.
"""

from __future__ import annotations

from typing import Any

from conformance.contract.catalogue import catalogue, catalogue_text, groups
from conformance.contract.facts import ContractFacts
from conformance.contract.spec import load_spec

# Where the document lives in the project's repository; every report links it.
REQUIREMENTS_DOCUMENT = "docs/requirements.md"
REGENERATE = "python -m conformance.contract.document > docs/requirements.md"
# How a report names it: reports travel (to a vendor, into a CI log), so the repository is named with the path.
REQUIREMENTS_LINK = f"{REQUIREMENTS_DOCUMENT} in the webhook-conformance repository"


def render(spec: dict[str, Any] | None = None) -> str:
    """The requirements document as Markdown; ``spec`` defaults to the bundled spec."""
    spec = spec if spec is not None else load_spec()
    facts = ContractFacts.of(spec)
    lines = [
        f"# {spec['info']['title']} {spec['info']['version']}: requirements",
        "",
        "<!-- Generated from conformance/contract/requirements.yaml and openapi/partner-webhooks.yaml:",
        f"     do not edit by hand; regenerate with `{REGENERATE}`. -->",
        "",
        "What a conformant implementation of the API must and should do, as the checker verifies it. Each",
        "requirement has a stable ID; reports, findings and `conformance run --only ID` use it.",
        "",
        catalogue_text("levels").strip(),
        "",
        *_resource(spec, facts),
    ]
    by_group: dict[str, list[str]] = {}
    for item in catalogue():
        by_group.setdefault(item.group, []).append(f"- **{item.id} {item.level}** {item.text}")
    for group in groups():
        operation = facts.operation(group.operation) if group.operation else None
        heading = f"{group.title} - {operation.method} {operation.path}" if operation else group.title
        lines += [f"## {heading}", ""]
        if group.rules:
            rules = group.rules.format(default_list_limit=facts.default_list_limit, max_list_limit=facts.max_list_limit)
            lines += [rules.strip(), ""]
        lines += [*by_group.pop(group.id, []), ""]
    if by_group:
        raise ValueError(f"requirements of no group in the catalogue: {sorted(by_group)}")
    lines += ["## What the checker promises the target (staging safety)", "", catalogue_text("staging_safety").strip()]
    return "\n".join(lines) + "\n"


def _resource(spec: dict[str, Any], facts: ContractFacts) -> list[str]:
    schemas = spec["components"]["schemas"]
    record = schemas["PartnerWebHook"]["properties"]
    error = schemas["Error"]
    rows = [
        f"| `{name}` | {_type_words(schema, schemas)} | {'server' if name in facts.server_fields else 'client'} |"
        for name, schema in record.items()
    ]
    optional = [name for name in error["properties"] if name not in error["required"]]
    return [
        "## Resource",
        "",
        f"Base path `{facts.operation('listWebHooks').path}`. JSON in and out (`application/json`, UTF-8).",
        "",
        "| operation | method | path |",
        "|---|---|---|",
        *(f"| `{op.id}` | {op.method} | `{op.path}` |" for op in facts.operations),
        "",
        "PartnerWebHook, the record:",
        "",
        "| field | type | written by |",
        "|---|---|---|",
        *rows,
        "",
        f"Event types (`webHookType`, all {len(facts.event_types)} are valid): "
        + ", ".join(f"`{name}`" for name in facts.event_types)
        + ".",
        "",
        "SearchResult, a list's answer: "
        + ", ".join(f"`{name}`" for name in schemas["SearchResult"]["properties"])
        + f" (`limit` at most {facts.max_list_limit}).",
        "",
        f"Error body, the body of every 4xx: an object with a string `{'`, `'.join(error['required'])}`; "
        + ", ".join(f"`{name}`" for name in optional)
        + " are optional.",
        "",
    ]


def _type_words(schema: dict[str, Any], schemas: dict[str, Any]) -> str:
    """A property's type in words: `string or null`, `integer (epoch milliseconds)`, `array of strings`."""
    if "$ref" in schema:
        return _type_words(schemas[schema["$ref"].rsplit("/", 1)[-1]], schemas)  # siblings never change the type
    if "anyOf" in schema:
        return " or ".join(dict.fromkeys(_type_words(option, schemas) for option in schema["anyOf"]))
    kinds = schema.get("type", "any")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    words = []
    for kind in kinds:
        if kind == "array":
            words.append(f"array of {_type_words(schema.get('items', {}), schemas)}s")
        elif kind == "integer" and schema.get("format") == "int64" and "millisecond" in schema.get("description", ""):
            words.append("integer (epoch milliseconds)")
        else:
            words.append(kind)
    text = " or ".join(words)
    return f"{text} (one of the event types)" if "enum" in schema else text


if __name__ == "__main__":
    print(render(), end="")
