"""Validation: the corpus of bad create requests (VALID-01 to VALID-05, VALID-07 to VALID-10), and that none
of them leaves a record behind (VALID-06).

Each scenario sends its cases into a shop of its own and lists that shop before and after: a record that
appears there and is not the answer of an accepted (2xx) request was stored by a request the server
rejected. Such a record is mapped back to its request by the fresh webhook URLs every case carries, and is
deleted at once (the ledger only sees records that a 2xx answer names).
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass
from typing import Any

from conformance.checker.client import Reply, UploadRefused, page_values
from conformance.checker.scenario import Probe, scenario
from conformance.contract import json_text
from conformance.contract.facts import (
    CLOUD_METADATA_ADDRESS,
    MAX_REQUEST_BODY_BYTES,
    MAX_URL_LENGTH,
    MAX_URLS,
    WEBHOOK_HOST,
    internal_hosts,
    webhook_types,
)


@dataclass(frozen=True)
class Case:
    """One bad create request: the requirement it tests, what is wrong with it, and what it sends.

    `raw`, when given, is sent as is (with `content_type`) instead of `body` serialised as JSON;
    `body_shell` is a shell command printing the same bytes, for a reproduction that cannot quote them.
    """

    requirement_id: str
    what: str
    body: Any = None
    raw: bytes | None = None
    content_type: str = "application/json"
    allowed: frozenset[int] = frozenset({400})
    oversize: bool = False  # over the size limit: closing the connection during the upload is a refusal too
    body_shell: str | None = None


# -- scenarios ----------------------------------------------------------------------------------------------


@scenario("VALID-01", "VALID-06")
def missing_or_empty_urls_get_400(probe: Probe) -> None:
    """`webHookUrls` left out, null, or empty."""
    shop = probe.shop_id()
    without = probe.body(shopId=shop)
    del without["webHookUrls"]
    run_corpus(
        probe,
        shop,
        [
            Case("VALID-01", "a create body without `webHookUrls`", without),
            Case("VALID-01", "a create body with `webHookUrls` null", probe.body(shopId=shop, webHookUrls=None)),
            Case("VALID-01", "a create body with `webHookUrls` []", probe.body(shopId=shop, webHookUrls=[])),
        ],
    )


@scenario("VALID-02", "VALID-06")
def non_http_urls_get_400(probe: Probe) -> None:
    """Webhook URLs that are not absolute http(s) URLs, in `webHookUrls` and in `url`."""
    shop = probe.shop_id()
    segment = probe.state.mark.segment  # marks even the URLs that are not http(s)
    not_absolute = [
        f"/{segment}/relative",
        f"{WEBHOOK_HOST}/{segment}/no-scheme",
        "javascript:alert(1)",
        f"file:///{segment}/etc/passwd",
        f"ftp://{WEBHOOK_HOST}/{segment}/ftp",
    ]
    cases = [
        Case("VALID-02", f"a create body with `webHookUrls` {_json([bad])}", probe.body(shopId=shop, webHookUrls=[bad]))
        for bad in [*not_absolute, 42, None]
    ]
    mixed = [probe.webhook_url(), "javascript:alert(1)"]
    cases.append(
        Case(
            "VALID-02",
            f"a create body whose second webhook URL is bad: {_json(mixed)}",
            probe.body(shopId=shop, webHookUrls=mixed),
        )
    )
    cases += [
        Case("VALID-02", f"a create body with `url` {_json(bad)}", probe.body(shopId=shop, url=bad))
        for bad in not_absolute
    ]
    run_corpus(probe, shop, cases)


@scenario("VALID-03", "VALID-06")
def unknown_webhook_types_get_400(probe: Probe) -> None:
    """`webHookType` values outside the 11: lower case, a near miss, a foreign event name, the empty string."""
    shop = probe.shop_id()
    known = webhook_types(probe.state.spec)
    candidates = ["new_member", f"{known[-1]}S", "ORDER_CREATED", ""]
    run_corpus(
        probe,
        shop,
        [
            Case("VALID-03", f"a create body with `webHookType` {_json(bad)}", probe.body(shopId=shop, webHookType=bad))
            for bad in candidates
        ],
    )


@scenario("VALID-04", "VALID-06")
def non_object_bodies_get_400(probe: Probe) -> None:
    """Bodies that are not JSON, not UTF-8, or JSON but not an object; and a body of another media type."""
    shop = probe.shop_id()
    url = probe.webhook_url()
    head, tail = f'{{"shopId": "{shop}", "webHookUrls": ["{url}/', '"]}'  # around one byte 0xFF
    printf_format = head + "\\377" + tail  # printf writes the octal escape \377 as the byte 0xFF
    cases = [
        Case("VALID-04", "a body that is cut-off JSON", raw=b'{"webHookUrls": ["' + url.encode() + b'"'),
        Case("VALID-04", "a form-encoded body sent as application/json", raw=f"webHookUrls={url}".encode()),
        Case("VALID-04", "an empty body sent as application/json", raw=b""),
        Case(
            "VALID-04",
            "a JSON body that is not UTF-8",
            raw=head.encode() + b"\xff" + tail.encode(),
            body_shell=f"printf {shlex.quote(printf_format)}",
        ),
        Case("VALID-04", "a JSON array holding a valid body", [probe.body(shopId=shop)]),
        Case("VALID-04", "a JSON string body", probe.webhook_url()),
        Case("VALID-04", "a JSON number body", 42),
        Case("VALID-04", "a JSON null body", None),
        Case(
            "VALID-04",
            "a text/plain body that is not JSON",
            raw=b"not json",
            content_type="text/plain",
            allowed=frozenset({400, 415}),
        ),
    ]
    run_corpus(probe, shop, cases)


@scenario("VALID-05", "VALID-06")
def wrong_field_types_get_400(probe: Probe) -> None:
    """Each client field with a value of the wrong JSON type."""
    shop = probe.shop_id()
    wrong = [
        ("shopId", 12345),
        ("webHookUrls", probe.webhook_url()),
        ("webHookUrls", {"0": probe.webhook_url()}),
        ("webHookType", 3),
        ("webHookType", [webhook_types(probe.state.spec)[0]]),
        ("url", {"href": probe.webhook_url()}),
    ]
    run_corpus(
        probe,
        shop,
        [
            Case("VALID-05", f"a create body with `{name}` {_json(value)}", probe.body(**{"shopId": shop, name: value}))
            for name, value in wrong
        ],
    )


@scenario("VALID-07", "VALID-06")
def url_limits_get_400(probe: Probe) -> None:
    """One webhook URL too many, a URL one character too long (in `webHookUrls` and `url`), a repeated URL."""
    shop = probe.shop_id()
    repeated = probe.webhook_url()
    cases = [
        Case(
            "VALID-07",
            f"a create body with {MAX_URLS + 1} webhook URLs",
            probe.body(shopId=shop, webHookUrls=[probe.webhook_url() for _ in range(MAX_URLS + 1)]),
        ),
        Case(
            "VALID-07",
            f"a create body with a webhook URL of {MAX_URL_LENGTH + 1} characters",
            probe.body(shopId=shop, webHookUrls=[_too_long(probe)]),
        ),
        Case(
            "VALID-07",
            f"a create body with a `url` of {MAX_URL_LENGTH + 1} characters",
            probe.body(shopId=shop, url=_too_long(probe)),
        ),
        Case(
            "VALID-07",
            "a create body with the same webhook URL twice",
            probe.body(shopId=shop, webHookUrls=[repeated, repeated]),
        ),
    ]
    run_corpus(probe, shop, cases)


@scenario("VALID-08", "VALID-06")
def internal_hosts_get_400(probe: Probe) -> None:
    """Webhook URLs on loopback, private, link-local and cloud metadata hosts (the SSRF guard)."""
    shop = probe.shop_id()
    segment = probe.state.mark.segment
    cases = [
        Case(
            "VALID-08",
            f"a create body with the internal webhook URL {url}",
            probe.body(shopId=shop, webHookUrls=[url]),
        )
        for url in (f"https://{host}/{segment}/internal" for host in internal_hosts())
    ]
    metadata = f"https://{CLOUD_METADATA_ADDRESS}/latest/meta-data/{segment}"
    cases.append(
        Case("VALID-08", f"a create body with the internal url {metadata}", probe.body(shopId=shop, url=metadata))
    )
    run_corpus(probe, shop, cases)


@scenario("VALID-09", "VALID-06")
def plain_http_gets_400(probe: Probe) -> None:
    """A plain `http` webhook URL, in `webHookUrls` and in `url`."""
    shop = probe.shop_id()
    cases = [
        Case(
            "VALID-09",
            "a create body with a plain http webhook URL",
            probe.body(shopId=shop, webHookUrls=[_plain_http(probe)]),
        ),
        Case("VALID-09", "a create body with a plain http `url`", probe.body(shopId=shop, url=_plain_http(probe))),
    ]
    run_corpus(probe, shop, cases)


@scenario("VALID-10", "VALID-06")
def oversize_body_gets_413(probe: Probe) -> None:
    """A valid body padded past 1 MiB with an unknown field: refused (413, or 400) and not processed."""
    shop = probe.shop_id()
    head = json.dumps(probe.body(shopId=shop, wcPadding=""), ensure_ascii=False)[:-2]  # up to the padding
    tail = '"}'
    size = MAX_REQUEST_BODY_BYTES + 1
    shell = f"printf %s {shlex.quote(head)}; head -c {size} /dev/zero | tr '\\0' x; printf %s {shlex.quote(tail)}"
    case = Case(
        "VALID-10",
        f"a valid create body padded to {len(head) + size + len(tail)} bytes (over 1 MiB)",
        raw=(head + "x" * size + tail).encode("utf-8"),
        allowed=frozenset({413, 400}),
        body_shell=shell,
        oversize=True,
    )
    run_corpus(probe, shop, [case])


# -- sending a corpus and looking for what it left behind ---------------------------------------------------


def run_corpus(probe: Probe, shop_id: str, cases: list[Case]) -> None:
    """Send every case, expect each to be refused as it says, and expect the shop to hold no new record
    that an accepted request does not account for (VALID-06)."""
    before, _ = _records_in_shop(probe, shop_id)
    sent = []
    for case in cases:
        try:
            reply = _send(probe, case)
        except UploadRefused as refusal:  # refused from the headers: the body was not taken, let alone processed
            probe.expect(case.requirement_id, True, "", "")
            probe.results.notes[probe.check].append(f"{case.what}: {refusal}")
            continue
        probe.expect_status(case.requirement_id, reply, set(case.allowed), case.what)
        sent.append((case, reply))
    after, listing = _records_in_shop(probe, shop_id)
    if before is None or after is None or listing is None:
        return  # the list does not work; the list scenarios say so, and VALID-06 stays unexercised here
    _expect_nothing_left_behind(probe, before, after, listing, sent)


def _send(probe: Probe, case: Case) -> Reply:
    if case.raw is not None:
        return probe.client.call_operation(
            "createWebHook",
            data=case.raw,
            headers={"Content-Type": case.content_type},
            body_shell=case.body_shell,
            refusable_upload=case.oversize,
        )
    return probe.client.create(case.body, body_shell=case.body_shell)


def _records_in_shop(probe: Probe, shop_id: str) -> tuple[dict[str, dict[str, Any]] | None, Reply | None]:
    """The records listed for this shop, by id, and the last list reply; (None, reply) if a page failed."""
    records: dict[str, dict[str, Any]] = {}
    replies = probe.list_all({"shopId": shop_id})
    for reply in replies:
        values = page_values(reply)
        if values is None:
            return None, reply
        for item in values:
            # Filtered here too: a target's shopId filter may be broken, which is not what this checks.
            if item.get("shopId") == shop_id and isinstance(item.get("id"), str):
                records[item["id"]] = item
    return records, replies[-1] if replies else None


def _expect_nothing_left_behind(
    probe: Probe,
    before: dict[str, dict[str, Any]],
    after: dict[str, dict[str, Any]],
    listing: Reply,
    sent: list[tuple[Case, Reply]],
) -> None:
    """VALID-06: a new record in the shop must be the answer of an accepted request. Any other record of
    this run is a rejected request's, a finding under VALID-06 and the case's own requirement (the value
    was not really refused); it is deleted at once."""
    accepted = {_answered_id(reply) for _, reply in sent if 200 <= reply.status < 300} - {None}
    tag = probe.state.run_tag
    left = [
        record
        for webhook_id, record in after.items()
        if webhook_id not in before and webhook_id not in accepted and tag in json.dumps(record)
    ]
    for record in left:
        source = _source_of(record, sent)
        if source is not None and 200 <= source[1].status < 300:
            probe.client.delete(record["id"])  # accepted, but its answer named no id the ledger could keep
            continue
        deleted = probe.client.delete(record["id"])
        what = f"record {record['id']!r} ({_describe(record)}) appeared in the shop"
        replies = ([source[1]] if source else []) + [listing, deleted]
        if source is not None:
            case, reply = source
            probe.expect(
                case.requirement_id,
                False,
                f"nothing stored for {case.what}",
                f"answered {reply.status} but {what}",
                *replies,
            )
        probe.expect(
            "VALID-06",
            False,
            "no record created by a rejected create",
            f"{what} after {source[0].what} got {source[1].status}" if source else f"{what} during the corpus",
            *replies,
        )
    if not left:
        probe.expect("VALID-06", True, "no record created by a rejected create", "")


def _source_of(record: dict[str, Any], sent: list[tuple[Case, Reply]]) -> tuple[Case, Reply] | None:
    """The request whose body carried one of this record's (fresh, run-unique) webhook URLs."""
    urls = record.get("webHookUrls")
    found = set(urls if isinstance(urls, list) else []) | {record.get("url")}
    for case, reply in sent:
        if _strings_in(_sent_json(case)) & found:
            return case, reply
    return None


def _sent_json(case: Case) -> Any:
    """The JSON value a case sent (None for raw bytes that are not JSON)."""
    if case.raw is None:
        return case.body
    try:
        return json_text.loads(case.raw)
    except ValueError:
        return None


def _strings_in(value: Any) -> set[str]:
    """Every string in a JSON value, at any depth."""
    if isinstance(value, str):
        return {value}
    if isinstance(value, dict):
        return set().union(*map(_strings_in, value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*map(_strings_in, value)) if value else set()
    return set()


def _answered_id(reply: Reply) -> str | None:
    body = reply.json_or_none()
    return body.get("id") if isinstance(body, dict) and isinstance(body.get("id"), str) else None


def _describe(record: dict[str, Any]) -> str:
    return f"webHookType {_json(record.get('webHookType'))}, webHookUrls {_json(record.get('webHookUrls'))[:160]}"


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


# -- test data ----------------------------------------------------------------------------------------------


def _too_long(probe: Probe) -> str:
    prefix = probe.webhook_url() + "/"
    return prefix + "a" * (MAX_URL_LENGTH + 1 - len(prefix))


def _plain_http(probe: Probe) -> str:
    return "http://" + probe.webhook_url().removeprefix("https://")
