"""The contract's facts come from the spec (and, where the spec cannot say them, from one place in
`conformance/contract/facts.py`); the checker restates none of them, and the reference server shares none."""

from __future__ import annotations

import ast
import copy
import re
from pathlib import Path

import pytest

from conformance.contract import facts
from conformance.contract.facts import ContractFacts, internal_hosts, item_path
from conformance.contract.request_rules import url_breaks
from conformance.contract.spec import SpecError, load_spec

ROOT = Path(__file__).resolve().parents[1]
CHECKER = ROOT / "conformance" / "checker"
CONTRACT_MD = ROOT.parent / "shared" / "CONTRACT.md"


def test_facts_follow_the_spec_they_are_read_from() -> None:
    spec = copy.deepcopy(load_spec())
    schemas = spec["components"]["schemas"]
    schemas["WebHookType"]["enum"].append("NEW_EVENT")
    schemas["WebHookUrls"]["maxItems"] = 7
    schemas["WebHookUrl"]["maxLength"] = 512
    schemas["SearchResult"]["properties"]["limit"]["maximum"] = 50
    changed = ContractFacts.of(spec)
    assert changed.event_types[-1] == "NEW_EVENT"
    assert (changed.max_urls, changed.max_url_length, changed.max_list_limit) == (7, 512, 50)
    assert (facts.MAX_URLS, facts.MAX_URL_LENGTH, facts.MAX_LIST_LIMIT) == (10, 2048, 100)


def test_the_bundled_spec_gives_the_fields_the_contract_names() -> None:
    assert facts.CLIENT_FIELDS == ("url", "shopId", "webHookType", "webHookUrls")  # CREATE-02's order
    assert set(facts.SERVER_FIELDS) == {"id", "companyId", "created", "modified", "deleted", "updated"}
    assert set(facts.RECORD_FIELDS) == set(facts.CLIENT_FIELDS) | set(facts.SERVER_FIELDS)
    assert len(facts.EVENT_TYPES) == 11  # VALID-03: "the 11 values"
    assert facts.DEFAULT_LIST_LIMIT == facts.MAX_LIST_LIMIT == 100  # LIST-01, LIST-08


@pytest.mark.parametrize(
    ("remove", "named"),
    [
        (("components", "schemas", "WebHookType"), "components.schemas.WebHookType"),
        (("components", "schemas", "WebHookUrls"), "components.schemas.WebHookUrls"),
        (("components", "schemas", "PartnerWebHook"), "components.schemas.PartnerWebHook"),
    ],
)
def test_a_spec_without_a_fact_fails_in_one_line_naming_it(remove: tuple[str, ...], named: str) -> None:
    spec = copy.deepcopy(load_spec())
    node = spec
    for key in remove[:-1]:
        node = node[key]
    del node[remove[-1]]
    with pytest.raises(SpecError, match=re.escape(named)) as raised:
        ContractFacts.of(spec)
    assert "\n" not in str(raised.value)


def test_operations_and_paths_are_the_specs() -> None:
    contract = facts.CONTRACT
    assert {(op.method, op.path) for op in contract.operations} == {
        (method.upper(), path)
        for path, item in load_spec()["paths"].items()
        for method in item
        if method in facts.METHODS
    }
    collection, item = facts.COLLECTION_PATH, facts.ITEM_PATH
    assert contract.operation_at("POST", collection) == "createWebHook"
    assert contract.operation_at("GET", collection) == "listWebHooks"
    assert contract.operation_at("DELETE", item_path("a/b")) == "deleteWebHook"  # an encoded `/` stays in the id
    assert contract.operation_at("GET", collection + "/") is None  # the empty id is no API path
    assert contract.operation_at("GET", collection + "/a/b") is None
    assert contract.operation_at("GET", collection + "x/y") is None
    assert contract.operation_at("DELETE", collection) is None
    assert contract.operation_on("PUT", item).id == "updateWebHook"
    assert {collection: {"GET", "POST"}, item: {"GET", "PUT", "DELETE"}} == facts.PATH_METHODS
    allowed = load_spec()["x-undefined-methods"]["allow"]
    assert {path: set(methods) for path, methods in allowed.items()} == facts.PATH_METHODS


def test_item_paths_encode_every_reserved_character() -> None:
    assert item_path("..") == facts.COLLECTION_PATH + "/%2E%2E"
    assert item_path("a/b?c#d") == facts.COLLECTION_PATH + "/a%2Fb%3Fc%23d"


def test_every_internal_host_is_judged_internal_and_their_neighbours_are_not() -> None:
    for host in internal_hosts():
        assert [item.requirement_id for item in url_breaks(f"https://{host}/wc")] == ["VALID-08"], host
    for host in ("126.255.255.255", "128.0.0.0", "11.0.0.0", "172.15.255.255", "172.32.0.0", "192.169.0.0",
                 "169.253.255.255", "[::2]", facts.WEBHOOK_HOST):
        assert url_breaks(f"https://{host}/wc") == [], host


@pytest.mark.skipif(not CONTRACT_MD.exists(), reason="../shared/CONTRACT.md is not beside this checkout")
def test_internal_networks_are_the_ones_contract_md_lists() -> None:
    line = next(line for line in CONTRACT_MD.read_text(encoding="utf-8").splitlines() if "VALID-08" in line)
    listed = re.search(r"\(([^)]*)\)", line).group(1).split(", ")
    names = {item for item in listed if not item[0].isdigit() and ":" not in item}
    shorthand = {"10/8": "10.0.0.0/8", "172.16/12": "172.16.0.0/12", "192.168/16": "192.168.0.0/16",
                 "169.254/16": "169.254.0.0/16", "::1": "::1/128"}
    networks = {shorthand.get(item, item) for item in listed if item not in names}
    assert names == set(facts.INTERNAL_HOST_NAMES)
    assert networks == {str(network) for network in facts.INTERNAL_NETWORKS}


def _string_constants(path: Path) -> list[str]:
    return [
        node.value
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    ]


def test_every_operation_id_the_checker_names_is_in_the_spec() -> None:
    known = {operation.id for operation in facts.CONTRACT.operations}
    named = {
        value
        for path in CHECKER.rglob("*.py")
        for value in _string_constants(path)
        if re.fullmatch(r"[a-z]+WebHooks?", value)
    }
    assert named and named <= known


# Literal copies of facts that facts.py holds: none may come back into the checker.
RESTATED = {
    "the base path": re.compile(r"/api/v1/partner"),
    "a URL limit": re.compile(r"\b(?:2048|2_048)\b"),
    "the body limit": re.compile(r"(?<!\* )\b1024 \* 1024\b(?! \*)|\b1048576\b|1_048_576"),
    "the default event type": re.compile(r"\bNEW_CONSUMER_ORDER\b"),
    "the webhook host": re.compile(r"hooks\.example\.com"),
    "the absent id": re.compile(r"no-such-record"),
    "an internal address": re.compile(r"\b(?:127\.0\.0\.1|169\.254\.169\.254|192\.168\.\d|10\.0\.0\.\d)"),
    "a webhook_types of its own": re.compile(r"def webhook_types\b"),
    "a client field list": re.compile(r'\(\s*(?:"{0}",\s*){{3}}"{0}"'.format("(?:url|shopId|webHookType|webHookUrls)")),
}


@pytest.mark.parametrize("fact", sorted(RESTATED))
def test_the_checker_restates_no_contract_fact(fact: str) -> None:
    pattern = RESTATED[fact]
    found = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in sorted(CHECKER.rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if pattern.search(line)
    ]
    assert found == []


def test_the_reference_server_keeps_its_own_copies() -> None:
    """An oracle must not share code with what it judges: the reference server and the tests' own oracle
    read the spec themselves, never through the checker's facts or request rules."""
    shared = ("conformance.contract.facts", "conformance.contract.request_rules")
    oracles = [*(ROOT / "conformance" / "reference").rglob("*.py"), ROOT / "tests" / "reference" / "conftest.py"]
    imports = [
        f"{path.relative_to(ROOT)}: {name}"
        for path in oracles
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.ImportFrom) and node.module
        for name in [node.module]
        if name.startswith(shared)
    ]
    assert imports == []
