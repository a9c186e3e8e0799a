"""The clean reference server meets every HTTP behaviour (HTTP) requirement.

Corpora of raw requests drive these tests: ``WELL_FORMED`` (each must get a 2xx), ``MALFORMED`` (each must
get a 4xx) and ``EITHER_WAY`` (the contract allows either). Each probe is sent once, to a server shared by
the module, and every check reads that one response; ``{id}`` in a target names a live record created for
that probe alone, so no probe sees another's effect on its record.
"""

from __future__ import annotations

import builtins
import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import pytest

BASE_PATH = "/api/v1/partner/webHooks"
ITEM = BASE_PATH + "/{id}"
HOOK = "https://hooks.example.com/partner/orders"
JSON = (("Content-Type", "application/json"),)
VALID_CREATE = json.dumps({"webHookUrls": [HOOK]}).encode()


@dataclass(frozen=True)
class Probe:
    """One raw request: method, request target, body bytes, headers, and whether the demo keys go along."""

    method: str
    target: str
    body: bytes | None = None
    headers: tuple[tuple[str, str | bytes], ...] = field(default=JSON)
    keys: bool = True


def _json(method: str, target: str, value: Any) -> Probe:
    return Probe(method, target, json.dumps(value).encode())


def _create_with(fragment: bytes) -> bytes:
    """A create body of one valid URL plus a raw JSON member (``b'"shopId": NaN'``)."""
    return b'{"webHookUrls": ["' + HOOK.encode() + b'"], ' + fragment + b"}"


def _deeply_nested(depth: int) -> bytes:
    return b'{"webHookUrls": ' + b"[" * depth + b"]" * depth + b"}"


WELL_FORMED: dict[str, Probe] = {
    "create minimal": _json("POST", BASE_PATH, {"webHookUrls": [HOOK]}),
    "create full": _json(
        "POST",
        BASE_PATH,
        {
            "url": "https://legacy.example.com/hook",
            "shopId": "shop-1",
            "webHookType": "NEW_MEMBER",
            "webHookUrls": [HOOK, "https://backup.example.org:8443/orders?source=partner"],
        },
    ),
    "create with unicode shop": _json("POST", BASE_PATH, {"webHookUrls": [HOOK], "shopId": "Bäckerei-東京-🛒"}),
    "create with nul in shop": _json("POST", BASE_PATH, {"webHookUrls": [HOOK], "shopId": "a\u0000b"}),
    "create with unknown fields": _json("POST", BASE_PATH, {"webHookUrls": [HOOK], "x": {"y": [1, None]}}),
    "create with charset": Probe(
        "POST",
        BASE_PATH,
        VALID_CREATE,
        (("Content-Type", "application/json; charset=utf-8"),),
    ),
    "list": Probe("GET", BASE_PATH),
    "list with every parameter": Probe("GET", BASE_PATH + "?start=0&limit=5&shopId=shop-1&type=NEW_MEMBER"),
    "list past the end": Probe("GET", BASE_PATH + "?start=1000"),
    "list with limit 1000": Probe("GET", BASE_PATH + "?limit=1000"),
    "list with a limit of 5000 digits": Probe("GET", BASE_PATH + "?limit=" + "1" * 5000),
    "list with a start of 5000 digits": Probe("GET", BASE_PATH + "?start=" + "1" * 5000),
    "list with unknown parameter": Probe("GET", BASE_PATH + "?colour=blue"),
    "list with unicode shop": Probe("GET", BASE_PATH + "?shopId=B%C3%A4ckerei"),
    "read": Probe("GET", ITEM),
    "update": _json("PUT", ITEM, {"webHookUrls": [HOOK], "webHookType": "UPDATE_PRODUCT", "shopId": "s"}),
    "update with server fields": _json(
        "PUT",
        ITEM,
        {
            "id": "ignored",
            "companyId": "globex",
            "created": 0,
            "modified": 0,
            "deleted": True,
            "updated": False,
            "webHookUrls": [HOOK],
        },
    ),
    "delete": Probe("DELETE", ITEM),
}

MALFORMED: dict[str, Probe] = {
    # Bodies of a create
    "create not json": Probe("POST", BASE_PATH, b"webHookUrls=nope"),
    "create empty body": Probe("POST", BASE_PATH, b""),
    "create no body at all": Probe("POST", BASE_PATH),
    "create json array": _json("POST", BASE_PATH, [{"webHookUrls": [HOOK]}]),
    "create json null": Probe("POST", BASE_PATH, b"null"),
    "create deeply nested": Probe("POST", BASE_PATH, _deeply_nested(100_000)),
    "create 5000-digit number": Probe("POST", BASE_PATH, _create_with(b'"shopId": ' + b"9" * 5000)),
    "create NaN": Probe("POST", BASE_PATH, _create_with(b'"shopId": NaN')),
    "create Infinity": Probe("POST", BASE_PATH, _create_with(b'"shopId": -Infinity')),
    "create lone surrogate": Probe("POST", BASE_PATH, _create_with(b'"shopId": "\\ud800"')),
    "create lone surrogate url": Probe("POST", BASE_PATH, b'{"webHookUrls": ["https://a.example.com/\\udfff"]}'),
    "create invalid utf-8": Probe("POST", BASE_PATH, b'{"webHookUrls": ["https://a.example.com/\xc3\x28"]}'),
    "create utf-16": Probe("POST", BASE_PATH, json.dumps({"webHookUrls": [HOOK]}).encode("utf-16")),
    "create url with control characters": _json("POST", BASE_PATH, {"webHookUrls": ["https://a.example.com/\r\nX: y"]}),
    "create url with backslash host trick": _json(
        "POST", BASE_PATH, {"webHookUrls": ["https://127.0.0.1\\@example.com/"]}
    ),
    "create url with port out of range": _json("POST", BASE_PATH, {"webHookUrls": ["https://a.example.com:99999/"]}),
    "create url with bad ipv6": _json("POST", BASE_PATH, {"webHookUrls": ["https://[::1/"]}),
    "create url of a million characters": _json("POST", BASE_PATH, {"webHookUrls": [HOOK + "a" * 1_000_000]}),
    "create 10000 urls": _json("POST", BASE_PATH, {"webHookUrls": [f"{HOOK}/{n}" for n in range(10_000)]}),
    "create body over 1 MiB": Probe("POST", BASE_PATH, _create_with(b'"x": "' + b"x" * (2 << 20) + b'"')),
    "create garbage content type": Probe("POST", BASE_PATH, b"{", (("Content-Type", "%%%/;;=="),)),
    "create without content type": Probe("POST", BASE_PATH, b"<xml/>", ()),
    "create content length not a number": Probe("POST", BASE_PATH, None, (("Content-Length", "abc"),)),
    "create negative content length": Probe("POST", BASE_PATH, None, (("Content-Length", "-1"),)),
    "create chunked": Probe(
        "POST",
        BASE_PATH,
        b"4\r\nnull\r\n0\r\n\r\n",
        (*JSON, ("Transfer-Encoding", "chunked")),
    ),
    # Keys
    "list non-ascii partner key": Probe("GET", BASE_PATH, headers=(("x-api-key", b"\xff\xfe\xc3\x28"),), keys=False),
    "list non-ascii developer key": Probe(
        "GET",
        BASE_PATH,
        headers=(
            ("x-api-key", "demo-partner-key"),
            ("Authorization", b"\xe2\x82\xac\xff"),
        ),
        keys=False,
    ),
    "list 16 KiB developer key": Probe(
        "GET",
        BASE_PATH,
        headers=(
            ("x-api-key", "demo-partner-key"),
            ("Authorization", "k" * 16_384),
        ),
        keys=False,
    ),
    "create without keys": Probe("POST", BASE_PATH, VALID_CREATE, keys=False),
    "list without keys": Probe("GET", BASE_PATH, keys=False),
    "read without keys": Probe("GET", ITEM, keys=False),
    "update without keys": Probe("PUT", ITEM, VALID_CREATE, keys=False),
    "delete without keys": Probe("DELETE", ITEM, keys=False),
    # Query strings
    "list start abc": Probe("GET", BASE_PATH + "?start=abc"),
    "list start -1": Probe("GET", BASE_PATH + "?start=-1"),
    "list limit 0": Probe("GET", BASE_PATH + "?limit=0"),
    "list limit -0": Probe("GET", BASE_PATH + "?limit=-0"),
    "list limit 1.5": Probe("GET", BASE_PATH + "?limit=1.5"),
    "list start unicode digits": Probe("GET", BASE_PATH + "?start=%D9%A3"),
    "list start full-width digits": Probe("GET", BASE_PATH + "?start=%EF%BC%91"),
    "list start with spaces": Probe("GET", BASE_PATH + "?start=%201%20"),
    "list start with nul": Probe("GET", BASE_PATH + "?start=1%00"),
    "list type invalid utf-8": Probe("GET", BASE_PATH + "?type=%FF"),
    "list type unknown": Probe("GET", BASE_PATH + "?type=EVERYTHING"),
    # Ids and paths
    "read unknown id": Probe("GET", BASE_PATH + "/no-such-id"),
    "read id of 10000 characters": Probe("GET", BASE_PATH + "/" + "x" * 10_000),
    "read id invalid utf-8": Probe("GET", BASE_PATH + "/%C3%28"),
    "read id bad percent escape": Probe("GET", BASE_PATH + "/%zz"),
    "read id with encoded nul": Probe("GET", BASE_PATH + "/%00"),
    "read below an id": Probe("GET", ITEM + "/more"),
    "read dot dot": Probe("GET", BASE_PATH + "/.."),
    "update unknown id": _json("PUT", BASE_PATH + "/no-such-id", {"webHookUrls": [HOOK]}),
    "delete unknown id": Probe("DELETE", BASE_PATH + "/no-such-id"),
    "delete id of 10000 characters": Probe("DELETE", BASE_PATH + "/" + "x" * 10_000),
    "path in other case": Probe("GET", "/api/v1/partner/webhooks"),
    "path outside the api": Probe("GET", "/admin"),
    # Bodies of an update
    "update not json": Probe("PUT", ITEM, b"{{{"),
    "update json string": _json("PUT", ITEM, "webHookUrls"),
    "update deeply nested": Probe("PUT", ITEM, _deeply_nested(100_000)),
    "update lone surrogate type": Probe("PUT", ITEM, _create_with(b'"webHookType": "\\udc00"')),
    "update wrong types": _json("PUT", ITEM, {"webHookUrls": "x", "shopId": 1, "url": [], "webHookType": 2}),
    "update body over 1 MiB": Probe("PUT", ITEM, _create_with(b'"x": "' + b"x" * (2 << 20) + b'"')),
    # Methods the API does not have
    "unknown method on the collection": Probe("PROPFIND", BASE_PATH),
    "unknown method on an item": Probe("BREW", ITEM),
    "PATCH an item": _json("PATCH", ITEM, {"webHookUrls": [HOOK]}),
}

# Requests the contract lets a server accept or refuse: whichever it does, never a 5xx, always JSON.
EITHER_WAY: dict[str, Probe] = {
    "list limit repeated, second bad": Probe("GET", BASE_PATH + "?limit=5&limit=abc"),
    "list start empty": Probe("GET", BASE_PATH + "?start="),
    "list start with plus sign": Probe("GET", BASE_PATH + "?start=%2B1"),
    "list type empty": Probe("GET", BASE_PATH + "?type="),
    "list with trailing slash": Probe("GET", BASE_PATH + "/"),
    "create with duplicate keys": Probe("POST", BASE_PATH, b'{"webHookUrls": [], ' + VALID_CREATE[1:]),
    "create with byte order mark": Probe("POST", BASE_PATH, b"\xef\xbb\xbf" + VALID_CREATE),
    "create with latin-1 charset": Probe(
        "POST", BASE_PATH, VALID_CREATE, (("Content-Type", "application/json; charset=latin-1"),)
    ),
    "create as text/plain": Probe("POST", BASE_PATH, VALID_CREATE, (("Content-Type", "text/plain"),)),
    "read with a body": Probe("GET", ITEM, b'{"x": 1}'),
    "delete with a body": Probe("DELETE", ITEM, b'{"x": 1}'),
    "absolute-form target": Probe("GET", "http://example.com" + BASE_PATH),
    "asterisk-form target": Probe("OPTIONS", "*"),
}

# Tokens of internals an error body must never show (HTTP-04).
EXCEPTION_NAMES = [
    *(name for name, value in vars(builtins).items() if isinstance(value, type) and issubclass(value, BaseException)),
    "JSONDecodeError",
    "OperationalError",
    "IntegrityError",
    "ProgrammingError",
    "sqlite3",
]
INTERNALS = re.compile(
    r"Traceback|File \"|\.py\b|site-packages|/usr/|/home/|/work/|/tmp/|[A-Za-z]:\\"
    r"|\bSELECT\b.+\bFROM\b|\bINSERT INTO\b|\bDELETE FROM\b|\bUPDATE\s+\w+\s+SET\b|\bWHERE\b"
    r"|\b(?:" + "|".join(EXCEPTION_NAMES) + r")\b"
)
UNDEFINED_METHODS = ("PATCH", "OPTIONS", "TRACE", "HEAD", "CONNECT")


@pytest.fixture(scope="module")
def answer(module_reference_server, raw_sender):
    """``answer(probe)``: the response to a probe, sent once (the first time any test asks for it) to the
    module's server, with ``{id}`` naming a live record created for that probe alone."""
    send = raw_sender(module_reference_server.base_url)
    answers: dict[Probe, Any] = {}

    def answer_to(probe: Probe):
        if probe not in answers:
            record = send("POST", BASE_PATH, headers=dict(JSON), body=VALID_CREATE)
            target = probe.target.replace("{id}", record.json()["id"])
            answers[probe] = send(probe.method, target, headers=dict(probe.headers), body=probe.body, keys=probe.keys)
        return answers[probe]

    return answer_to


def _operation(spec, probe: Probe) -> str:
    """The spec's path template for a probe of one of the API's operations."""
    template = spec.template_of(urlsplit(probe.target).path)
    assert template is not None and probe.method in spec.methods(template), probe
    return template


def _is_operation(probe: Probe) -> bool:
    """Whether a probe calls one of the five operations (create, list, read, update, delete)."""
    path = urlsplit(probe.target).path
    if path == BASE_PATH:
        return probe.method in ("GET", "POST")
    return re.fullmatch(re.escape(BASE_PATH) + "/[^/]+", path) is not None and probe.method in ("GET", "PUT", "DELETE")


EVERY_PROBE = {**WELL_FORMED, **MALFORMED, **EITHER_WAY}
OPERATION_PROBES = {name: probe for name, probe in EVERY_PROBE.items() if _is_operation(probe)}
MALFORMED_OPERATION_PROBES = {name: probe for name, probe in MALFORMED.items() if _is_operation(probe)}


# -- HTTP-01: never a 5xx -------------------------------------------------------------------------------------


@pytest.mark.requirement("HTTP-01")
@pytest.mark.parametrize("probe", EVERY_PROBE.values(), ids=EVERY_PROBE.keys())
def test_no_request_gets_a_server_error(answer, probe):
    response = answer(probe)

    assert response.status_code < 500, response.text


@pytest.mark.requirement("HTTP-01")
@pytest.mark.parametrize("probe", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_request_gets_a_4xx(answer, probe):
    assert 400 <= answer(probe).status_code < 500


@pytest.mark.requirement("HTTP-01")
@pytest.mark.parametrize("probe", WELL_FORMED.values(), ids=WELL_FORMED.keys())
def test_well_formed_request_gets_a_2xx(answer, probe):
    response = answer(probe)

    assert 200 <= response.status_code < 300, response.text


# -- HTTP-02: JSON, and 2xx bodies match the spec ------------------------------------------------------------


@pytest.mark.requirement("HTTP-02")
@pytest.mark.parametrize("probe", EVERY_PROBE.values(), ids=EVERY_PROBE.keys())
def test_every_answer_with_a_body_is_json(answer, probe):
    response = answer(probe)

    if response.content:
        assert response.headers["Content-Type"].split(";")[0].strip() == "application/json"
        json.loads(response.content.decode("utf-8"))
    else:
        assert response.status_code in (204, 304) or probe.method == "HEAD"


@pytest.mark.requirement("HTTP-02")
@pytest.mark.parametrize("probe", WELL_FORMED.values(), ids=WELL_FORMED.keys())
def test_every_2xx_body_matches_the_schema_of_its_operation(answer, spec, probe):
    response = answer(probe)
    template = _operation(spec, probe)

    if response.content:
        assert spec.schema_errors(probe.method, template, response.status_code, response.json()) == []
    else:
        assert response.status_code == 204


@pytest.mark.requirement("HTTP-02", "HTTP-03")
@pytest.mark.parametrize("probe", MALFORMED_OPERATION_PROBES.values(), ids=MALFORMED_OPERATION_PROBES.keys())
def test_every_4xx_body_of_an_operation_matches_its_documented_schema(answer, spec, probe):
    response = answer(probe)

    assert spec.schema_errors(probe.method, _operation(spec, probe), response.status_code, response.json()) == []


# -- HTTP-03: every 4xx is an Error body -----------------------------------------------------------------------


@pytest.mark.requirement("HTTP-03")
@pytest.mark.parametrize("probe", MALFORMED.values(), ids=MALFORMED.keys())
def test_every_4xx_has_an_error_body_with_a_message(answer, probe):
    response = answer(probe)

    assert 400 <= response.status_code < 500
    body = response.json()
    assert isinstance(body, dict)
    assert isinstance(body.get("message"), str)
    assert body["message"].strip()


# -- HTTP-04: errors leak no internals -------------------------------------------------------------------------


@pytest.mark.requirement("HTTP-04")
@pytest.mark.parametrize("probe", MALFORMED.values(), ids=MALFORMED.keys())
def test_error_body_leaks_no_internals(answer, probe):
    text = answer(probe).content.decode("utf-8", errors="replace")

    assert INTERNALS.search(text) is None, text


@pytest.mark.requirement("HTTP-04")
@pytest.mark.parametrize(
    "leak",
    [
        "Traceback (most recent call last):",
        'File "/srv/app.py", line 3',
        "KeyError: 'x'",
        "sqlite3.OperationalError",
        "SELECT id FROM webhooks",
        "C:\\app\\server.py",
    ],
)
def test_internals_pattern_recognises_a_leak(leak):
    assert INTERNALS.search(f'{{"message": "{leak}"}}') is not None


# -- HTTP-05: undefined methods get 405 with Allow ------------------------------------------------------------


@pytest.mark.requirement("HTTP-05")
@pytest.mark.parametrize("method", UNDEFINED_METHODS)
@pytest.mark.parametrize("target", [BASE_PATH, ITEM], ids=["collection", "item"])
def test_undefined_method_gets_405(answer, method, target):
    assert answer(Probe(method, target)).status_code == 405


@pytest.mark.requirement("HTTP-05")
@pytest.mark.parametrize("method", UNDEFINED_METHODS)
@pytest.mark.parametrize("target", [BASE_PATH, ITEM], ids=["collection", "item"])
def test_405_allow_header_names_exactly_the_methods_of_the_path(answer, spec, method, target):
    response = answer(Probe(method, target))

    allowed = {item.strip().upper() for item in response.headers.get("Allow", "").split(",") if item.strip()}
    assert allowed == spec.methods(spec.template_of(target.replace("{id}", "x")))


@pytest.mark.requirement("HTTP-05", "HTTP-03")
@pytest.mark.parametrize("method", [m for m in UNDEFINED_METHODS if m != "HEAD"])
@pytest.mark.parametrize("target", [BASE_PATH, ITEM], ids=["collection", "item"])
def test_405_has_an_error_body(answer, method, target):
    assert isinstance(answer(Probe(method, target)).json().get("message"), str)


# -- HTTP-06: only documented statuses ---------------------------------------------------------------------------


@pytest.mark.requirement("HTTP-06")
@pytest.mark.parametrize("probe", OPERATION_PROBES.values(), ids=OPERATION_PROBES.keys())
def test_every_status_is_documented_for_its_operation(answer, spec, probe):
    response = answer(probe)

    assert spec.documents(probe.method, _operation(spec, probe), response.status_code), response.status_code
