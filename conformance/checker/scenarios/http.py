"""HTTP behaviour: undefined methods get 405 with `Allow` (HTTP-05), and a corpus of malformed requests
that must get a 4xx, never a 5xx (HTTP-01).

The corpus goes through the client like every other request, so the response observer also judges each
answer for HTTP-02 (JSON), HTTP-03 (Error body), HTTP-04 (no leaks) and HTTP-06 (documented status);
requests aimed at an operation name it, so that a create the target accepts anyway is recorded in the
ledger and deleted at the end. Only HTTP-01 is expected here: which 4xx a malformed body deserves is for
the validation checks to say.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from conformance.checker.client import Reply
from conformance.checker.scenario import Probe, scenario
from conformance.contract.facts import COLLECTION_PATH, ITEM_PATH, MAX_REQUEST_BODY_BYTES, PATH_METHODS, item_path

# Methods no path defines: three real ones and one made up. HEAD is left out: its answer has no body, so it
# could not carry the Error body that every 4xx needs (HTTP-03).
UNDEFINED_METHODS = ("PATCH", "OPTIONS", "TRACE", "FOO")
DEEP = 10_000  # nesting depth of the deep JSON bodies
OVER_LIMIT = MAX_REQUEST_BODY_BYTES + 1  # bytes: a body over VALID-10's 1 MiB
JSON = "application/json"
FORM = "application/x-www-form-urlencoded"


@dataclass(frozen=True)
class Malformed:
    """One odd request: what it is, and how to send it."""

    what: str
    method: str
    path: str
    operation: str | None
    data: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body_shell: str | None = None  # prints the body, for a reproduction of a body curl cannot quote


@scenario("HTTP-05")
def undefined_methods_get_405(probe: Probe) -> None:
    """PATCH, OPTIONS, TRACE and a made-up method on both paths: 405 naming the path's methods in `Allow`."""
    record = probe.create()
    paths = {COLLECTION_PATH: COLLECTION_PATH, ITEM_PATH: item_path(record["id"])}
    for template, path in paths.items():
        for method in UNDEFINED_METHODS:
            reply = probe.client.call(method, path)
            if probe.expect_status("HTTP-05", reply, 405, f"{method} {template}, a method the path does not define"):
                expect_allow(probe, reply, method, template)


@scenario("HTTP-01", "HTTP-02", "HTTP-03", "HTTP-04", "HTTP-06")
def malformed_requests_never_get_5xx(probe: Probe) -> None:
    """Broken bodies, odd content types, odd ids and odd query strings: each gets an answer below 500."""
    record = probe.create()
    corpus = _corpus(probe, record)
    # None of them needs another's answer: they go side by side, and are judged in this order.
    replies = probe.side_by_side([partial(_send, probe, item) for item in corpus])
    for request, reply in zip(corpus, replies, strict=True):
        if isinstance(reply, Exception):
            raise reply
        probe.expect(
            "HTTP-01",
            reply.status < 500,
            f"no 5xx for {request.what}",
            lambda reply=reply: f"status {reply.status}",
            reply,
        )
    # A plain delete of our own record last: its answer is judged like any other (DELETE-01 allows a body).
    probe.client.delete(record["id"])


def _send(probe: Probe, request: Malformed) -> Reply:
    return probe.client.call(
        request.method,
        request.path,
        data=request.data,
        headers=request.headers,
        operation=request.operation,
        body_shell=request.body_shell,
    )


def expect_allow(probe: Probe, reply: Reply, method: str, template: str) -> None:
    """The `Allow` header of a 405 names every method the path has, and not the one it refused.

    Other methods the target really serves (HEAD, say) may be named too: that is not an error."""
    header = reply.headers.get("Allow")
    named = {item.strip().upper() for item in (header or "").split(",") if item.strip()}
    needed = PATH_METHODS[template]
    probe.expect(
        "HTTP-05",
        header is not None and needed <= named and method not in named,
        f"an Allow header naming {', '.join(sorted(needed))} (and not {method}) for {method} {template}",
        "no Allow header" if header is None else f"Allow: {header}",
        reply,
    )


def _corpus(probe: Probe, record: dict[str, Any]) -> list[Malformed]:
    """Every odd request of the corpus, against the collection and one of our own records."""
    item = item_path(record["id"])
    requests = [
        *_bad_bodies(probe, "a create", "POST", COLLECTION_PATH, "createWebHook"),
        *_bad_bodies(probe, "an update", "PUT", item, "updateWebHook"),
        *_odd_queries(probe),
        *_odd_ids(probe),
        Malformed(
            "a GET of the list with a JSON body",
            "GET",
            f"{COLLECTION_PATH}?shopId={probe.shop_id()}",
            "listWebHooks",
            b'{"start": 0}',
            {"Content-Type": JSON},
        ),
        Malformed("a GET of a record with a JSON body", "GET", item, "getWebHook", b"{}", {"Content-Type": JSON}),
        Malformed(
            "a create with a body over 1 MiB (the answer, a 413 too, is judged like any other)",
            "POST",
            COLLECTION_PATH,
            "createWebHook",
            b'{"webHookUrls": ["' + b"x" * OVER_LIMIT + b'"]}',
            {"Content-Type": JSON},
            f"""printf '{{"webHookUrls": ["'; head -c {OVER_LIMIT} /dev/zero | tr '\\0' x; printf '"]}}'""",
        ),
    ]
    if not probe.profile.shop_ids:  # a shopId of our own making only when the user named no shops
        body = probe.body(shopId=f"{probe.shop_id()}-ünï-€-😀")
        requests.append(
            Malformed(
                "a valid create with a non-ASCII shopId",
                "POST",
                COLLECTION_PATH,
                "createWebHook",
                _json(body),
                {"Content-Type": JSON},
            )
        )
    return requests


def _bad_bodies(probe: Probe, call: str, method: str, path: str, operation: str) -> list[Malformed]:
    """Bodies that are not a valid JSON object, or are one with something odd in it; `call` names the
    operation for the finding ("a create")."""
    valid = probe.body()
    url = valid["webHookUrls"][0]
    nested = b"[" * DEEP + b"]" * DEEP
    deep_shell = f"python3 -c \"import sys; sys.stdout.write('[' * {DEEP} + ']' * {DEEP})\""
    deep_inside = _json(valid)[:-1] + b', "wcDeep": ' + nested + b"}"
    not_utf8 = b'{"webHookUrls": ["' + url.encode() + b'/\xff\xfe"]}'
    latin1 = json.dumps({**valid, "wcNote": "café"}, ensure_ascii=False).encode("latin-1")
    duplicate_key = _json(valid)[:-1] + b', "webHookUrls": ["' + probe.webhook_url().encode() + b'"]}'
    huge_number = _json(valid)[:-1] + b', "wcNumber": 1' + b"0" * 5000 + b"}"
    bom = b"\xef\xbb\xbf" + _json(valid)

    def bad(what: str, data: bytes, content_type: str | None = JSON, shell: str | None = None) -> Malformed:
        headers = {"Content-Type": content_type} if content_type else {}
        return Malformed(f"{call} with {what}", method, path, operation, data, headers, shell)

    return [
        bad("an empty body", b""),
        bad("no body and no Content-Type", b"", None),
        bad("truncated JSON", _json(valid)[:-7]),
        bad("a JSON array", b"[]"),
        bad("a JSON string", b'"webHookUrls"'),
        bad("JSON null", b"null"),
        bad("a JSON number", b"42"),
        bad("a body that is not UTF-8", not_utf8, shell=_printf(not_utf8)),
        bad("a byte order mark before the JSON", bom, shell=_printf(bom)),
        bad(f"JSON nested {DEEP} deep", nested, shell=deep_shell),
        bad(f"a field nested {DEEP} deep", deep_inside),
        bad("a duplicate key", duplicate_key),
        bad("a 5000-digit number in an unknown field", huge_number),
        bad("a NUL character in a URL", _json({**valid, "webHookUrls": [url + "\u0000x"]})),
        bad("a lone surrogate in a URL", _json(valid).replace(b'"]', b'\\ud800"]', 1)),
        bad("NaN for a field", _json(valid)[:-1] + b', "wcNumber": NaN}'),
        bad("Content-Type text/plain", _json(valid), "text/plain"),
        bad("Content-Type application/x-www-form-urlencoded", b"webHookUrls=" + url.encode(), FORM),
        bad("charset latin-1 and a latin-1 body", latin1, "application/json; charset=latin-1", _printf(latin1)),
    ]


def _odd_queries(probe: Probe) -> list[Malformed]:
    """Query strings a parser may choke on: control bytes, invalid UTF-8, bad escapes, huge values."""
    shop = probe.shop_id()
    queries = {
        "a NUL byte for start": "start=%00",
        "invalid UTF-8 for shopId": "shopId=%FF",
        "a euro sign for limit": f"shopId={shop}&limit=%E2%82%AC",
        "a limit that is not an integer": f"shopId={shop}&limit=1.5",
        "a start beyond 64 bits": f"shopId={shop}&start=99999999999999999999999",
        "a limit beyond 64 bits": f"shopId={shop}&limit=99999999999999999999999",
        "start given twice": f"shopId={shop}&start=0&start=abc",
        "a parameter without a value": f"shopId={shop}&limit",
        "a NUL byte for type": f"shopId={shop}&type=%00",
        "a 4000-character shopId": "shopId=" + "s" * 4000,
    }
    return [
        Malformed(f"a list with {what}", "GET", f"{COLLECTION_PATH}?{query}", "listWebHooks")
        for what, query in queries.items()
    ]


def _odd_ids(probe: Probe) -> list[Malformed]:
    """Ids that do not exist and that a store may choke on: long ones, NUL, invalid UTF-8 escapes."""
    body = _json(probe.body())
    ids = {
        "a 300-character id": item_path("w" * 300),
        "a 5000-character id": item_path("w" * 5000),
        # this check's own (on a target that stores a PUT of a missing id, another check's GET would find it)
        "an id with a NUL byte": f"{COLLECTION_PATH}/wc-{probe.state.run_tag}-malformed%00id",
        "an id of invalid UTF-8": f"{COLLECTION_PATH}/%FF%FE",
    }
    requests = []
    for what, path in ids.items():
        requests += [
            Malformed(f"a GET of {what}", "GET", path, "getWebHook"),
            Malformed(f"a PUT of {what}", "PUT", path, "updateWebHook", body, {"Content-Type": JSON}),
            Malformed(f"a DELETE of {what}", "DELETE", path, "deleteWebHook"),
        ]
    return requests


def _json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode("utf-8")


def _printf(data: bytes) -> str:
    """A shell command printing these exact bytes, for a reproduction: a curl argument cannot carry bytes
    that are not UTF-8. Plain ASCII stays readable; every other byte is an octal escape."""
    return "printf '" + "".join(_printf_char(byte) for byte in data) + "'"


def _printf_char(byte: int) -> str:
    return chr(byte) if 0x20 <= byte < 0x7F and chr(byte) not in "'\\%" else f"\\{byte:03o}"
