"""The response schemas every answer is held to (HTTP-02), read from the spec with its `$ref`s inlined for speed:
the same verdicts, word for word, as the schemas as written."""

from __future__ import annotations

from typing import Any

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from conformance.checker.observer import ResponseSpec, inlined
from conformance.contract.spec import load_spec

SPEC = load_spec()
RECORD = {
    "id": "3f2a",
    "shopId": "shop-1",
    "webHookUrls": ["https://example.com/hook"],
    "webHookType": "NEW_MEMBER",
    "companyId": "acme",
}
BODIES = [
    RECORD,
    {**RECORD, "webHookUrls": "https://example.com/hook"},
    {key: value for key, value in RECORD.items() if key != "id"},
    {"start": 0, "limit": 20, "total": 2, "values": [RECORD, {**RECORD, "webHookType": 7}]},
    {"start": "0", "values": None},
    {"error": "bad_request", "message": "webHookUrls is required"},
    {"message": 3},
    [],
    None,
]


def _as_written(schema: Any) -> Draft202012Validator:
    registry = Registry().with_resource("", Resource.from_contents(SPEC, default_specification=DRAFT202012))
    return Draft202012Validator({**schema, "components": SPEC["components"]}, registry=registry)


@pytest.mark.parametrize("key", sorted(ResponseSpec(SPEC)._schemas), ids=lambda key: f"{key[0]}-{key[1]}")
def test_inlined_schemas_give_the_same_verdicts_as_the_spec_as_written(key: tuple[str, int]) -> None:
    spec = ResponseSpec(SPEC)
    written = _as_written(spec._schemas[key])
    judged = 0

    for body in BODIES:
        errors = sorted(written.iter_errors(body), key=lambda error: list(error.absolute_path))
        expected = [f"{'/'.join(map(str, e.absolute_path)) or '(body)'}: {e.message[:200]}" for e in errors[:5]]
        assert spec.schema_errors(*key, body) == expected, body
        judged += bool(expected)

    assert judged >= 2  # the bodies break every schema in two ways at least: not only empty lists are compared


def test_inlining_resolves_refs_merges_what_stands_beside_them_and_leaves_a_recursive_one() -> None:
    document = {
        "components": {
            "schemas": {
                "Id": {"type": "string"},
                "Tree": {"type": "object", "properties": {"child": {"$ref": "#/components/schemas/Tree"}}},
            }
        }
    }

    assert inlined({"$ref": "#/components/schemas/Id"}, document) == {"type": "string"}
    assert inlined({"$ref": "#/components/schemas/Id", "minLength": 1}, document) == {
        "allOf": [{"type": "string"}, {"minLength": 1}]
    }
    tree = inlined({"$ref": "#/components/schemas/Tree"}, document)
    assert tree["properties"]["child"] == {"$ref": "#/components/schemas/Tree"}
    a_property_named_ref = {"properties": {"$ref": {"type": "string"}}}
    assert inlined(a_property_named_ref, document) == a_property_named_ref
