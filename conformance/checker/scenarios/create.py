"""Create: a valid body gets the stored record back (CREATE-01) echoing every client field (CREATE-02), under a
new id that no body `id` can steer (CREATE-03), in the key's company (CREATE-04), with millisecond timestamps
from now (CREATE-05), `updated` false (CREATE-06); and unknown body fields are tolerated (CREATE-07).
"""

from __future__ import annotations

import time
from typing import Any

from conformance.checker.client import Reply
from conformance.checker.profile import Credentials
from conformance.checker.scenario import SECOND_KEY, Probe, ScenarioAborted, scenario
from conformance.contract.facts import CLIENT_FIELDS, MAX_URL_LENGTH, MAX_URLS, ContractFacts, webhook_types

CLOCK_SKEW_MS = 5 * 60 * 1000  # CONTRACT.md's default allowed clock skew (CREATE-05)
# Below this an epoch timestamp is in seconds, not milliseconds (1e11 ms is March 1973; 1e11 s is year 5138).
SECONDS_BELOW = 10**11


def now_ms() -> int:
    """The checker's clock in epoch milliseconds."""
    return time.time_ns() // 1_000_000


# -- scenarios ----------------------------------------------------------------------------------------------


@scenario("CREATE-01", "CREATE-02", "CREATE-04", "CREATE-05", "CREATE-06")
def create_echoes_every_client_field(probe: Probe) -> None:
    """Create with every client field (URLs in an order no sorting gives), with only the required ones, and
    right at the URL limits: each answer is the full record, echoing what was sent, fresh and not updated."""
    types = webhook_types(probe.state.spec)
    full = probe.body(webHookType=probe.rng.choice(types), webHookUrls=_unsorted_urls(probe))
    _, record = _create_and_check(probe, full)
    if record is not None:
        stored = probe.client.get(record["id"])
        probe.expect_status("CREATE-01", stored, 200, "a GET of the id a create answered (the record is stored)")
    minimal = {"shopId": probe.shop_id(), "webHookUrls": [probe.webhook_url()]}
    _create_and_check(probe, minimal)
    at_limits = probe.body(webHookUrls=_urls_at_the_limits(probe))
    _create_and_check(probe, at_limits, what=f"a valid create body with {MAX_URLS} URLs, one {MAX_URL_LENGTH} long")


@scenario("CREATE-03")
def create_assigns_a_new_unique_id(probe: Probe) -> None:
    """Every create gets an id of its own; a body `id` naming an existing record neither selects it nor
    overwrites it."""
    existing = probe.create()
    second = probe.create()
    ids = [existing["id"], second["id"]]
    probe.expect(
        "CREATE-03",
        all(isinstance(item, str) and item for item in ids) and len(set(ids)) == len(ids),
        "two creates get two different, non-empty ids",
        f"the ids were {ids}",
    )
    before = probe.client.get(existing["id"])
    if before.status != 200 or not isinstance(before.json_or_none(), dict):
        raise ScenarioAborted(f"cannot read back a new record: {before.exchange.summary()}")
    reply = probe.client.create(probe.body(id=existing["id"]))
    record = reply.json_or_none()
    what = "a create body carrying the `id` of an existing record (a server-owned field, ignored)"
    if probe.expect_status("CREATE-01", reply, {200, 201}, what) and isinstance(record, dict):
        new_id = record.get("id")
        probe.expect(
            "CREATE-03",
            isinstance(new_id, str) and new_id not in ids,
            f"a new id, not the body's {existing['id']!r} nor an earlier one",
            f"the create answered id {new_id!r}",
            reply,
        )
    after = probe.client.get(existing["id"])
    probe.expect(
        "CREATE-03",
        after.status == 200 and after.json_or_none() == before.json_or_none(),
        "the record the body's `id` names is unchanged",
        lambda: f"before: {before.text[:300]}; after: {after.status} {after.text[:300]}",
        before,
        reply,
        after,
    )


@scenario("CREATE-04", "CREATE-05", "CREATE-06")
def create_ignores_server_owned_fields(probe: Probe) -> None:
    """The company is the key's, stable across creates, whatever `companyId` the body sends; `deleted`,
    `updated`, `created` and `modified` in the body are ignored too."""
    _, first = _create_and_check(probe, probe.body())
    if first is None:
        return  # CREATE-01 has said why
    company = first["companyId"]
    claimed = f"wc-{probe.state.run_tag}-not-our-company"
    body = probe.body(companyId=claimed, deleted=True, updated=True, created=1, modified=1)
    reply, record = _create_and_check(
        probe, body, what="a create body carrying server-owned fields (companyId, deleted, updated, ...)"
    )
    if record is None or not isinstance(company, str):
        return
    wanted = f"{company!r}, the key's company as the first create answered it, not the body's {claimed!r}"
    got = record.get("companyId")
    probe.expect(
        "CREATE-04",
        got == company,
        f"companyId {wanted}",
        f"companyId {got!r}",
        reply,
    )
    # The answer may say one company while the record went to another: the key must find it as its own.
    stored = probe.client.get(record["id"])
    stored_company = (stored.json_or_none() or {}).get("companyId") if stored.status == 200 else None
    probe.expect(
        "CREATE-04",
        stored_company == company,
        f"a GET with the same key finds the record with companyId {wanted}",
        lambda: f"{stored.status} {stored.text[:200]}",
        reply,
        stored,
    )


@scenario("CREATE-04", needs=SECOND_KEY)
def two_keys_create_in_two_companies(probe: Probe) -> None:
    """A record created with the second developer key belongs to another company than one created with the
    first: the company comes from the developer key, nothing else."""
    second = probe.second
    ours_reply, ours = _create_and_check(probe, probe.body())
    theirs_reply, theirs = _create_and_check(probe, probe.body(), identity=second)
    if ours is None or theirs is None:
        return  # CREATE-01 has said why
    probe.expect(
        "CREATE-04",
        ours["companyId"] != theirs["companyId"],
        "different companyIds for records created with developer keys of two companies",
        f"both records have companyId {ours['companyId']!r}",
        ours_reply,
        theirs_reply,
    )


@scenario("CREATE-07")
def create_tolerates_unknown_fields(probe: Probe) -> None:
    """Fields the API does not know (of every JSON type) are ignored, not an error."""
    body = probe.body(
        wcUnknownText="ignore me",
        wcUnknownNumber=42,
        wcUnknownFlag=True,
        wcUnknownNull=None,
        wcUnknownList=["a", 1],
        wcUnknownObject={"nested": {"deeper": [1, "two", None]}},
    )
    _create_and_check(probe, body, status_requirement="CREATE-07", what="a valid create body with unknown fields")


# -- the checks of one new record ---------------------------------------------------------------------------


def _create_and_check(
    probe: Probe,
    body: dict[str, Any],
    *,
    status_requirement: str = "CREATE-01",
    what: str = "a valid create body",
    identity: Credentials | None = None,
) -> tuple[Reply, dict[str, Any] | None]:
    """Create from `body` and check the answer as a new record; (reply, record or None if it is not one).

    The status is checked against `status_requirement`: a body that is valid only because the server must
    ignore part of it is a different promise from a plain valid body.
    """
    started = now_ms()
    reply = probe.client.create(body, identity=identity)
    finished = now_ms()
    if not probe.expect_status(status_requirement, reply, {200, 201}, what):
        return reply, None
    record = reply.json_or_none()
    if not _is_full_record(probe, reply, record):
        return reply, None
    _check_echo(probe, reply, body, record)
    _check_server_fields(probe, reply, record, started, finished)
    return reply, record


def _is_full_record(probe: Probe, reply: Reply, record: Any) -> bool:
    """CREATE-01: the answer is the stored PartnerWebHook: an object with every field and a non-empty id."""
    fields = ContractFacts.of(probe.state.spec).record_fields
    missing = [name for name in fields if not isinstance(record, dict) or name not in record]
    has_id = isinstance(record, dict) and isinstance(record.get("id"), str) and record["id"] != ""
    return probe.expect(
        "CREATE-01",
        not missing and has_id,
        f"the stored PartnerWebHook, with every field ({', '.join(fields)}) and a non-empty string id",
        lambda: f"missing {missing}" if missing else f"id {record.get('id')!r}",
        reply,
    )


def _check_echo(probe: Probe, reply: Reply, sent: dict[str, Any], record: dict[str, Any]) -> None:
    """CREATE-02: every client field as sent; one that was not sent comes back null."""
    problems = [
        f"{name}: {_difference(sent.get(name), record.get(name))}"
        for name in CLIENT_FIELDS
        if record.get(name) != sent.get(name) or type(record.get(name)) is not type(sent.get(name))
    ]
    probe.expect(
        "CREATE-02",
        not problems,
        "url, shopId, webHookType and webHookUrls (in order) exactly as sent",
        "; ".join(problems),
        reply,
    )


def _check_server_fields(probe: Probe, reply: Reply, record: dict[str, Any], started: int, finished: int) -> None:
    """CREATE-04 (companyId, deleted), CREATE-05 (created, modified) and CREATE-06 (updated) of a new record."""
    company = record.get("companyId")
    probe.expect(
        "CREATE-04",
        isinstance(company, str) and company != "" and record.get("deleted") is False,
        "a non-empty string companyId and deleted false",
        f"companyId {company!r}, deleted {record.get('deleted')!r}",
        reply,
    )
    problems = _timestamp_problems(record.get("created"), record.get("modified"), started, finished)
    probe.expect(
        "CREATE-05",
        not problems,
        f"created and modified integer epoch milliseconds within {CLOCK_SKEW_MS // 60000} minutes of the "
        f"checker's clock, modified >= created",
        f"{'; '.join(problems)} (the checker's clock read {started} before the request and {finished} after it)",
        reply,
    )
    probe.expect(
        "CREATE-06",
        record.get("updated") is False,
        "updated false on a new record",
        f"updated {record.get('updated')!r}",
        reply,
    )


def _timestamp_problems(created: Any, modified: Any, started: int, finished: int) -> list[str]:
    """What is wrong with a new record's timestamps, taken between `started` and `finished` (epoch ms)."""
    problems = []
    for name, value in (("created", created), ("modified", modified)):
        if not _is_integer(value):
            problems.append(f"{name} {value!r} is not an integer")
        elif value < SECONDS_BELOW:
            problems.append(f"{name} {value} looks like epoch seconds, not milliseconds")
        elif not started - CLOCK_SKEW_MS <= value <= finished + CLOCK_SKEW_MS:
            off = (value - started) if value < started else (value - finished)
            problems.append(f"{name} {value} is {off / 60000:+.1f} minutes off the checker's clock")
    if _is_integer(created) and _is_integer(modified) and modified < created:
        problems.append(f"modified {modified} is before created {created}")
    return problems


# -- test data ----------------------------------------------------------------------------------------------


def _unsorted_urls(probe: Probe) -> list[str]:
    """Four fresh URLs (one with a query) in an order that neither sorting nor reverse sorting gives."""
    urls = sorted(
        [probe.webhook_url(), probe.webhook_url(), f"{probe.webhook_url()}?source=wc&n=1", probe.webhook_url()]
    )
    return [urls[2], urls[0], urls[3], urls[1]]


def _urls_at_the_limits(probe: Probe) -> list[str]:
    """As many URLs as VALID-07 allows, the last one exactly as long as it allows."""
    urls = [probe.webhook_url() for _ in range(MAX_URLS)]
    urls[-1] = _padded(urls[-1] + "/", MAX_URL_LENGTH)
    return urls


def _padded(prefix: str, length: int) -> str:
    return prefix + "a" * (length - len(prefix))


def _difference(sent: Any, got: Any) -> str:
    """How an echoed value differs from the one sent; for two lists, the first item that differs."""
    if isinstance(sent, list) and isinstance(got, list) and len(sent) == len(got):
        index = next(i for i, (a, b) in enumerate(zip(sent, got, strict=True)) if a != b or type(a) is not type(b))
        return f"item {index} sent {_short(sent[index])}, got {_short(got[index])} (sent {len(sent)} items)"
    return f"sent {_short(sent)}, got {_short(got)}"


def _is_integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _short(value: Any, limit: int = 120) -> str:
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"
