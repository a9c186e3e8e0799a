"""Tenancy: one company's key can neither see nor touch another company's records (TENANT-01 to TENANT-04).

These scenarios need a developer key of a second company (`--second-developer-key`). Both companies work
in the same shop id on purpose: a target that scopes by shop instead of by company is caught too.
"""

from __future__ import annotations

import uuid
from typing import Any

from conformance.checker.client import Reply
from conformance.checker.profile import Credentials
from conformance.checker.scenario import SECOND_KEY, Probe, ScenarioAborted, scenario
from conformance.checker.scenarios.records import (
    MADE_UP_COMPANY,
    Listing,
    changed_client_fields,
    differences,
    fresh_record,
    shop_listing,
    walk_list,
)


@scenario("TENANT-01", "TENANT-03", needs=SECOND_KEY)
def other_company_cannot_touch_a_record(probe: Probe) -> None:
    """The other company's GET, PUT and DELETE of our record get the 404 that a missing id gets, and change
    nothing."""
    record = fresh_record(probe)
    other = probe.second
    client = probe.client
    missing = str(uuid.UUID(int=probe.rng.getrandbits(128)))

    reply = client.get(record["id"], identity=other)
    expect_like_missing(probe, "GET", reply, client.get(missing, identity=other))

    body = {**record, **changed_client_fields(probe, record)}
    reply = client.update(record["id"], body, identity=other)
    expect_like_missing(probe, "PUT", reply, client.update(missing, {**body, "id": missing}, identity=other))
    record = expect_unchanged(probe, record, "PUT", reply)
    if record is None:
        return

    reply = client.delete(record["id"], identity=other)
    expect_like_missing(probe, "DELETE", reply, client.delete(missing, identity=other))
    expect_unchanged(probe, record, "DELETE", reply)


def expect_like_missing(probe: Probe, method: str, reply: Reply, missing: Reply) -> None:
    """TENANT-01: `reply` (to the other company) is a 404 shaped like the 404 for a missing id: the same
    content type and, for an Error body, the same fields. (Whether 404 bodies are Error bodies at all is
    HTTP-03's question; a missing id that does not get 404 is READ-02's, UPDATE-05's or DELETE-03's.)"""
    like = missing.status != 404 or body_shape(reply) == body_shape(missing)
    probe.expect(
        "TENANT-01",
        reply.status == 404 and like,
        f"{method} of our record with the other company's key answers as {method} of a missing id does: "
        f"404 with {shape_in_words(missing) if missing.status == 404 else 'an Error body'}",
        lambda: answered_other_company(method, reply, missing),
        reply,
        missing,
    )


def answered_other_company(method: str, reply: Reply, missing: Reply) -> str:
    """What the other company's request got, in words, beside what a missing id gets."""
    if 200 <= reply.status < 300:
        return f"answered {reply.status}: the other company's key could {method} our record ({reply.text[:160]!r})"
    if reply.status != 404:
        return f"answered {reply.status} where a missing id gets {missing.status}, telling that the record exists"
    return (
        f"answered 404 with {shape_in_words(reply)}, where a missing id gets {shape_in_words(missing)}: the "
        "difference tells that the record exists"
    )


def shape_in_words(reply: Reply) -> str:
    """`application/json with fields message, status` (from `body_shape`)."""
    content_type, fields = body_shape(reply)
    kind = content_type or "no Content-Type"
    return f"{kind} with fields {', '.join(fields)}" if fields else f"a {kind} body that is not a JSON object"


def body_shape(reply: Reply) -> tuple[str, tuple[str, ...] | None]:
    """What an answer's body is, without its values: the content type and the keys of a JSON object."""
    body = reply.json_or_none()
    return reply.content_type, (tuple(sorted(body)) if isinstance(body, dict) else None)


def expect_unchanged(probe: Probe, record: dict[str, Any], method: str, cause: Reply) -> dict[str, Any] | None:
    """TENANT-03: our record reads as before the other company's call; returns it as it now reads."""
    reply = probe.client.get(record["id"])
    now = reply.json_or_none() if reply.status == 200 else None
    probe.expect(
        "TENANT-03",
        now == record,
        f"our record unchanged by the other company's {method}",
        lambda: f"GET answered {reply.status} with {differences(record, now)}",
        cause,
        reply,
    )
    return now if isinstance(now, dict) else None


@scenario("TENANT-02", needs=SECOND_KEY)
def lists_are_per_company(probe: Probe) -> None:
    """Each company creates a record in the same shop: neither list shows, or counts, the other's."""
    other = probe.second
    shop_id = probe.shop_id()
    ours_before, theirs_before = shop_listing(probe, shop_id), shop_listing(probe, shop_id, other)
    ours = probe.create(probe.body(shopId=shop_id))
    theirs = probe.create(probe.body(shopId=shop_id), identity=other)
    ours_after, theirs_after = shop_listing(probe, shop_id), shop_listing(probe, shop_id, other)

    expect_not_listed(probe, theirs["id"], ours_after, f"our list of shop {shop_id!r}")
    expect_not_listed(probe, ours["id"], theirs_after, f"the other company's list of shop {shop_id!r}")
    expect_counted_once(probe, ours["id"], ours_before, ours_after, f"our total of shop {shop_id!r}")
    expect_counted_once(
        probe, theirs["id"], theirs_before, theirs_after, f"the other company's total of shop {shop_id!r}"
    )
    expect_not_listed(probe, theirs["id"], walk_list(probe, {}), "our unfiltered list")
    expect_not_listed(probe, ours["id"], walk_list(probe, {}, other), "the other company's unfiltered list")


def expect_not_listed(probe: Probe, webhook_id: str, listing: Listing, where: str) -> None:
    """The list answered, and the other company's record is not in it."""
    probe.expect(
        "TENANT-02",
        bool(listing.replies) and listing.replies[0].status == 200 and webhook_id not in listing.ids,
        f"{where} does not show the other company's record {webhook_id!r}",
        lambda: "it is listed" if webhook_id in listing.ids else f"the list answered {listing.replies[0].status}",
        *listing.replies,
    )


def expect_counted_once(probe: Probe, own_id: str, before: Listing, after: Listing, where: str) -> None:
    """After each company created one record in the shop, a company's total grew by its own record only.
    (A list that does not show the new record yet is LIST-07's failure: then the total must not move.)"""
    grown = 1 if own_id in after.ids and own_id not in before.ids else 0
    probe.expect(
        "TENANT-02",
        before.total is not None and after.total == before.total + grown,
        f"{where} grows by {grown}, from {before.total}, when each company creates one record in the shop",
        f"it is {after.total}",
        *before.replies[:1],
        *after.replies[:1],
    )


@scenario("TENANT-04", needs=SECOND_KEY)
def company_id_in_body_is_ignored(probe: Probe) -> None:
    """A `companyId` in a create or update body, the other company's or a made-up one, is ignored."""
    other = probe.second
    their_company = probe.create(identity=other).get("companyId")
    ours = probe.create()
    own = probe.read(ours["id"])
    if own is None:
        raise ScenarioAborted(f"a new record {ours['id']!r} could not be read back")
    # What a create answers and what a GET reads are compared each with their own kind: a target whose
    # create answer misreports the company (CREATE-04) is not taken for one that obeys the body.
    answered, company = ours.get("companyId"), own.get("companyId")
    bodies = {"a made-up company id": MADE_UP_COMPANY}
    if isinstance(their_company, str) and their_company != company:
        bodies["the other company's id"] = their_company
    for what, body_company in bodies.items():
        reply = probe.client.create(probe.body(companyId=body_company))
        created = reply.json_or_none()
        if not probe.expect_status("TENANT-04", reply, {200, 201}, f"a create with {what} in the body"):
            continue
        probe.expect(
            "TENANT-04",
            isinstance(created, dict) and created.get("companyId") == answered,
            f"a create with {what} in the body answers with companyId {answered!r}, as a create without one does",
            lambda created=created: f"the answer is {created!r}",
            reply,
        )
        if isinstance(created, dict) and isinstance(created.get("id"), str):
            expect_still_ours(probe, created["id"], company, f"a create with {what}", other, reply)

        body = {**own, **changed_client_fields(probe, own), "id": ours["id"], "companyId": body_company}
        reply = probe.client.update(ours["id"], body)
        answer = reply.json_or_none()
        if probe.expect_status("TENANT-04", reply, 200, f"an update with {what} in the body"):
            probe.expect(
                "TENANT-04",
                isinstance(answer, dict) and answer.get("companyId") == company,
                f"an update with {what} in the body answers with our companyId {company!r}",
                lambda answer=answer: f"the answer is {answer!r}",
                reply,
            )
        own = expect_still_ours(probe, ours["id"], company, f"an update with {what}", other, reply)
        if own is None:
            return


def expect_still_ours(
    probe: Probe, webhook_id: str, company: Any, after: str, other: Credentials, *cause: Reply
) -> dict[str, Any] | None:
    """Our key still reads the record, with our companyId; returns it. A record that moved to the other
    company is deleted with their key, so that the run leaves nothing behind."""
    reply = probe.client.get(webhook_id)
    record = reply.json_or_none() if reply.status == 200 else None
    ok = isinstance(record, dict) and record.get("companyId") == company
    probe.expect(
        "TENANT-04",
        ok,
        f"after {after} in the body, the record is still ours: GET answers 200 with companyId {company!r}",
        lambda: f"GET answered {reply.status} with body {reply.text[:160]!r}",
        *cause,
        reply,
    )
    if reply.status == 404:
        probe.client.delete(webhook_id, identity=other)
    return record if ok else None
