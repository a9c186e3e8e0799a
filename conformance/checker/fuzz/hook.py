"""The transport hook: every request of the Schemathesis engine goes through `ObservedTransport` (checks' own
probes included). It sends by the run's one transport policy (`checker/transport.py`), leaves alone an
operation the client has given up on, marks generated writes as the run's, refuses a write that names a
record this engine did not create, and hands each answer to the run's observers (the ledger among them).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

import requests
from requests.structures import CaseInsensitiveDict
from schemathesis.core.transport import Response
from schemathesis.generation.case import Case
from schemathesis.transport.requests import REQUESTS_TRANSPORT, ManagedCookiesSession

from conformance.checker import attribution
from conformance.checker.client import Reply, WriteRefused
from conformance.checker.evidence import Exchange
from conformance.checker.profile import Credentials
from conformance.checker.run_state import RunState
from conformance.checker.transport import SAFE_METHODS, SENT_AS, StillTooManyRequests, unanswered_because
from conformance.contract import json_text
from conformance.contract.facts import CONTRACT

ENGINE_NAME = "schemathesis"
NOISE_HEADERS = frozenset(
    {"user-agent", "accept-encoding", "connection", "content-length", "x-schemathesis-testcaseid"}
)


@dataclass
class Sent:
    """One request this engine sent and the answer, as the target saw them."""

    method: str
    url: str
    headers: CaseInsensitiveDict
    body: bytes | None
    operation: str | None  # operationId of the route the request reached, None outside the spec
    reply: Reply

    @property
    def item_id(self) -> str | None:
        """The record id in an item path, decoded."""
        if self.operation is None or not CONTRACT.operation(self.operation).on_a_record:
            return None
        return unquote(urlsplit(self.url).path.rsplit("/", 1)[-1])


class ForeignRecordWrite(Exception):
    """A generated write would name a record that this run did not create; it was not sent."""


class Unanswered(Exception):
    """A request that got no usable answer (still 429 after the retries), or was not sent because its operation
    got none too often; the run's client has counted it, and the report's notes say so."""


class ObservedTransport:
    """Schemathesis's requests transport with the run's manners, the same as the checker's own client's: its
    sessions send by the run's transport policy (`TargetClient.transport`), no request goes to an operation the
    client has given up on, every request without a usable answer is counted by the client, and every answer
    is handed to the run's observers (the ledger among them)."""

    def __init__(self, state: RunState, deadline: float) -> None:
        self._inner = REQUESTS_TRANSPORT
        self._state = state
        self._deadline = deadline
        self._policy = state.client.transport
        # for a send that brings no session of its own
        self._session = self._policy.mount(ManagedCookiesSession(), deadline)
        self._base_path = urlsplit(state.profile.base_url).path.rstrip("/")
        self.traffic: dict[str, Sent] = {}  # case id -> the last request sent for it
        self.requests = 0
        self.ended = False  # its engine has ended (`run_schemathesis`)
        self.created: set[str] = set()
        self.deleted: set[str] = set()
        self.anchor: str | None = None  # the record generated updates go to (`anchor_record`): never deleted
        self.anchor_create: Exchange | None = None  # the request that created it
        self.anchor_write: Exchange | None = None  # the last update of it that the target accepted
        # case id -> the anchor's last accepted update when the case was sent: what the anchor held then
        self.anchor_state: dict[str, Exchange] = {}
        # Ids of records this engine saw but did not create: a write naming one is never sent.
        self.foreign: set[str] = {
            record["id"] for records in state.preexisting.values() for record in records if "id" in record
        }

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)  # serialisation and media types stay Schemathesis's own

    def send(self, case: Case, **kwargs: Any) -> Response:
        """Send as Schemathesis would, by the client's rules (see the class); then observe the answer."""
        if self.ended:  # a worker of Schemathesis's that outlived its engine: the run's cleanup may be under way
            raise KeyboardInterrupt
        client = self._state.client
        attribution.ENGINE.set(ENGINE_NAME)  # on whichever of Schemathesis's threads sends it
        self._state.current_check = ENGINE_NAME
        if client.read_only and case.method.upper() not in SAFE_METHODS:
            raise WriteRefused(f"{case.method} {case.path} not sent: the run is read-only")
        self._refuse_foreign_write(case)
        self._mark(case)
        operation = self.operation_of(case.method.upper(), self._base_path + case.formatted_path)
        refusal = client.refusal(operation)
        if refusal is not None:
            raise Unanswered(f"{case.method} {case.formatted_path}: {refusal}")
        kwargs["session"] = self._policy.mount(kwargs.get("session") or self._session, self._deadline)
        kwargs["allow_redirects"] = False
        self.requests += 1
        journaled = self._intend(case, operation)
        anchor_then = self.anchor_write
        SENT_AS.set(None)  # until it takes its place in flight: the client judges the target's silence by it
        try:
            response = self._inner.send(case, **kwargs)
        except requests.RequestException as error:
            problem = f"{case.method} {case.formatted_path}: {unanswered_because(error, self._state.profile.timeout)}"
            journaled.error = problem
            client.record_failure(operation, problem)
            if isinstance(error, StillTooManyRequests):
                raise Unanswered(problem) from error
            raise
        except BaseException as error:  # an interrupt: the write may have gone out all the same
            journaled.error = f"interrupted ({type(error).__name__})"
            raise
        vars(journaled).update(vars(self._observe(case, response)))  # the journaled write's answer
        if "json" in " ".join(response.headers.get("content-type", [])).lower():
            # Schemathesis's parsers recurse once per level (see json_text): it judges deep JSON as the checks
            # read it, deeper values as null; the evidence above keeps the bytes as they came.
            response.content = json_text.readable(response.content)
        if anchor_then is not None:
            self.anchor_state[case.id] = anchor_then
        return response

    def _refuse_foreign_write(self, case: Case) -> None:
        """The last line of the staging promise: no write names a record that is not this run's. A DELETE of
        the anchor is not sent either: every later generated update would meet a 404 and test nothing."""
        if case.method.upper() in ("GET", "HEAD", "OPTIONS"):
            return
        named = {case.path_parameters.get("webHookId") if case.path_parameters else None}
        if case.method.upper() == "DELETE" and self.anchor is not None and self.anchor in named:
            raise ForeignRecordWrite(f"kept the anchor record {self.anchor} that generated updates go to")
        if isinstance(case.body, dict):
            named.add(case.body.get("id"))
        touched = sorted(str(item) for item in named if isinstance(item, str) and item in self.foreign)
        if touched:
            raise ForeignRecordWrite(
                f"refused to send a {case.method} naming a record this engine did not create: {touched[0]}"
            )

    def _mark(self, case: Case) -> None:
        """Mark a generated write as this run's (`RunMark.mark_body`): a string shopId is prefixed with the run's
        own shop, or with --shop-id replaced by one of the user's (a null or missing one too); every URL carries
        the mark where inserting it keeps the body as valid or invalid as it was. A shopId of a wrong type is
        left alone: it is what a negative case tests, and a conformant target stores nothing for it."""
        if not isinstance(case.body, dict) or case.method.upper() not in ("POST", "PUT"):
            return
        shops = self._state.profile.shop_ids
        shop = shops[self.requests % len(shops)] if shops else None
        body = copy.deepcopy(case.body)  # Hypothesis may hold on to the generated value: it stays as generated
        if shop is not None and body.get("shopId") is None:
            body["shopId"] = shop
        self._state.mark.mark_body(body, shop)
        case.body = body

    def _intend(self, case: Case, operation: str | None) -> Exchange:
        """Journal a write before it is sent (`TargetClient.intend`); the exchange returned fills in later."""
        exchange = Exchange(case.method.upper(), self._state.profile.base_url + case.formatted_path, {}, None)
        if case.method.upper() not in SAFE_METHODS:
            body = case.body if isinstance(case.body, dict | list | str | int | float | bool) else None
            self._state.client.intend(operation, body, self._state.profile.primary, exchange)
        return exchange

    def _observe(self, case: Case, response: Response) -> Exchange:
        request = response.request
        method = (request.method or case.method).upper()
        url = request.url or ""
        body = request.body.encode("utf-8") if isinstance(request.body, str) else request.body
        headers = CaseInsensitiveDict(request.headers)
        operation = self.operation_of(method, url)
        identity = Credentials(headers.get(self._state.profile.partner_key_header), headers.get("Authorization"))
        reply_headers = CaseInsensitiveDict({name: ", ".join(values) for name, values in response.headers.items()})
        exchange = self._exchange(method, url, headers, body, response, reply_headers)
        reply = Reply(response.status_code, reply_headers, response.content, exchange, operation, identity)
        sent = Sent(method, url, headers, body, operation, reply)
        self.traffic[case.id] = sent
        self._track(sent)
        self._state.client.observe_external(reply)
        return exchange

    def operation_of(self, method: str, url: str) -> str | None:
        """The spec operation a request reaches, by its actual method and path (not the case's intent)."""
        path = urlsplit(url).path
        if not path.startswith(self._base_path):
            return None
        return CONTRACT.operation_at(method, path[len(self._base_path) :])

    def _track(self, sent: Sent) -> None:
        if not 200 <= sent.reply.status < 300:
            return
        answer = sent.reply.json_or_none()
        if sent.operation == "createWebHook" and isinstance(answer, dict) and isinstance(answer.get("id"), str):
            self.created.add(answer["id"])
            self.deleted.discard(answer["id"])
        elif sent.operation == "deleteWebHook" and sent.item_id is not None:
            self.deleted.add(sent.item_id)
        elif sent.operation == "updateWebHook" and sent.item_id is not None and sent.item_id == self.anchor:
            self.anchor_write = sent.reply.exchange
        if sent.operation in ("listWebHooks", "getWebHook"):
            records = answer.get("values") if isinstance(answer, dict) and "values" in answer else [answer]
            for record in records if isinstance(records, list) else []:
                if isinstance(record, dict) and isinstance(record.get("id"), str) and record["id"] not in self.created:
                    self.foreign.add(record["id"])

    def _exchange(
        self,
        method: str,
        url: str,
        headers: CaseInsensitiveDict,
        body: bytes | None,
        response: Response,
        reply_headers: CaseInsensitiveDict,
    ) -> Exchange:
        """The exchange as evidence (the transport policy's), Schemathesis's bookkeeping headers left out."""
        shown = {
            name: str(value)
            for name, value in headers.items()
            if name.lower() not in NOISE_HEADERS and not (name.lower() == "accept" and value == "*/*")
        }
        exchange = self._policy.request_evidence(method, url, shown, body)
        elapsed_ms = response.elapsed * 1000
        self._policy.answer_evidence(exchange, response.status_code, reply_headers, response.content, elapsed_ms)
        return exchange


def route_through(schema: Any, transport: ObservedTransport) -> None:
    """Make the schema (and its clones) send every request through `transport`.

    Schemathesis reads the transport from the schema's `transport` property, for generated cases and for
    the probes its checks send alike; a subclass for this one schema is the narrowest way to replace it.
    """
    schema.__class__ = type("ObservedOpenApiSchema", (type(schema),), {"transport": property(lambda _self: transport)})
