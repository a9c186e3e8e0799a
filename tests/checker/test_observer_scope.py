"""Which checks judge which answers: a request that is not an API call (invalid HTTP, a path outside the API)
is judged by HTTP-01 alone, and a HEAD answer, which never has a body, by no body check."""

from __future__ import annotations

from requests.structures import CaseInsensitiveDict

from conformance.checker.client import Reply
from conformance.checker.evidence import Exchange
from conformance.checker.observer import ResponseObserver, ResponseSpec
from conformance.checker.profile import Credentials
from conformance.checker.results import Results
from conformance.contract.spec import load_spec


def _judge(method: str, status: int, body: bytes, *, api_call: bool = True) -> Results:
    results = Results(1)
    exchange = Exchange(method, "http://target/api/v1/partner/webHooks/", {}, None, status=status)
    headers = CaseInsensitiveDict({"Content-Type": "text/plain"})
    reply = Reply(status, headers, body, exchange, None, Credentials("p", "d"), api_call)
    ResponseObserver(ResponseSpec(load_spec()), results)(reply)
    return results


def test_a_bare_4xx_to_a_request_outside_the_api_is_no_finding() -> None:
    results = _judge("GET", 400, b"400 Bad Request", api_call=False)

    assert results.findings() == []
    assert results.status("HTTP-01") == "passed"


def test_a_5xx_to_a_request_outside_the_api_still_breaks_http_01() -> None:
    results = _judge("GET", 502, b"Bad Gateway", api_call=False)

    assert [finding.requirement_id for finding in results.findings()] == ["HTTP-01"]


def test_a_head_405_without_a_body_is_no_finding() -> None:
    assert _judge("HEAD", 405, b"").findings() == []


def test_the_same_4xx_to_an_api_call_breaks_http_02_and_03() -> None:
    broken = {finding.requirement_id for finding in _judge("GET", 400, b"400 Bad Request").findings()}

    assert {"HTTP-02", "HTTP-03"} <= broken
