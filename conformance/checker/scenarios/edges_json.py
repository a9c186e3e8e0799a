"""JSON edges in create and update bodies: what RFC 8259 makes a JSON text, what it leaves to the server, and
field names that only look like the contract's.

Three kinds of edge, by what the contract says of them:
- refused: not JSON (trailing data, `NaN`/`Infinity`), no `webHookUrls` (only a case variant of it), over the
  size limit (whitespace padding counts): 400 (413 for the size), and nothing stored (VALID-06, UPDATE-06);
- left to the server: a lone surrogate escape, a byte order mark, a duplicate key, a number beyond a double's
  range, deep nesting, a very long string (RFC 8259 sections 8.1, 8.2, 4, 6 and 9 let a parser accept or
  refuse these): 2xx or 400 (413 too for the long string); if accepted, the answer echoes what was sent;
- accepted: valid JSON with unknown fields, among them case variants of the contract's field names, which are
  unknown fields: ignored, never type-checked, never taken for the real field (CREATE-07, CREATE-02).
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass
from typing import Any

from conformance.checker.client import Reply, UploadRefused
from conformance.checker.scenario import Probe, scenario
from conformance.checker.scenarios.records import fresh_record
from conformance.checker.scenarios.validation import Case, run_corpus
from conformance.contract.facts import CLIENT_FIELDS, MAX_REQUEST_BODY_BYTES

JSON_TYPE = {"Content-Type": "application/json"}
DEEP = 10_000  # nesting depth of a deeply nested unknown field
LONG = 900 * 1024  # characters of a long string in an unknown field: under the 1 MiB limit


@dataclass(frozen=True)
class Edge:
    """A body the server may accept or refuse as `allowed` says; accepted, its answer must carry the client
    fields of one of `echoes` (none: the echo is not judged)."""

    what: str
    data: bytes
    allowed: frozenset[int]
    echoes: tuple[dict[str, Any], ...] = ()
    requirement_id: str = "CREATE-07"  # a wrong status is reported under this
    body_shell: str | None = None


ACCEPTED = frozenset({200, 201})
EITHER = frozenset({200, 201, 400})


@scenario("VALID-01", "VALID-04", "VALID-06", "VALID-10")
def json_that_is_not_a_valid_body_gets_400(probe: Probe) -> None:
    """Trailing data after the object, `NaN`/`Infinity` literals, only a case variant of `webHookUrls`, and
    a valid body padded with whitespace past 1 MiB: each refused, nothing stored."""
    shop = probe.shop_id()
    run_corpus(probe, shop, refused_bodies(probe, shop, "a create body"))


@scenario("CREATE-01", "CREATE-02", "CREATE-07")
def json_the_server_may_refuse_is_answered_either_way(probe: Probe) -> None:
    """Lone and paired surrogate escapes, NUL, a byte order mark, a duplicate key, `1e400`, `-0`, deep
    nesting and a very long string: 2xx or 400 where RFC 8259 leaves it open, 2xx where it does not; an
    accepted body is echoed as sent."""
    for edge in either_bodies(probe):
        reply = probe.client.call_operation(
            "createWebHook", data=edge.data, headers=JSON_TYPE, body_shell=edge.body_shell
        )
        _expect_edge(probe, edge, reply, "CREATE-02")


@scenario("CREATE-01", "CREATE-02", "CREATE-07")
def case_variant_field_names_are_unknown_fields(probe: Probe) -> None:
    """`shopid: 5` and `WEBHOOKTYPE: "x"` beside valid fields are ignored (2xx, fields as sent); `WebHookUrls`
    beside `webHookUrls` never replaces it. (`WEBHOOKURLS` alone is in the refused corpus: no `webHookUrls`.)"""
    for edge in case_variant_bodies(probe):
        reply = probe.client.call_operation("createWebHook", data=edge.data, headers=JSON_TYPE)
        _expect_edge(probe, edge, reply, "CREATE-02")


@scenario("UPDATE-01", "UPDATE-06", "VALID-10")
def update_bodies_get_the_same_json_rules(probe: Probe) -> None:
    """The refused bodies on an update (400, or 413 for the size; the record unchanged), and a case variant
    of `webHookUrls` beside the real field, which must not replace it."""
    shop = probe.shop_id()
    record = fresh_record(probe, probe.body(shopId=shop))
    for case in refused_bodies(probe, shop, "an update body"):
        requirement_id = "VALID-10" if case.requirement_id == "VALID-10" else "UPDATE-06"
        try:
            reply: Reply | None = probe.client.call_operation(
                "updateWebHook",
                record["id"],
                data=case.raw if case.raw is not None else _text(case.body).encode(),
                headers=JSON_TYPE,
                body_shell=case.body_shell,
                refusable_upload=case.oversize,
            )
        except UploadRefused as refusal:  # refused from the headers: the body was not taken, let alone processed
            probe.results.notes[probe.check].append(f"{case.what}: {refusal}")
            reply = None
        record = expect_update_refused(probe, record, reply, case.what, requirement_id, case.allowed)
    real, variant = [probe.webhook_url()], [probe.webhook_url()]
    body = {**_client_fields(record), "webHookUrls": real, "WebHookUrls": variant}
    reply = probe.client.update(record["id"], body)
    _expect_edge(
        probe,
        Edge(
            "an update body with `WebHookUrls` beside `webHookUrls`",
            b"",
            ACCEPTED,
            ({**_client_fields(record), "webHookUrls": real},),
            "UPDATE-01",
        ),
        reply,
        "UPDATE-01",
    )


# -- the corpus ---------------------------------------------------------------------------------------------


def refused_bodies(probe: Probe, shop: str, call: str) -> list[Case]:
    """Bodies the contract refuses, each with fresh webhook URLs (so a stored one is traced to its request)."""
    text = _text(probe.body(shopId=shop))
    without_urls = probe.body(shopId=shop)
    without_urls["WEBHOOKURLS"] = without_urls.pop("webHookUrls")
    padded_head = _text(probe.body(shopId=shop))
    padding = MAX_REQUEST_BODY_BYTES + 1 - len(padded_head.encode())
    cases = [
        Case("VALID-04", f"{call} followed by trailing data", raw=(text + " xyz").encode()),
        Case(
            "VALID-04", f"{call} followed by a second object", raw=(_text(probe.body(shopId=shop)) + '{"x":1}').encode()
        ),
        Case("VALID-01", f"{call} with `WEBHOOKURLS` instead of `webHookUrls`", without_urls),
        Case(
            "VALID-10",
            f"{call} padded with whitespace to {MAX_REQUEST_BODY_BYTES + 1} bytes (over 1 MiB)",
            raw=(padded_head + " " * padding).encode(),
            allowed=frozenset({413, 400}),
            oversize=True,
            body_shell=f"printf %s {shlex.quote(padded_head)}; head -c {padding} /dev/zero | tr '\\0' ' '",
        ),
    ]
    literals = ("NaN", "Infinity", "-Infinity") if probe.budget.wide_edges else ("NaN", "-Infinity")
    cases += [
        Case("VALID-04", f"{call} with the literal {literal} (not JSON)", raw=_with_unknown(probe, shop, literal))
        for literal in literals
    ]
    return cases


def either_bodies(probe: Probe) -> list[Edge]:
    """Bodies RFC 8259 lets a parser take or refuse, and valid ones that it must take."""
    shop = probe.shop_id()
    first, second = probe.body(shopId=shop), probe.body(shopId=shop)
    duplicate = _text(first)[:-1] + ', "webHookUrls": ' + json.dumps(second["webHookUrls"]) + "}"
    bom_body = probe.body(shopId=shop)
    nested = "[" * DEEP + "]" * DEEP
    edges = [
        Edge(
            "a create body with `webHookUrls` twice (a duplicate key)",
            duplicate.encode(),
            EITHER,
            (first, {**first, "webHookUrls": second["webHookUrls"]}),
        ),
        Edge(
            "a create body after a UTF-8 byte order mark",
            b"\xef\xbb\xbf" + _text(bom_body).encode(),
            EITHER,
            (bom_body,),
            body_shell=f"printf '\\357\\273\\277%s' {shlex.quote(_text(bom_body))}",
        ),
        Edge("a create body with 1e400 in an unknown field", _with_unknown(probe, shop, "1e400"), EITHER),
        Edge("a create body with -0 in an unknown field", _with_unknown(probe, shop, "-0"), ACCEPTED),
        Edge(f"a create body with an unknown field nested {DEEP} deep", _with_unknown(probe, shop, nested), EITHER),
        Edge(
            f"a create body with a {LONG}-character string in an unknown field",
            _with_unknown(probe, shop, json.dumps("x" * LONG)),
            EITHER | {413},
        ),
    ]
    if not probe.profile.shop_ids:  # shopIds of our own making only when the user named no shops
        own = probe.shop_id()
        lone = probe.body(shopId=own)
        edges += [
            Edge(
                "a create body whose shopId holds a lone surrogate escape (\\ud800)",
                _text(lone).replace(json.dumps(own), json.dumps(own)[:-1] + '\\ud800"').encode(),
                EITHER,
            ),
            Edge(
                "a create body whose shopId holds a surrogate pair escape (\\ud83d\\ude00)",
                _text(lone).replace(json.dumps(own), json.dumps(own)[:-1] + '\\ud83d\\ude00"').encode(),
                ACCEPTED,
                ({**lone, "shopId": own + "\U0001f600"},),
                "CREATE-01",
            ),
            Edge(
                "a create body whose shopId holds a NUL (\\u0000)",
                _text({**lone, "shopId": own + "\u0000x"}).encode(),
                EITHER,
                ({**lone, "shopId": own + "\u0000x"},),
            ),
        ]
    return edges


def case_variant_bodies(probe: Probe) -> list[Edge]:
    """Case variants of the contract's field names, which are unknown fields."""
    shop = probe.shop_id()
    ignored = probe.body(shopId=shop)
    beside = probe.body(shopId=shop)
    return [
        Edge(
            'a create body with `shopid: 5`, `WEBHOOKTYPE: "x"` and `URL: 5` beside valid fields',
            _text({**ignored, "shopid": 5, "WEBHOOKTYPE": "x", "URL": 5}).encode(),
            ACCEPTED,
            (ignored,),
        ),
        Edge(
            "a create body with `WebHookUrls` after `webHookUrls`",
            _text({**beside, "WebHookUrls": [probe.webhook_url()]}).encode(),
            ACCEPTED,
            (beside,),
            "CREATE-01",
        ),
    ]


# -- judging ------------------------------------------------------------------------------------------------


def _expect_edge(probe: Probe, edge: Edge, reply: Reply, echo_requirement: str) -> None:
    """The status is one `edge` allows; an accepted body's answer carries the client fields sent."""
    if not probe.expect_status(edge.requirement_id, reply, set(edge.allowed), edge.what):
        return
    answer = reply.json_or_none()
    if reply.status >= 300 or not edge.echoes or not isinstance(answer, dict):
        return  # a 2xx answer that is not a record is HTTP-02's to report
    got = _client_fields(answer)
    wanted = [_client_fields(echo) for echo in edge.echoes]
    probe.expect(
        echo_requirement,
        got in wanted,
        f"the client fields as sent, {' or '.join(map(_short, wanted))}, for {edge.what}",
        lambda: _short(got),
        reply,
    )


def expect_update_refused(
    probe: Probe,
    record: dict[str, Any],
    reply: Reply | None,
    what: str,
    requirement_id: str,
    allowed: frozenset[int],
) -> dict[str, Any]:
    """A refused update: a status in `allowed` (or, for an oversize body, no answer at all: `reply` None) and
    the record as it was. Returns the record to go on with."""
    evidence = [reply] if reply is not None else []
    if reply is not None:
        probe.expect_status(requirement_id, reply, set(allowed), what)
    now = probe.read(record["id"])
    probe.expect(
        requirement_id,
        now == record,
        f"the record unchanged by {what}",
        lambda: "the record is gone" if now is None else f"the record is now {_short(now)}",
        *evidence,
    )
    return now or fresh_record(probe, probe.body(shopId=record.get("shopId") or probe.shop_id()))


def _client_fields(record: dict[str, Any]) -> dict[str, Any]:
    return {name: record.get(name) for name in CLIENT_FIELDS}


def _with_unknown(probe: Probe, shop: str, value_text: str) -> bytes:
    """A valid create body with one more, unknown, field whose JSON text is `value_text` (as is)."""
    return (_text(probe.body(shopId=shop))[:-1] + f', "wcEdge": {value_text}}}').encode()


def _text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _short(value: Any) -> str:
    return _text(value)[:300]
