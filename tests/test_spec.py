"""The hand-written OpenAPI spec: valid, complete, faithful to CONTRACT.md, and usable by Schemathesis 4."""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

import jsonschema_rs
import pytest
import schemathesis
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate as validate_openapi
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from support import conformance_cli

from conformance.contract.spec import SpecError, SpecInfo, load_spec, spec_info, spec_path, spec_sha256, spec_version

COLLECTION = "/api/v1/partner/webHooks"
ITEM = "/api/v1/partner/webHooks/{webHookId}"
OPERATION_IDS = {
    "createWebHook": ("post", COLLECTION),
    "listWebHooks": ("get", COLLECTION),
    "getWebHook": ("get", ITEM),
    "updateWebHook": ("put", ITEM),
    "deleteWebHook": ("delete", ITEM),
}
STATUS_CODES = {
    "createWebHook": {"200", "201", "400", "401", "413", "415", "429"},
    "listWebHooks": {"200", "400", "401", "413", "429"},
    "getWebHook": {"200", "401", "404", "413", "429"},
    "updateWebHook": {"200", "400", "401", "404", "413", "415", "429"},
    "deleteWebHook": {"200", "204", "401", "404", "413", "429"},
}
# The 11 event types, exactly as CONTRACT.md lists them.
CONTRACT_EVENT_TYPES = {
    "NEW_CONSUMER_ORDER", "NEW_CONSUMER_SIGNUP", "UPDATE_CONSUMER_ORDER", "UPDATE_CONSUMER_USER", "NEW_MEMBER",
    "UPDATE_MEMBER", "CREATE_TRANSACTION", "UPDATE_TRANSACTION", "CANCEL_TRANSACTION", "COMPLETE_TRANSACTION",
    "UPDATE_PRODUCT",
}  # fmt: skip
SERVER_OWNED = ("id", "companyId", "created", "modified", "deleted", "updated")
ERROR_REF = "#/components/schemas/Error"
SPEC_URI = "urn:partner-webhooks-spec"


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return load_spec()


@pytest.fixture(scope="module")
def st_schema() -> schemathesis.BaseSchema:
    # An explicit, empty config: a schemathesis.toml lying around must not change what is tested here.
    return schemathesis.openapi.from_path(spec_path(), config=schemathesis.Config())


def resolve(spec: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """Follow local ``$ref``s until a node that is not a bare reference."""
    while "$ref" in node and len(node) == 1:
        pointer = node["$ref"].removeprefix("#/").split("/")
        node = spec
        for part in pointer:
            node = node[part]
    return node


def operations(spec: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for operation_id, (method, path) in OPERATION_IDS.items():
        yield operation_id, spec["paths"][path][method]


def validator_for(spec: dict[str, Any], schema: dict[str, Any]) -> Draft202012Validator:
    """A JSON Schema 2020-12 validator whose local ``$ref``s resolve inside the spec."""
    registry = Registry().with_resource(SPEC_URI, Resource.from_contents(spec, default_specification=DRAFT202012))

    def rebase(node: Any) -> Any:
        if isinstance(node, dict):
            return {
                key: (SPEC_URI + value if key == "$ref" and value.startswith("#") else rebase(value))
                for key, value in node.items()
            }
        if isinstance(node, list):
            return [rebase(item) for item in node]
        return node

    return Draft202012Validator(rebase(schema), registry=registry)


def url_pattern(spec: dict[str, Any]) -> re.Pattern[str]:
    return re.compile(spec["components"]["schemas"]["WebHookUrl"]["pattern"])


def url_validator(spec: dict[str, Any]) -> jsonschema_rs.Validator:
    """The WebHookUrl schema as Schemathesis reads it: an ECMA-262 regex, where `$` is the very end.

    Python's `re` (and so the `jsonschema` package) also lets `$` match before a final newline.
    """
    return jsonschema_rs.validator_for(spec["components"]["schemas"]["WebHookUrl"])


def draw_all(strategy: st.SearchStrategy[Any], max_examples: int) -> list[Any]:
    """Every value Hypothesis draws in one run. Health checks stay on: a strategy slow to draw from fails."""
    drawn: list[Any] = []

    @settings(max_examples=max_examples, database=None, deadline=None)
    @given(strategy)
    def draw(value: Any) -> None:
        drawn.append(value)

    draw()
    return drawn


def assert_acceptable_callback(url: str) -> None:
    """What a server conformant to every MUST and SHOULD accepts (VALID-02, 07, 08, 09)."""
    parts = urlsplit(url)
    assert parts.scheme == "https", url
    assert len(url) <= 2048, url
    host = parts.hostname
    assert host, url
    assert parts.port is None or 1 <= parts.port <= 65535, url
    with pytest.raises(ValueError):
        ipaddress.ip_address(host)
    assert not host.endswith("."), url
    assert host.rsplit(".", 1)[-1] not in {"localhost", "local", "localdomain", "internal"}, url
    assert host != "localhost", url


# --- the document -------------------------------------------------------------------------------------------


def test_spec_is_a_valid_openapi_3_1_document(spec: dict[str, Any]) -> None:
    validate_openapi(spec)
    assert spec["openapi"] == "3.1.0"


def test_spec_names_the_api_and_its_version(spec: dict[str, Any]) -> None:
    assert spec["info"]["title"] == "Partner WebHooks API"
    assert spec["info"]["version"] == "1.0.0"


def test_spec_has_exactly_the_five_operations_with_stable_ids(spec: dict[str, Any]) -> None:
    found = {
        operation["operationId"]: (method, path)
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if isinstance(operation, dict) and "operationId" in operation
    }
    assert found == OPERATION_IDS


def test_item_operations_share_one_non_empty_webhookid_parameter(spec: dict[str, Any]) -> None:
    parameters = [resolve(spec, parameter) for parameter in spec["paths"][ITEM]["parameters"]]
    assert [(p["name"], p["in"], p["required"]) for p in parameters] == [("webHookId", "path", True)]
    assert parameters[0]["schema"] == {"type": "string", "minLength": 1}
    for method in ("get", "put", "delete"):
        assert "parameters" not in spec["paths"][ITEM][method]


@pytest.mark.parametrize("operation_id", sorted(OPERATION_IDS))
def test_operation_documents_exactly_its_status_codes(spec: dict[str, Any], operation_id: str) -> None:
    method, path = OPERATION_IDS[operation_id]
    assert set(spec["paths"][path][method]["responses"]) == STATUS_CODES[operation_id]


def test_every_documented_body_has_a_schema_and_only_204_has_none(spec: dict[str, Any]) -> None:
    without_body = []
    for operation_id, operation in operations(spec):
        for status, response in operation["responses"].items():
            content = resolve(spec, response).get("content")
            if content is None:
                without_body.append((operation_id, status))
            else:
                assert "schema" in content["application/json"], (operation_id, status)
    assert without_body == [("deleteWebHook", "204")]


def test_every_4xx_response_has_an_error_body(spec: dict[str, Any]) -> None:
    checked = 0
    for operation_id, operation in operations(spec):
        for status, response in operation["responses"].items():
            if status.startswith("4"):
                schema = resolve(spec, response)["content"]["application/json"]["schema"]
                assert schema == {"$ref": ERROR_REF}, (operation_id, status)
                checked += 1
    assert checked == sum(code.startswith("4") for codes in STATUS_CODES.values() for code in codes)


def test_error_requires_only_a_string_message(spec: dict[str, Any]) -> None:
    error = spec["components"]["schemas"]["Error"]
    assert error["required"] == ["message"]
    assert error["properties"]["message"]["type"] == "string"
    assert {"field", "errorType", "error", "status"} <= set(error["properties"])


def test_every_429_documents_a_retry_after_header(spec: dict[str, Any]) -> None:
    for operation_id, operation in operations(spec):
        headers = resolve(spec, operation["responses"]["429"])["headers"]
        assert resolve(spec, headers["Retry-After"])["required"] is True, operation_id


def test_webhook_type_has_exactly_the_11_contract_values(spec: dict[str, Any]) -> None:
    enum = spec["components"]["schemas"]["WebHookType"]["enum"]
    assert len(enum) == 11
    assert set(enum) == CONTRACT_EVENT_TYPES


def test_list_takes_start_limit_shopid_and_type(spec: dict[str, Any]) -> None:
    parameters = {p["name"]: p for p in spec["paths"][COLLECTION]["get"]["parameters"]}
    assert set(parameters) == {"start", "limit", "shopId", "type"}
    assert all(p["in"] == "query" and not p["required"] for p in parameters.values())
    assert parameters["start"]["schema"] == {"type": "integer", "minimum": 0, "default": 0}
    # limit above 100 is clamped, not rejected (LIST-08): there is no maximum.
    assert parameters["limit"]["schema"] == {"type": "integer", "minimum": 1, "default": 100}
    assert parameters["type"]["schema"] == {"$ref": "#/components/schemas/WebHookType"}


def test_search_result_requires_the_four_envelope_fields(spec: dict[str, Any]) -> None:
    assert set(spec["components"]["schemas"]["SearchResult"]["required"]) == {"values", "skip", "limit", "total"}


def test_returned_records_require_every_field_and_deleted_false(spec: dict[str, Any]) -> None:
    record = validator_for(spec, {"$ref": "#/components/schemas/PartnerWebHookRecord"})
    example = spec["components"]["examples"]["CreatedWebHook"]["value"]
    assert record.is_valid(example)
    assert not record.is_valid({**example, "deleted": True})
    for field in (*SERVER_OWNED, "shopId", "url", "webHookType", "webHookUrls"):
        assert not record.is_valid({k: v for k, v in example.items() if k != field}), field


def test_server_owned_fields_are_read_only_in_the_record(spec: dict[str, Any]) -> None:
    properties = spec["components"]["schemas"]["PartnerWebHook"]["properties"]
    assert [name for name, schema in properties.items() if schema.get("readOnly")] == list(SERVER_OWNED)


def test_update_body_accepts_server_owned_fields_of_any_value(spec: dict[str, Any]) -> None:
    update = validator_for(spec, {"$ref": "#/components/schemas/WebHookUpdate"})
    urls = ["https://hooks.example.com/a"]
    assert update.is_valid({"webHookUrls": urls, "id": 7, "created": "yesterday", "deleted": True})
    assert not update.is_valid({"shopId": "s"})


def test_create_body_requires_urls_and_tolerates_unknown_fields(spec: dict[str, Any]) -> None:
    create = validator_for(spec, {"$ref": "#/components/schemas/WebHookCreate"})
    assert create.is_valid({"webHookUrls": ["https://hooks.example.com/a"], "somethingNew": {"x": 1}})
    assert not create.is_valid({"url": "https://hooks.example.com/a"})
    assert not create.is_valid({"webHookUrls": []})
    assert not create.is_valid({"webHookUrls": None})


def test_every_operation_requires_both_keys_together(spec: dict[str, Any]) -> None:
    both = [{"partnerKey": [], "developerKey": []}]
    assert spec["security"] == both
    for operation_id, operation in operations(spec):
        assert operation["security"] == both, operation_id


def test_keys_are_raw_api_key_headers(spec: dict[str, Any]) -> None:
    schemes = spec["components"]["securitySchemes"]
    as_header = {name: (s["type"], s["in"], s["name"]) for name, s in schemes.items()}
    assert as_header == {
        "partnerKey": ("apiKey", "header", "x-api-key"),
        "developerKey": ("apiKey", "header", "Authorization"),
    }


@pytest.mark.parametrize(
    ("source", "statuses", "targets"),
    [
        ("createWebHook", ("200", "201"), {"getWebHook", "updateWebHook", "deleteWebHook"}),
        ("getWebHook", ("200",), {"updateWebHook", "deleteWebHook"}),
        ("updateWebHook", ("200",), {"getWebHook", "updateWebHook", "deleteWebHook"}),
    ],
)
def test_links_pass_the_returned_id_on(
    spec: dict[str, Any], source: str, statuses: tuple[str, ...], targets: set[str]
) -> None:
    method, path = OPERATION_IDS[source]
    for status in statuses:
        links = [resolve(spec, link) for link in spec["paths"][path][method]["responses"][status]["links"].values()]
        assert {link["operationId"] for link in links} == targets
        assert all(link["parameters"] == {"webHookId": "$response.body#/id"} for link in links)


def test_undefined_methods_are_described_outside_the_operations(spec: dict[str, Any]) -> None:
    undefined = spec["x-undefined-methods"]
    assert (undefined["requirement"], undefined["status"], undefined["header"]) == ("HTTP-05", 405, "Allow")
    assert {path: sorted(methods) for path, methods in undefined["allow"].items()} == {
        COLLECTION: ["GET", "POST"],
        ITEM: ["DELETE", "GET", "PUT"],
    }


# --- examples -----------------------------------------------------------------------------------------------


def test_every_component_schema_has_examples_that_validate(spec: dict[str, Any]) -> None:
    for name, schema in spec["components"]["schemas"].items():
        assert schema.get("examples"), f"{name} has no examples"
        validator = validator_for(spec, {"$ref": f"#/components/schemas/{name}"})
        for example in schema["examples"]:
            errors = [error.message for error in validator.iter_errors(example)]
            assert errors == [], f"{name}: {errors}"


def media_type_examples(spec: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any], Any]]:
    for operation_id, operation in operations(spec):
        bodies = []
        if "requestBody" in operation:
            bodies.append(("request", operation["requestBody"]))
        bodies += [(status, resolve(spec, response)) for status, response in operation["responses"].items()]
        for where, body in bodies:
            for media in body.get("content", {}).values():
                for key, example in media.get("examples", {}).items():
                    yield f"{operation_id} {where} {key}", media["schema"], resolve(spec, example)["value"]


def test_every_operation_has_request_and_response_examples(spec: dict[str, Any]) -> None:
    labels = [label for label, _, _ in media_type_examples(spec)]
    for operation_id, operation in operations(spec):
        assert any(label.startswith(f"{operation_id} 2") for label in labels), operation_id
        if "requestBody" in operation:
            assert any(label.startswith(f"{operation_id} request") for label in labels), operation_id


def test_every_request_and_response_example_validates(spec: dict[str, Any]) -> None:
    checked = 0
    for label, schema, value in media_type_examples(spec):
        errors = [error.message for error in validator_for(spec, schema).iter_errors(value)]
        assert errors == [], f"{label}: {errors}"
        checked += 1
    assert checked >= 20


def test_request_examples_use_acceptable_callback_urls(spec: dict[str, Any]) -> None:
    urls = []
    for label, _, value in media_type_examples(spec):
        if " request " in label:
            urls += value["webHookUrls"] + ([value["url"]] if value.get("url") else [])
    assert urls
    for url in urls:
        assert url_pattern(spec).search(url), url
        assert_acceptable_callback(url)


# --- the webhook URL pattern --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://hooks.example.com/a",  # VALID-09
        "https://localhost/a",  # VALID-08 from here on
        "https://localhost./a",
        "https://api.localhost/a",
        "https://metadata.google.internal/computeMetadata/v1",
        "https://printer.local/",
        "https://127.0.0.1/a",
        "https://10.1.2.3/a",
        "https://172.16.0.1/a",
        "https://192.168.1.1/a",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/a",
        "https://8.8.8.8/a",  # a public IP literal: excluded too, the pattern is a strict approximation
        "https://user@hooks.example.com/a",
        "https://hooks.example.com:0/a",
        "https://hooks.example.com:65536/a",
        "ftp://hooks.example.com/a",  # VALID-02
        "javascript:alert(1)",
        "/relative/path",
        "https://hooks.example.com/a b",
        "https://hooks.example.com/a\n",
        "https://hooks.example.com/" + "a" * 2030,  # VALID-07: 2049 characters
    ],
)
def test_url_schema_rejects_what_a_conformant_server_may_reject(spec: dict[str, Any], url: str) -> None:
    assert not url_validator(spec).is_valid(url)


@pytest.mark.parametrize(
    "url",
    [
        "https://hooks.example.com",
        "https://hooks.example.com/partner/orders",
        "https://backup.hooks.example.org:8443/orders?source=partner&v=2",
        "https://a-b.c.example.io/x/y/z;p=1?q=(1)*2",
        "https://hooks.example.com/" + "a" * 2022,  # exactly 2048 characters: still allowed
    ],
)
def test_url_schema_accepts_public_https_urls(spec: dict[str, Any], url: str) -> None:
    assert url_validator(spec).is_valid(url)


def test_urls_hypothesis_draws_from_the_pattern_are_acceptable_callbacks(spec: dict[str, Any]) -> None:
    drawn = draw_all(st.from_regex(url_pattern(spec), fullmatch=True), max_examples=200)
    assert len(drawn) >= 100
    for url in drawn:
        assert_acceptable_callback(url)


def test_urls_schemathesis_sends_in_positive_create_bodies_are_acceptable_callbacks(
    st_schema: schemathesis.BaseSchema,
) -> None:
    cases = draw_all(st_schema.find_operation_by_id("createWebHook").as_strategy(), max_examples=200)
    sent = [url for case in cases for url in case.body["webHookUrls"]]
    sent += [case.body["url"] for case in cases if isinstance(case.body.get("url"), str)]
    assert len(sent) >= 200
    for url in sent:
        assert_acceptable_callback(url)


# --- Schemathesis 4 -----------------------------------------------------------------------------------------


def test_schemathesis_loads_all_five_operations(st_schema: schemathesis.BaseSchema) -> None:
    loaded = {st_schema.get_operation_id(result.ok()) for result in st_schema.get_all_operations()}
    assert loaded == set(OPERATION_IDS)


@pytest.mark.parametrize("operation_id", sorted(OPERATION_IDS))
@pytest.mark.parametrize("mode", [schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE])
def test_schemathesis_generates_cases_for_every_operation(
    st_schema: schemathesis.BaseSchema, operation_id: str, mode: schemathesis.GenerationMode
) -> None:
    operation = st_schema.find_operation_by_id(operation_id)
    cases = draw_all(operation.as_strategy(generation_mode=mode), max_examples=10)
    assert cases
    assert {(case.method.lower(), case.path) for case in cases} == {OPERATION_IDS[operation_id]}


def test_schemathesis_positive_bodies_validate_against_the_request_schema(
    spec: dict[str, Any], st_schema: schemathesis.BaseSchema
) -> None:
    for operation_id in ("createWebHook", "updateWebHook"):
        method, path = OPERATION_IDS[operation_id]
        schema = spec["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]
        validator = validator_for(spec, schema)
        cases = draw_all(st_schema.find_operation_by_id(operation_id).as_strategy(), max_examples=30)
        assert cases
        for case in cases:
            assert validator.is_valid(case.body), (operation_id, case.body)


def test_schemathesis_stateful_machine_follows_every_explicit_link(
    spec: dict[str, Any], st_schema: schemathesis.BaseSchema
) -> None:
    rules = [name for name in dir(st_schema.as_state_machine()) if "__" in name]
    for operation_id in ("createWebHook", "getWebHook", "updateWebHook"):
        method, path = OPERATION_IDS[operation_id]
        for status, response in spec["paths"][path][method]["responses"].items():
            for link_name in response.get("links", {}):
                assert any(f"_{status}_{link_name}__" in rule for rule in rules), (operation_id, status, link_name)
    assert {"GET " + ITEM, "PUT " + ITEM, "DELETE " + ITEM} <= st_schema.operations_with_incoming_links()


def test_schemathesis_uses_the_base_url_it_is_given() -> None:
    config = schemathesis.Config.from_dict({"base-url": "http://target.example:8080/prefix"})
    schema = schemathesis.openapi.from_path(spec_path(), config=config)
    case = schema.find_operation_by_id("listWebHooks").Case()
    assert case.as_curl_command().endswith("http://target.example:8080/prefix/api/v1/partner/webHooks")


# --- conformance.contract.spec ------------------------------------------------------------------------------


def test_spec_path_points_at_the_repository_spec_in_a_source_checkout() -> None:
    path = spec_path()
    assert path.is_file()
    assert path.name == "partner-webhooks.yaml"
    assert path.parent.name == "openapi"


def test_spec_info_names_the_version_and_the_file_hash() -> None:
    info = spec_info()
    assert isinstance(info, SpecInfo)
    assert (info.title, info.version) == ("Partner WebHooks API", "1.0.0")
    assert re.fullmatch(r"[0-9a-f]{64}", info.sha256)
    assert info.sha256 == spec_sha256(info.path)


def test_spec_version_reads_info_version(spec: dict[str, Any]) -> None:
    assert spec_version(spec) == "1.0.0"


def test_spec_info_is_frozen() -> None:
    info = spec_info()
    with pytest.raises(AttributeError):
        info.version = "2.0.0"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (None, "not found"),
        ("openapi: [3.1.0\ninfo: {", "not valid YAML"),
        ("- just\n- a list\n", "not a mapping"),
        ("swagger: '2.0'\ninfo: {title: t, version: '1'}\npaths: {}\n", "`openapi` is None"),
        ("openapi: 3.1.0\ninfo: {title: t}\npaths: {}\n", "no `info.version`"),
        ("openapi: 3.1.0\ninfo: {title: t, version: '1'}\n", "no `paths`"),
    ],
)
def test_load_spec_rejects_a_bad_file_with_a_one_line_spec_error(
    tmp_path: Path, content: str | None, reason: str
) -> None:
    path = tmp_path / "spec.yaml"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(SpecError) as raised:
        load_spec(path)
    message = str(raised.value)
    assert reason in message
    assert str(path) in message
    assert "\n" not in message
    assert isinstance(raised.value, ValueError)


# --- servers: an example for other tools, never the checker's target -------------------------------------


def test_servers_is_one_example_that_names_no_host(spec: dict[str, Any]) -> None:
    (server,) = spec["servers"]
    assert urlsplit(server["url"]).hostname.endswith(".invalid")  # RFC 6761: never resolves
    assert "example" in server["description"]


def test_without_a_base_url_a_run_checks_the_bundled_reference_server_not_the_specs_servers(tmp_path: Path) -> None:
    result = conformance_cli("run", "--budget", "quick", "--only", "HTTP-05", "-q", "--report-dir", "out", cwd=tmp_path)
    run = json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))["run"]
    assert result.returncode == 0, result.stderr
    assert run["reference_server"] is True
    assert urlsplit(run["target"]).hostname == "127.0.0.1"


def test_the_schemathesis_engine_drops_the_specs_servers(spec: dict[str, Any]) -> None:
    from conformance.checker.fuzz.config import target_spec
    from conformance.checker.profile import make_profile

    profile = make_profile({"base_url": "https://target.test", "partner_key": "p", "developer_key": "d"})
    state = SimpleNamespace(spec=spec, profile=profile, run_tag="t")
    assert "servers" in spec
    assert "servers" not in target_spec(state)
