"""Integer and query-string edges of the list (LIST-01, LIST-04, LIST-05, LIST-06, LIST-08).

LIST-06 says what a decimal integer is: ASCII digits, optionally a leading `-` (which `start` and `limit` then
refuse). `1.0`, `1e1`, `0x10`, `0b1`, `0o7`, `1_0`, digits of other scripts, blanks around the digits, an
empty or bare parameter: 400. A leading `+`, leading zeros and values beyond 64 bits may go either way; an
integer within 64 bits must be taken exactly (a `start` past 2^53 echoed exactly in `skip`). Query strings
that are not valid (`%zz`) belong to the HTTP layer: any 4xx, never a silently dropped parameter.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from conformance.checker.client import Reply, page_values
from conformance.checker.raw_request import RawRequest
from conformance.checker.scenario import Probe, scenario
from conformance.checker.scenarios.edges_http import send_outside_the_api
from conformance.contract.facts import COLLECTION_PATH, INT64_MAX, MAX_LIST_LIMIT

# Not decimal integers (LIST-06): each gets 400 for start and for limit.
NOT_INTEGERS = {
    "1.0": "a decimal point",
    "1e1": "an exponent",
    "0x10": "a hexadecimal literal",
    "0b1": "a binary literal",
    "0o7": "an octal literal",
    "1_0": "a digit separator",
    "%EF%BC%91": "a full-width digit one",
    "%D9%A3": "an Arabic-Indic digit three",
    "%E0%A5%A9": "a Devanagari digit three",
    "%201%20": "blanks around the digits",
    "": "an empty value",
    "1;2": "a semicolon",
}
WITHIN_64_BITS = (2**53 + 1, INT64_MAX)  # must be taken exactly
# (value, what): either accepted or 400; accepted, `start` is past the end and `limit` clamps.
EITHER_WAY = {
    "%2B1": "a leading plus",
    "01": "a leading zero",
    "99999999999999999999999": "a value beyond 64 bits",
    "9" * 5000: "a 5000-digit value",
}


@dataclass(frozen=True)
class Query:
    """A list query string sent as written, and what it is."""

    text: str
    what: str


@scenario("LIST-06", "LIST-01", "LIST-08", writes=False)
def paging_integers_are_decimal_integers(probe: Probe) -> None:
    """`start`/`limit` that are not decimal integers get 400; those within 64 bits are taken exactly; the
    ones LIST-06 leaves open get 200 (past the end, clamped) or 400."""
    shop = quote(probe.shop_id(), safe="")  # it goes into a query string sent as written
    for name in ("start", "limit"):
        for value, what in NOT_INTEGERS.items():
            reply = _list(probe, Query(f"shopId={shop}&{name}={value}", f"{name} with {what} ({name}={value})"))
            probe.expect_status("LIST-06", reply, 400, f"a list with {name} with {what} ({name}={value})")
        bare = _list(probe, Query(f"shopId={shop}&{name}", f"a bare {name} (no `=`)"))
        probe.expect_status("LIST-06", bare, 400, f"a list with a bare `{name}` (no value)")
        for value, what in EITHER_WAY.items():
            query = Query(f"shopId={shop}&{name}={value}", f"{name} with {what}")
            _expect_either_way(probe, _list(probe, query), name, query.what)
    for start in WITHIN_64_BITS:
        reply = _list(probe, Query(f"shopId={shop}&start={start}&limit=3", f"start={start}"))
        _expect_exact_start(probe, reply, start)
    limit = WITHIN_64_BITS[-1]
    reply = _list(probe, Query(f"shopId={shop}&limit={limit}", f"limit={limit}"))
    _expect_clamped(probe, reply, limit)


@scenario("LIST-06", "LIST-01", writes=False)
def odd_query_strings_are_not_dropped(probe: Probe) -> None:
    """`start=%zz` (an invalid escape) gets a 4xx, not the default; a repeated `start` is refused or one of its
    values is used; `start[]` and `start[toString]` are unknown parameters, or refused."""
    shop = quote(probe.shop_id(), safe="")  # it goes into a query string sent as written
    query = f"{COLLECTION_PATH}?shopId={shop}&start=%zz"
    invalid = send_outside_the_api(probe, RawRequest("GET", query), "listWebHooks")
    if invalid is not None:
        probe.expect(
            "LIST-06",
            400 <= invalid.status < 500,
            "a 4xx for start=%zz, an invalid percent-escape",
            f"status {invalid.status}",
            invalid,
        )
    repeated = _list(probe, Query(f"shopId={shop}&start=0&start=1", "start given twice (0 and 1)"))
    skip = _body(repeated).get("skip")
    probe.expect(
        "LIST-01",
        repeated.status == 400 or (repeated.status == 200 and skip in (0, 1)),
        "400, or 200 with skip 0 or 1, for start given twice",
        f"status {repeated.status}, skip {skip!r}",
        repeated,
    )
    for name in ("start%5B%5D", "start%5BtoString%5D", "limit%5BtoString%5D"):
        reply = _list(probe, Query(f"shopId={shop}&{name}=1", f"a parameter {name}"))
        probe.expect_status("LIST-06", reply, {200, 400}, f"a list with an unknown parameter {name}=1")


@scenario("LIST-04")
def empty_shop_id_matches_only_the_empty_shop_id(probe: Probe) -> None:
    """`shopId=` is a filter for the empty shopId (exact match), not the absence of a filter: a record of
    another shop must not be listed."""
    record = probe.create()  # a record whose shopId is not empty, which the filter must leave out
    reply = _list(probe, Query(f"shopId=&limit={MAX_LIST_LIMIT}", "shopId= (the empty shopId)"))
    probe.client.delete(record["id"])  # not left for the final cleanup: it has enough to do on a flaky target
    if not probe.expect_status("LIST-04", reply, 200, "a list with shopId= (the empty shopId)"):
        return
    values = page_values(reply) or []
    strays = [value.get("shopId") for value in values if value.get("shopId") != ""]
    probe.expect(
        "LIST-04",
        not strays,
        "only records whose shopId is the empty string for shopId=",
        f"{len(strays)} records of other shops, e.g. shopId {strays[:3]}",
        reply,
    )


def _list(probe: Probe, query: Query) -> Reply:
    """The list with this query string, exactly as written (a library would re-encode it)."""
    return probe.client.call_raw(RawRequest("GET", f"{COLLECTION_PATH}?{query.text}"), operation="listWebHooks")


def _expect_either_way(probe: Probe, reply: Reply, name: str, what: str) -> None:
    body = _body(reply)
    # Taken, `+1` and `01` are the limit 1, and a limit beyond 64 bits clamps to 100 (LIST-08).
    taken_limit_ok = reply.status != 200 or name != "limit" or body.get("limit") in (1, MAX_LIST_LIMIT)
    ok = reply.status in (200, 400) and taken_limit_ok
    probe.expect(
        "LIST-06",
        ok,
        f"200 or 400 for {what} (LIST-08 for a limit taken)",
        f"status {reply.status}, limit {body.get('limit')!r}",
        reply,
    )


def _expect_exact_start(probe: Probe, reply: Reply, start: int) -> None:
    body = _body(reply)
    probe.expect(
        "LIST-01",
        reply.status == 200 and body.get("skip") == start and body.get("values") == [],
        f"200, skip {start} exactly and no values (past the end) for start={start}",
        f"status {reply.status}, skip {body.get('skip')!r}, {len(body.get('values') or [])} values",
        reply,
    )


def _expect_clamped(probe: Probe, reply: Reply, limit: int) -> None:
    body = _body(reply)
    probe.expect(
        "LIST-08",
        reply.status == 200 and body.get("limit") == MAX_LIST_LIMIT,
        f"200 with limit {MAX_LIST_LIMIT} for limit={limit}",
        f"status {reply.status}, limit {body.get('limit')!r}",
        reply,
    )


def _body(reply: Reply) -> dict[str, Any]:
    body = reply.json_or_none()
    return body if isinstance(body, dict) else {}
