"""The reference server on the checker's edge corpus: it gives, for each edge, an answer the contract allows
(openapi/README.md, choices (h) to (o)). The values come from the checker's own corpus, so the two agree.
"""

from __future__ import annotations

import json

import pytest

from conformance.checker.raw_request import RawRequest, send_raw
from conformance.checker.scenarios.edges_auth import body_kinds
from conformance.checker.scenarios.edges_query import EITHER_WAY, NOT_INTEGERS
from conformance.reference.api import COLLECTION_PATH, MAX_BODY_BYTES
from conformance.reference.keys import DEMO_DEVELOPER_KEY, DEMO_PARTNER_KEY

KEYS = (("x-api-key", DEMO_PARTNER_KEY), ("Authorization", DEMO_DEVELOPER_KEY))
VALID = {"webHookUrls": ["https://hooks.example.com/edge"], "shopId": "edge-shop"}


def send(server, method: str, target: str, body: bytes = b"", headers: tuple = KEYS, host: bool = True):
    return send_raw(server.base_url, RawRequest(method, target, headers, body, host), 10, 2 * MAX_BODY_BYTES)


@pytest.mark.requirement("LIST-06")
@pytest.mark.parametrize("name", ["start", "limit"])
@pytest.mark.parametrize("value", list(NOT_INTEGERS), ids=list(NOT_INTEGERS.values()))
def test_a_paging_value_that_is_not_a_decimal_integer_gets_400(module_reference_server, name, value) -> None:
    answer = send(module_reference_server, "GET", f"{COLLECTION_PATH}?{name}={value}")

    assert answer.status == 400, answer.body


@pytest.mark.requirement("LIST-06", "LIST-05", "LIST-08")
@pytest.mark.parametrize("value", list(EITHER_WAY), ids=list(EITHER_WAY.values()))
def test_a_value_list_06_leaves_open_is_taken(module_reference_server, value) -> None:
    start = send(module_reference_server, "GET", f"{COLLECTION_PATH}?start={value}")
    limit = send(module_reference_server, "GET", f"{COLLECTION_PATH}?limit={value}")

    assert (start.status, limit.status) == (200, 200)
    assert json.loads(limit.body)["limit"] in (1, 100)


@pytest.mark.requirement("LIST-01")
@pytest.mark.parametrize("start", [2**53 + 1, 2**63 - 1])
def test_a_start_within_64_bits_is_echoed_exactly(module_reference_server, start) -> None:
    answer = send(module_reference_server, "GET", f"{COLLECTION_PATH}?start={start}")

    assert json.loads(answer.body)["skip"] == start


@pytest.mark.requirement("AUTH-01")
@pytest.mark.parametrize("kind", body_kinds(VALID), ids=lambda kind: kind.what)
def test_a_keyless_call_gets_401_whatever_its_body(module_reference_server, kind) -> None:
    answer = send(module_reference_server, "POST", COLLECTION_PATH, kind.data, kind.headers)

    assert answer.status in ({401, 413} if kind.oversize else {401})


@pytest.mark.requirement("LIST-01", "HTTP-06")
def test_a_malformed_body_on_a_get_is_ignored(module_reference_server) -> None:
    answer = send(
        module_reference_server, "GET", COLLECTION_PATH, b'{"start": 0,', (*KEYS, ("Content-Type", "application/json"))
    )

    assert answer.status == 200


@pytest.mark.requirement("READ-02", "HTTP-06")
@pytest.mark.parametrize("target", ["/", "//wc-x", "/wc%zz"], ids=["empty id", "empty segment", "bad escape"])
def test_a_path_outside_the_api_gets_a_4xx(module_reference_server, target) -> None:
    for method in ("GET", "PUT", "DELETE"):
        answer = send(module_reference_server, method, COLLECTION_PATH + target)

        assert 400 <= answer.status < 500, (method, answer.status)


@pytest.mark.requirement("HTTP-05")
def test_head_and_connect_get_405(module_reference_server) -> None:
    assert send(module_reference_server, "HEAD", COLLECTION_PATH).status == 405
    assert send(module_reference_server, "CONNECT", COLLECTION_PATH).status == 405


@pytest.mark.requirement("HTTP-01")
def test_a_request_without_host_is_answered_below_500(module_reference_server) -> None:
    assert send(module_reference_server, "GET", COLLECTION_PATH, host=False).status < 500
