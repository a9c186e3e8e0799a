"""Paths, methods and bodies where HTTP stacks differ (READ-02, UPDATE-05, DELETE-03, DELETE-04, HTTP-05, the
read operations' own requirements, AUTH-01).

Which paths are API paths. `.../webHooks/` (an empty id), `.../webHooks//x` and `%zz` are not
one of the two API paths, or not a valid URI: the server's HTTP layer may answer them with any 4xx and any
body (CONTRACT.md, after HTTP-06), but not with a redirect or a 2xx, and they must not act. An id with
percent-encoded slashes (`...%2F..%2F..%2Fx`) or a NUL is one path segment, an id like any other: 404.

Methods. Every method a path does not define gets 405 with `Allow` (HTTP-05), the other path's methods
included. HEAD is the exception RFC 9110 makes: a server may answer it as the GET it mirrors, without the
body, so HEAD gets 405 or exactly the status the GET gets (and never more without keys than a 401: AUTH-01).
CONNECT to a path is not a valid request (its target must be an authority): any 4xx, but an answer.

Bodies on GET and DELETE mean nothing (RFC 9110 9.3.1, 9.3.5): a malformed one is ignored, and the operation
answers as without it. A body over 1 MiB may get 413 on any operation (AUTH-01 names that limit for every
endpoint; the spec documents 413 everywhere).
"""

from __future__ import annotations

import json
from typing import Any

from conformance.checker.client import Reply, TransportError, UploadRefused
from conformance.checker.profile import Credentials
from conformance.checker.raw_request import RawRequest
from conformance.checker.scenario import Probe, scenario
from conformance.checker.scenarios.http import expect_allow
from conformance.contract.facts import (
    COLLECTION_PATH,
    CONTRACT,
    ITEM_PATH,
    MAX_REQUEST_BODY_BYTES,
    PATH_METHODS,
    absent_record_id,
    item_path,
)

MALFORMED = b'{"start": 0,'
JSON_TYPE = {"Content-Type": "application/json"}
# A body on GET or DELETE goes on a connection of its own: a server that does not read it would take its bytes
# for the next request on a kept-alive connection.
BODY_ON_A_READ = {**JSON_TYPE, "Connection": "close"}
# By method: the requirement a wrong answer to an odd item path breaks, and the operation it aims at.
ITEM_METHODS = {
    method: (requirement_id, CONTRACT.operation_on(method, ITEM_PATH).id)
    for method, requirement_id in (("GET", "READ-02"), ("PUT", "UPDATE-05"), ("DELETE", "DELETE-03"))
}


@scenario("READ-02", "UPDATE-05", "DELETE-03", "DELETE-04")
def odd_item_paths_get_a_4xx_and_do_nothing(probe: Probe) -> None:
    """The empty id, `//x` and `%zz` (not API paths, or not URIs: any 4xx, no redirect); ids
    with encoded slashes or a NUL (ids like any other: 404); our record untouched by all of them."""
    record = probe.read(probe.create()["id"])
    if record is None:
        return  # READ-01 is judged elsewhere
    body = probe.body()
    for what, target in _outside_paths().items():
        for method, (requirement_id, operation) in ITEM_METHODS.items():
            data = _json_bytes(body) if method == "PUT" else b""
            headers = (("Content-Type", "application/json"),) if method == "PUT" else ()
            reply = send_outside_the_api(probe, RawRequest(method, target, headers, data), operation)
            if reply is None:
                continue  # dropping the connection is no 5xx and does nothing; the contract asks no more
            probe.expect(
                requirement_id,
                400 <= reply.status < 500,
                f"a 4xx (no redirect, no 2xx) for {method} of {what}",
                f"status {reply.status}"
                + (f", Location {reply.headers['Location']}" if "Location" in reply.headers else ""),
                reply,
            )
    for request in _invalid_http():
        send_outside_the_api(probe, request, "listWebHooks")  # judged by HTTP-01 alone, in the observer
    # Ids of this run and check alone: a record stored under one by anyone else (another check's PUT on a target
    # that stores a PUT of a missing id, a tool before us) would rightly be found, and blamed on the target.
    tag = f"wc-{probe.state.run_tag}-odd"
    for what, odd_id in {"an id with encoded slashes": f"{tag}/../../x", "an id with a NUL": f"{tag}\x00id"}.items():
        probe.expect_status("READ-02", probe.client.get(odd_id), 404, f"GET of {what}")
        probe.expect_status("UPDATE-05", probe.client.update(odd_id, probe.body()), 404, f"PUT of {what}")
        probe.expect_status("DELETE-03", probe.client.delete(odd_id), 404, f"DELETE of {what}")
    now = probe.read(record["id"])
    probe.expect(
        "DELETE-04",
        now == record,
        "our record untouched by requests to other paths",
        "the record is gone" if now is None else f"the record is now {now}",
        probe.client.get(record["id"]),
    )


@scenario("HTTP-05", "AUTH-01")
def every_method_on_every_path(probe: Probe) -> None:
    """The other path's methods get 405 with `Allow` (PUT and DELETE on the collection are sent without keys,
    so 401 passes too); HEAD (of the list, our record and an id no record has)
    gets 405 or the GET's status, and 401 or 405 without keys; CONNECT gets an answer."""
    record = probe.create()
    paths = {COLLECTION_PATH: COLLECTION_PATH, ITEM_PATH: item_path(record["id"])}
    defined = frozenset().union(*PATH_METHODS.values())
    other = {template: sorted(defined - PATH_METHODS[template]) for template in paths}  # the other path's
    keyless = Credentials(None, None)
    for template, path in paths.items():
        for method in other[template]:
            # Without keys on the collection: a target that does define them there would act on every record.
            identity, allowed = (keyless, {401, 405}) if template == COLLECTION_PATH else (None, {405})
            data = _json_bytes(probe.body())
            reply = probe.client.call(method, path, data=data, headers=JSON_TYPE, identity=identity)
            how = " (sent without keys)" if identity is keyless else ""
            what = f"{method} {template}, a method the path does not define{how}"
            if probe.expect_status("HTTP-05", reply, allowed, what) and reply.status == 405:
                expect_allow(probe, reply, method, template)
        _expect_head(probe, template, path)
    _expect_head(probe, ITEM_PATH, item_path(absent_record_id(probe.state.run_tag)))
    _expect_connect(probe)


@scenario("LIST-01", "READ-01", "DELETE-01", "VALID-10")
def bodies_on_get_and_delete_are_ignored(probe: Probe) -> None:
    """A malformed JSON body on a list, a GET and a DELETE: answered as without it. A body over 1 MiB: that
    answer, or 413 (and then nothing done)."""
    record = probe.read(probe.create()["id"])
    if record is None:
        return
    bodies = {"a malformed JSON body": MALFORMED}
    if probe.budget.wide_edges:  # a server may reset a connection whose big body it does not read: wide runs only
        bodies["a body over 1 MiB"] = b'{"x": "' + b"x" * MAX_REQUEST_BODY_BYTES + b'"}'
    for what, data in bodies.items():
        try:
            _read_and_delete_with_a_body(probe, record, what, data)
        except UploadRefused as refusal:  # refused from the headers, before the body: nothing was done
            probe.results.notes[probe.check].append(f"{what}: {refusal}")
    probe.client.delete(record["id"])  # not left for the final cleanup: it has enough to do on a flaky target


def _read_and_delete_with_a_body(probe: Probe, record: dict[str, Any], what: str, data: bytes) -> None:
    """A list, a GET and a DELETE carrying `data`: each answered as without it (or 413 when it is oversize)."""
    big = len(data) > MAX_REQUEST_BODY_BYTES
    allowed_extra = {413} if big else set()
    listed = probe.client.call_operation(
        "listWebHooks", params={"shopId": record.get("shopId")}, data=data, headers=BODY_ON_A_READ, refusable_upload=big
    )
    probe.expect_status("LIST-01", listed, {200} | allowed_extra, f"a list with {what}")
    read = probe.client.call_operation(
        "getWebHook", record["id"], data=data, headers=BODY_ON_A_READ, refusable_upload=big
    )
    probe.expect_status("READ-01", read, {200} | allowed_extra, f"a GET of a record with {what}")
    if read.status == 200:
        probe.expect(
            "READ-01", read.json_or_none() == record, f"the record for a GET with {what}", read.text[:200], read
        )
    victim = probe.create()
    gone = probe.client.call_operation(
        "deleteWebHook", victim["id"], data=data, headers=BODY_ON_A_READ, refusable_upload=big
    )
    probe.expect_status("DELETE-01", gone, {200, 204} | allowed_extra, f"a DELETE of a record with {what}")
    if gone.status == 413:
        still = probe.read(victim["id"])
        probe.expect(
            "VALID-10",
            still is not None,
            "a DELETE refused with 413 not processed",
            "the record was deleted",
            gone,
        )


# -- pieces ---------------------------------------------------------------------------------------------------


def send_outside_the_api(probe: Probe, request: RawRequest, operation: str | None = None) -> Reply | None:
    """Send a request that is not an API call (choice (g)), aimed at `operation`'s handler; None when the
    target drops it unanswered (or the client no longer sends that operation)."""
    try:
        return probe.client.call_raw(request, operation=operation, api_call=False)
    except TransportError:
        return None


def _invalid_http() -> list[RawRequest]:
    """Requests that are not valid HTTP/1.1: without `Host`, and with a space in a header name."""
    return [
        RawRequest("GET", COLLECTION_PATH, host=False),
        RawRequest("GET", COLLECTION_PATH, (("Bad Header", "x"),)),
    ]


def _outside_paths() -> dict[str, str]:
    """Request targets that are not one of the two API paths, or not valid URIs, by what they are."""
    return {
        "the empty id (a trailing slash)": COLLECTION_PATH + "/",
        "an empty segment before the id (`//x`)": COLLECTION_PATH + "//wc-x",
        "an invalid percent-escape (`%zz`)": COLLECTION_PATH + "/wc%zz",
    }


def _expect_head(probe: Probe, template: str, path: str) -> None:
    """HEAD: 405 with `Allow`, or the status the same GET gets; without keys, 401 or 405 (AUTH-01)."""
    get = probe.client.call("GET", path)
    head = probe.client.call("HEAD", path)
    ok = head.status in (405, get.status)
    probe.expect(
        "HTTP-05",
        ok,
        f"405, or the GET's status {get.status}, for HEAD {template}",
        f"status {head.status}",
        head,
        get,
    )
    if head.status == 405:
        expect_allow(probe, head, "HEAD", template)
    without_keys = probe.client.call("HEAD", path, identity=Credentials(None, None))
    probe.expect_status("AUTH-01", without_keys, {401, 405}, f"HEAD {template} without any key")


def _expect_connect(probe: Probe) -> None:
    """CONNECT to the collection path: an invalid request target, so any 4xx; but an answer (HTTP-05)."""
    answered = send_outside_the_api(probe, RawRequest("CONNECT", COLLECTION_PATH)) is not None
    probe.expect(
        "HTTP-05",
        answered,
        f"an answer (405, or any 4xx) to CONNECT {COLLECTION_PATH}",
        "the connection was closed without an answer",
    )


def _json_bytes(value: Any) -> bytes:
    return json.dumps(value).encode()
