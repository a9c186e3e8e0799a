"""Keys are judged before the body (AUTH-01, AUTH-02), and a refused call does nothing (AUTH-03).

A framework that parses or validates the body before the dependency that checks the keys answers a keyless
call with a malformed body 400, 415 or 422. Here every operation gets every kind of body without keys: no
body, a valid one, malformed JSON, JSON that is not an object, bytes that are not UTF-8, another charset, a
content coding, another media type, deep nesting, and a body over the size limit (the only one that may get
413 instead of 401). A quick run sends each body with one of the missing-key identities in turn (the one over
1 MiB on create only: a server may reset a connection whose big body it does not read); a wider
budget sends every one, and unknown keys too.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import partial
from typing import Any

from conformance.checker.client import Reply, UploadRefused
from conformance.checker.profile import Credentials
from conformance.checker.scenario import Probe, scenario
from conformance.checker.scenarios.auth import missing_keys, shop_total, unknown_keys
from conformance.contract.facts import CONTRACT, MAX_REQUEST_BODY_BYTES, Operation

DEEP = 10_000


@dataclass(frozen=True)
class BodyKind:
    """A kind of request body: what it is, its bytes and the headers that say what they are."""

    what: str
    data: bytes
    headers: tuple[tuple[str, str], ...] = (("Content-Type", "application/json"),)
    oversize: bool = False


def body_kinds(valid: dict[str, Any]) -> list[BodyKind]:
    """Every kind of body a keyless call gets, built around one valid create body."""
    text = json.dumps(valid)
    return [
        BodyKind("no body", b"", ()),
        BodyKind("a valid body", text.encode()),
        BodyKind("malformed JSON", text[:-3].encode()),
        BodyKind("a JSON array", b"[1, 2]"),
        BodyKind("a body that is not UTF-8", b'{"shopId": "\xff\xfe"}'),
        BodyKind(
            "a UTF-16 body (charset=utf-16)",
            text.encode("utf-16"),
            (("Content-Type", "application/json; charset=utf-16"),),
        ),
        BodyKind(
            "Content-Encoding: br on plain JSON",
            text.encode(),
            (("Content-Type", "application/json"), ("Content-Encoding", "br")),
        ),
        BodyKind("a text/plain body", b"not json", (("Content-Type", "text/plain"),)),
        BodyKind(f"JSON nested {DEEP} deep", b"[" * DEEP + b"]" * DEEP),
        BodyKind(
            "a body over 1 MiB",
            (text[:-1] + ', "wcPadding": "' + "x" * MAX_REQUEST_BODY_BYTES + '"}').encode(),
            oversize=True,
        ),
    ]


@scenario("AUTH-01", "AUTH-02", "AUTH-03")
def keys_are_judged_before_the_body(probe: Probe) -> None:
    """Each operation, without keys (and in a wide run with unknown keys), with each kind of body: 401 (a body
    over 1 MiB may get 413), and nothing is created, changed or deleted."""
    shop = probe.shop_id()
    record = probe.create(probe.body(shopId=shop))
    record = probe.read(record["id"]) or record
    total_before = shop_total(probe, shop)
    identities = _identities(probe)
    aims = {  # the delete last: it removes the record
        "create": "createWebHook",
        "update": "updateWebHook",
        "list": "listWebHooks",
        "get": "getWebHook",
        "delete": "deleteWebHook",
    }
    paths = {name: _request_line(CONTRACT.operation(operation), record["id"], shop) for name, operation in aims.items()}
    calls: list[RefusedCall] = []
    for kind in body_kinds(probe.body(shopId=shop)):
        for name, (method, path, operation) in paths.items():
            if kind.oversize and method != "POST" and not probe.budget.wide_edges:
                continue  # a server may reset a connection whose big body it does not read: once is enough
            chosen = identities if probe.budget.wide_edges else [identities[len(calls) % len(identities)]]
            calls += [RefusedCall(name, method, path, operation, kind, *refused) for refused in chosen]
    # None of them needs another's answer: they go side by side, and are judged in this order.
    writes: list[Reply] = []
    for call, reply in zip(calls, probe.side_by_side([partial(call.send, probe) for call in calls]), strict=True):
        if isinstance(reply, UploadRefused):  # refused from the headers, before the body: nothing was done
            probe.expect(call.requirement_id, True, "", "")
            probe.results.notes[probe.check].append(f"{call.name} {call.how} with {call.kind.what}: {reply}")
            continue
        if isinstance(reply, Exception):
            raise reply
        allowed = {401, 413} if call.kind.oversize else {401}
        probe.expect_status(call.requirement_id, reply, allowed, f"{call.name} {call.how} with {call.kind.what}")
        if call.method != "GET":
            writes.append(reply)
    _expect_nothing_done(probe, record, shop, total_before, writes)


@dataclass(frozen=True)
class RefusedCall:
    """One call that must be refused: an operation's request line, a kind of body, and keys it must not pass."""

    name: str
    method: str
    path: str
    operation: str
    kind: BodyKind
    requirement_id: str
    how: str
    identity: Credentials

    def send(self, probe: Probe) -> Reply:
        # Each on a connection of its own: a server that does not read a body it refuses (or a GET's) would take
        # its bytes for the next request on a kept-alive connection.
        return probe.client.call(
            self.method,
            self.path,
            data=self.kind.data,
            headers={**dict(self.kind.headers), "Connection": "close"},
            identity=self.identity,
            operation=self.operation,
            refusable_upload=self.kind.oversize,
        )


def _request_line(operation: Operation, record_id: str, shop: str) -> tuple[str, str, str]:
    """Method, path and operationId of a request aimed at ``operation``: a list is of the scenario's shop."""
    path = operation.path_for(record_id)
    if operation.method == "GET" and not operation.on_a_record:
        path += f"?shopId={shop}"
    return operation.method, path, operation.id


def _identities(probe: Probe) -> list[tuple[str, str, Credentials]]:
    """(requirement, how, identity) of every refused identity this budget uses."""
    chosen = [("AUTH-01", how, identity) for how, identity in missing_keys(probe.primary).items()]
    if probe.budget.wide_edges:
        chosen += [("AUTH-02", how, identity) for how, identity in unknown_keys(probe.primary).items()]
    return chosen


def _expect_nothing_done(
    probe: Probe, record: dict[str, Any], shop: str, total_before: int | None, writes: list[Reply]
) -> None:
    """AUTH-03: the record is as it was and the shop holds as many records as before."""
    now = probe.read(record["id"])
    evidence = [reply for reply in writes if reply.status not in (401, 413)][:5] or writes[:3]
    probe.expect(
        "AUTH-03",
        now == record,
        "the record unchanged by refused updates and deletes",
        lambda: "the record is gone" if now is None else f"the record is now {json.dumps(now)[:300]}",
        *evidence,
    )
    total_after = shop_total(probe, shop)
    probe.expect(
        "AUTH-03",
        total_after == total_before,
        f"the shop's total {total_before} unchanged by refused creates",
        f"the total is {total_after}",
        *evidence,
    )
