"""One record's life: read it (READ-01, READ-02), update it (UPDATE-01 to UPDATE-07), delete it (DELETE-01 to
DELETE-04).

Every record these scenarios write was created by the scenario itself, in a shop of its own (or one of the
user's `--shop-id`s, where lists are compared before and after rather than assumed empty). Whole records are
compared, so a field the target drops or changes on the way shows up as a difference.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from conformance.checker.client import Reply
from conformance.checker.profile import Credentials
from conformance.checker.scenario import Probe, ScenarioAborted, scenario
from conformance.contract.facts import webhook_types

MADE_UP_COMPANY = "wc-no-such-company"
WALK_PAGE = 100
WALK_PAGES = 10  # a bounded walk: at most this many pages of a list


# -- READ and UPDATE ---------------------------------------------------------------------------------------


@scenario("READ-01", "UPDATE-01", "UPDATE-02", "UPDATE-03", "UPDATE-04")
def read_and_update_agree(probe: Probe) -> None:
    """GET returns what the create returned; a PUT changing every client field answers 200 with the new
    record (server fields kept, `modified` later, `updated` true) and a GET then returns that same record;
    made-up server fields in a later PUT body change nothing."""
    created = probe.create()
    webhook_id = created["id"]
    # The record as read is the baseline from here on: a create answer that is incomplete or wrong is
    # CREATE-01's or CREATE-04's failure, not an update's.
    baseline, looked = expect_read_as_written(probe, webhook_id, created, "after its create")
    before = baseline or created

    time.sleep(0.005)  # UPDATE-03 promises the target at least 2 ms between the two writes
    changes = changed_client_fields(probe, before)
    reply = probe.client.update(webhook_id, {**before, **changes})
    updated = expect_update_answer(probe, before, changes, reply, looked if baseline else None)
    if updated is None:
        return
    read, _ = expect_read_as_written(probe, webhook_id, updated, "after its update")
    probe.expect(
        "UPDATE-01",
        read is not None and as_written(updated, read),
        "a GET after the update returns the updated record",
        lambda: f"GET returned {differences(updated, read)}",
        reply,
    )
    expect_server_fields_ignored(probe, webhook_id, read or updated)


def expect_read_as_written(
    probe: Probe, webhook_id: str, written: dict[str, Any], when: str
) -> tuple[dict[str, Any] | None, Reply]:
    """READ-01: a GET answers 200 with every field that the last write answered, unchanged; returns the GET's
    record and its answer. (Fields the write's answer left out are the write's failure, not the read's.)"""
    reply = probe.client.get(webhook_id)
    read = reply.json_or_none() if reply.status == 200 else None
    probe.expect(
        "READ-01",
        isinstance(read, dict) and as_written(written, read),
        f"GET {when} returns record {webhook_id!r} as the write answered it",
        lambda: f"{reply.status} with {differences(written, read)}",
        reply,
    )
    return (read if isinstance(read, dict) else None), reply


def as_written(written: dict[str, Any], read: dict[str, Any]) -> bool:
    """Whether `read` holds every field of `written`, with the same value."""
    return all(name in read and read[name] == value for name, value in written.items())


def expect_update_answer(
    probe: Probe, before: dict[str, Any], changes: dict[str, Any], reply: Reply, read_before: Reply | None = None
) -> dict[str, Any] | None:
    """UPDATE-01 to UPDATE-04 on the answer to a PUT of `changes` over `before`; returns the answered record.
    `read_before`: the GET that gave `before`, shown beside the PUT where `modified` did not grow (the two
    values side by side, in the report and in the reproduction's output)."""
    if not probe.expect_status("UPDATE-01", reply, 200, "a valid update of a live record"):
        return None
    updated = reply.json_or_none()
    if not probe.expect(
        "UPDATE-01", isinstance(updated, dict), "the updated record as a JSON object", reply.text[:160], reply
    ):
        return None
    wrong = {name: updated.get(name) for name, value in changes.items() if updated.get(name) != value}
    probe.expect(
        "UPDATE-01",
        not wrong,
        "the update's answer carries every client field as sent",
        f"these fields differ from what was sent {changes}: {wrong}",
        reply,
    )
    expect_identity_kept(probe, before, updated, "the answer to an update", reply)
    old, new = before.get("modified"), updated.get("modified")
    probe.expect(
        "UPDATE-03",
        isinstance(old, int) and isinstance(new, int) and new > old,
        f"modified greater than {old!r} after an update",
        f"modified is {new!r}",
        reply,
        *([read_before] if read_before is not None else []),
    )
    probe.expect(
        "UPDATE-04",
        updated.get("updated") is True,
        "updated true after an update",
        f"updated is {updated.get('updated')!r}",
        reply,
    )
    return updated


def expect_server_fields_ignored(probe: Probe, webhook_id: str, record: dict[str, Any]) -> None:
    """UPDATE-02: a PUT body with a made-up companyId and an earlier created changes neither (nor the id)."""
    created = record.get("created")
    earlier = created - 86_400_000 if isinstance(created, int) else 0
    body = {**record, "id": webhook_id, "companyId": MADE_UP_COMPANY, "created": earlier}
    reply = probe.client.update(webhook_id, body)
    answer = reply.json_or_none()
    if reply.status == 200 and isinstance(answer, dict):
        expect_identity_kept(probe, record, answer, "the answer to an update with made-up server fields", reply)
    read = probe.client.get(webhook_id)
    now = read.json_or_none()
    probe.expect(
        "UPDATE-02",
        read.status == 200 and isinstance(now, dict),
        "the record still ours after an update with a made-up companyId",
        lambda: f"GET answered {read.status} with body {read.text[:160]!r}",
        reply,
        read,
    )
    if read.status == 200 and isinstance(now, dict):
        expect_identity_kept(probe, record, now, "a GET after an update with made-up server fields", reply, read)


def expect_identity_kept(
    probe: Probe, before: dict[str, Any], after: dict[str, Any], where: str, *replies: Reply
) -> None:
    """UPDATE-02: id, companyId and created in `after` are those of `before`."""
    for name in ("id", "companyId", "created"):
        probe.expect(
            "UPDATE-02",
            after.get(name) == before.get(name),
            f"{name} {before.get(name)!r} unchanged in {where}",
            f"{name} is {after.get(name)!r}",
            *replies,
        )


@scenario("READ-02", writes=False)
def odd_ids_get_404(probe: Probe) -> None:
    """Ids that name no record, however odd (long, unicode, dots, slashes, spaces), get 404 (writes nothing)."""
    for what, odd_id in odd_ids(probe).items():
        reply = probe.client.get(odd_id)
        probe.expect_status("READ-02", reply, 404, f"GET of {what}")


@scenario("READ-02")
def near_misses_of_a_real_id_get_404(probe: Probe) -> None:
    """A real id's first characters, and a real id with a suffix, get 404: the likely slips of a lookup by
    `LIKE` or by a truncated key."""
    real_id = probe.create()["id"]
    near_misses = {
        "the first characters of a real id": real_id[: max(1, min(8, len(real_id) - 1))],
        "a real id with a suffix": f"{real_id}0",
    }
    for what, odd_id in near_misses.items():
        probe.expect_status("READ-02", probe.client.get(odd_id), 404, f"GET of {what}")


def odd_ids(probe: Probe) -> dict[str, str]:
    """Ids no record has, by what they are."""
    return {
        "a random uuid-like id": str(uuid.UUID(int=probe.rng.getrandbits(128))),
        "a 5000-character id": "".join(probe.rng.choices("abcdefghijklmnopqrstuvwxyz0123456789", k=5000)),
        "a unicode id": "wc-ünïcödé-名前-😀",
        "the id '..'": "..",
        "the id '.'": ".",
        "an id with a slash (sent percent-encoded)": "a/b",
        "an id with spaces": "wc id with spaces",
        "an id with a percent sign": "100%",
    }


# -- UPDATE of what is not there, invalid updates, a body naming another record ----------------------------


@scenario("UPDATE-05")
def update_of_missing_id_creates_nothing(probe: Probe) -> None:
    """PUT of an id that never existed, and of a deleted one, gets 404 and creates nothing (no upsert)."""
    shop_id = probe.shop_id()
    record = probe.create(probe.body(shopId=shop_id))
    never = str(uuid.UUID(int=probe.rng.getrandbits(128)))
    expect_put_creates_nothing(probe, never, shop_id, "an id that never existed")
    if probe.client.delete(record["id"]).status not in (200, 204):
        raise ScenarioAborted("could not delete a record to PUT it afterwards")
    expect_put_creates_nothing(probe, record["id"], shop_id, "a deleted id")


def expect_put_creates_nothing(probe: Probe, missing_id: str, shop_id: str, what: str) -> None:
    """PUT of an id that names no live record: 404, the id still 404 on GET, the shop's total unchanged."""
    total_before = shop_listing(probe, shop_id).total
    # A deleted record that still reads is DELETE-02's failure; only a GET that was 404 must stay so here.
    missing_before = probe.client.get(missing_id).status == 404
    reply = probe.client.update(missing_id, probe.body(shopId=shop_id))
    probe.expect_status("UPDATE-05", reply, 404, f"PUT of {what}")
    if missing_before:
        probe.expect_status("UPDATE-05", probe.client.get(missing_id), 404, f"GET of {what} after a PUT of it")
    total_after = shop_listing(probe, shop_id).total
    probe.expect(
        "UPDATE-05",
        total_after == total_before,
        f"the shop's total {total_before} unchanged by a PUT of {what}",
        f"the total is {total_after}",
        reply,
    )
    remove_revived(probe, reply, missing_id)


@scenario("UPDATE-06")
def update_is_validated(probe: Probe) -> None:
    """An update breaking a validation rule gets 400 and leaves the record as it was."""
    record = fresh_record(probe)
    for what, bad in invalid_updates(probe).items():
        body = {**record, **bad}
        reply = probe.client.update(record["id"], body)
        probe.expect_status("UPDATE-06", reply, 400, f"an update with {what}")
        now = probe.read(record["id"])
        probe.expect(
            "UPDATE-06",
            now == record,
            f"the record unchanged by a rejected update with {what}",
            lambda now=now: "the record is gone" if now is None else f"the record is now {now}",
            reply,
        )
        record = now or fresh_record(probe)


def invalid_updates(probe: Probe) -> dict[str, dict[str, Any]]:
    """Client fields that VALID-01 to VALID-05 reject, by what is wrong with them."""
    return {
        "an empty webHookUrls": {"webHookUrls": []},
        "a null webHookUrls": {"webHookUrls": None},
        "a string for webHookUrls": {"webHookUrls": probe.webhook_url()},
        "a relative webhook URL": {"webHookUrls": ["/hooks/relative"]},
        "a javascript: webhook URL": {"webHookUrls": ["javascript:alert(1)"]},
        "a relative legacy url": {"url": "hooks/relative"},
        "an unknown webHookType": {"webHookType": "NOT_A_WEBHOOK_TYPE"},
        "a number for shopId": {"shopId": 12345},
    }


@scenario("UPDATE-07")
def update_body_id_leaves_other_record_alone(probe: Probe) -> None:
    """PUT /A with a body naming B's id: B is unchanged in every way; A is either updated or the PUT is 400."""
    first, other = fresh_record(probe), fresh_record(probe)
    changes = changed_client_fields(probe, first)
    reply = probe.client.update(first["id"], {**first, **changes, "id": other["id"]})
    probe.expect_status("UPDATE-07", reply, {200, 400}, "a PUT whose body names another record's id")
    expect_read_equals(probe, "UPDATE-07", other["id"], other, "after a PUT of another id whose body named it", reply)
    answer = reply.json_or_none()
    if reply.status == 200:
        probe.expect(
            "UPDATE-07",
            isinstance(answer, dict) and answer.get("id") == first["id"],
            f"the answer is the record of the path's id {first['id']!r}",
            lambda: f"the answer's id is {answer.get('id') if isinstance(answer, dict) else answer!r}",
            reply,
        )
    elif reply.status == 400:
        expect_read_equals(probe, "UPDATE-07", first["id"], first, "after a PUT rejected for naming another id", reply)


# -- DELETE ------------------------------------------------------------------------------------------------


@scenario("DELETE-01", "DELETE-02", "DELETE-03")
def deleted_record_is_gone(probe: Probe) -> None:
    """Delete answers 200 or 204; the record is then gone from GET, lists and totals; PUT and a second
    delete of it get 404, as does a delete of an id that never existed."""
    shop_id = probe.shop_id()
    record = probe.create(probe.body(shopId=shop_id))
    before = shop_listing(probe, shop_id)
    reply = probe.client.delete(record["id"])
    if not probe.expect_status("DELETE-01", reply, {200, 204}, "DELETE of a live record"):
        return
    probe.expect(
        "DELETE-01",
        reply.status == 204 or not reply.body.strip() or parses_as_json(reply),
        "a 200 body, if any, is JSON",
        lambda: f"the body is {reply.content_type or 'untyped'} {reply.text[:80]!r}",
        reply,
    )
    probe.expect_status("DELETE-02", probe.client.get(record["id"]), 404, "GET of a deleted record")
    after = shop_listing(probe, shop_id)
    probe.expect(
        "DELETE-02",
        record["id"] not in after.ids,
        "the deleted record is gone from its shop's list",
        "it is still listed",
        reply,
        *after.replies,
    )
    if record["id"] in before.ids:  # a list that did not show the record yet is LIST-07's failure
        probe.expect(
            "DELETE-02",
            before.total is not None and after.total == before.total - 1,
            f"the shop's total one less than before the delete, {before.total}",
            f"the total is {after.total}",
            reply,
            *after.replies,
        )
    never = str(uuid.UUID(int=probe.rng.getrandbits(128)))
    probe.expect_status("DELETE-03", probe.client.delete(record["id"]), 404, "a second DELETE of a record")
    probe.expect_status("DELETE-03", probe.client.delete(never), 404, "DELETE of an id that never existed")
    put = probe.client.update(record["id"], probe.body(shopId=shop_id))
    probe.expect_status("DELETE-02", put, 404, "PUT of a deleted record")
    remove_revived(probe, put, record["id"])


@scenario("DELETE-04")
def delete_removes_only_that_record(probe: Probe) -> None:
    """Deleting one of several records of a shop leaves the others, and a record of another shop, as they were."""
    shop_id = probe.shop_id()
    doomed, *neighbours = [fresh_record(probe, probe.body(shopId=shop_id)) for _ in range(3)]
    neighbours.append(fresh_record(probe))
    reply = probe.client.delete(doomed["id"])
    if reply.status not in (200, 204):
        raise ScenarioAborted(f"the delete of a live record answered {reply.status}")
    for neighbour in neighbours:
        same_shop = "of the same shop" if neighbour.get("shopId") == shop_id else "of another shop"
        expect_read_equals(
            probe, "DELETE-04", neighbour["id"], neighbour, f"after a delete of another record {same_shop}", reply
        )


# -- shared pieces -----------------------------------------------------------------------------------------


def fresh_record(
    probe: Probe, body: dict[str, Any] | None = None, identity: Credentials | None = None
) -> dict[str, Any]:
    """Create a record and return it as a GET reads it: the baseline for "unchanged", so that a GET that
    differs from the create's answer (READ-01's failure) is not taken for a change."""
    created = probe.create(body, identity=identity)
    read = probe.read(created["id"], identity=identity)
    if read is None or read.get("id") != created["id"]:
        raise ScenarioAborted(f"a new record {created['id']!r} could not be read back")
    return read


@dataclass
class Listing:
    """What a (bounded) walk through a list saw: the ids, the total of its first page, the pages."""

    ids: list[str] = field(default_factory=list)
    total: int | None = None
    replies: list[Reply] = field(default_factory=list)


def walk_list(
    probe: Probe, params: dict[str, Any], identity: Credentials | None = None, pages: int = WALK_PAGES
) -> Listing:
    """Walk a list page by page (start = 0, 100, 200, ...) as `identity`, for at most `pages` pages."""
    listing = Listing()
    for page in range(pages):
        reply = probe.client.list({**params, "start": page * WALK_PAGE, "limit": WALK_PAGE}, identity=identity)
        listing.replies.append(reply)
        body = reply.json_or_none()
        values = body.get("values") if isinstance(body, dict) else None
        if reply.status != 200 or not isinstance(values, list):
            break
        if page == 0 and isinstance(body.get("total"), int):
            listing.total = body["total"]
        listing.ids += [item["id"] for item in values if isinstance(item, dict) and isinstance(item.get("id"), str)]
        if len(values) < WALK_PAGE:
            break
    return listing


def shop_listing(probe: Probe, shop_id: str, identity: Credentials | None = None) -> Listing:
    """Every record of one shop, as `identity` sees them."""
    return walk_list(probe, {"shopId": shop_id}, identity)


def expect_read_equals(
    probe: Probe, requirement_id: str, webhook_id: str, record: dict[str, Any], when: str, *cause: Reply
) -> dict[str, Any] | None:
    """Expect a GET of the id to answer 200 with exactly `record`; returns what the GET gave."""
    reply = probe.client.get(webhook_id)
    read = reply.json_or_none() if reply.status == 200 else None
    probe.expect(
        requirement_id,
        read == record,
        f"GET {when} returns record {webhook_id!r} exactly as last written",
        lambda: f"{reply.status} with {differences(record, read)}",
        *cause,
        reply,
    )
    return read if isinstance(read, dict) else None


def differences(expected: dict[str, Any], actual: Any) -> str:
    """The fields in which `actual` differs from `expected`, for a finding."""
    if not isinstance(actual, dict):
        return f"no record but {actual!r}"
    names = sorted(set(expected) | set(actual))
    changed = {name: actual.get(name, "<missing>") for name in names if expected.get(name) != actual.get(name)}
    return f"these fields differing: {changed}"


def changed_client_fields(probe: Probe, record: dict[str, Any]) -> dict[str, Any]:
    """New values for every client field of the record (the shop too, unless only one `--shop-id` is given)."""
    types = [item for item in webhook_types(probe.state.spec) if item != record.get("webHookType")]
    return {
        "shopId": probe.shop_id(),
        "url": probe.webhook_url(),
        "webHookType": probe.rng.choice(types),
        "webHookUrls": [probe.webhook_url(), probe.webhook_url()],
    }


def remove_revived(probe: Probe, reply: Reply, webhook_id: str) -> None:
    """A PUT of a missing id that wrongly succeeded may have brought a record (back) into being; delete it,
    so that the run leaves nothing behind on the target."""
    if 200 <= reply.status < 300:
        probe.client.delete(webhook_id)


def parses_as_json(reply: Reply) -> bool:
    try:
        reply.json()
    except ValueError:
        return False
    return True
