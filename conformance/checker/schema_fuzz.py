"""The Schemathesis engine: requests generated from the spec, their answers judged by the contract.

Schemathesis 4 (its Python API) generates requests from `openapi/partner-webhooks.yaml` in four phases:
the spec's examples, coverage of every constraint's edges, random fuzzing in positive and negative mode
(with the contract's edge values mixed in through fuzz dictionaries, `EDGE_VALUES`), and stateful
sequences along the spec's links (create -> get / update / delete). Its built-in checks judge each answer;
`CHECKS` says, for every one of them, which requirement its verdict is about, or why it is off.

The spec describes what a server that meets every MUST *and* SHOULD accepts, and its URL pattern is
stricter still. So a request Schemathesis calls invalid is judged again by the contract's own rules
(`RequestRules`) before a server that accepts it is blamed: for the MUST it breaks, else the SHOULD, else
(only the spec forbids it) not at all. A request it calls valid is blamed on the server only when the
contract, too, promises to accept it.

Every request goes through `ObservedTransport` (checks' own probes included): it sends by the run's one
transport policy (`transport`: the rate limit, 429s waited out, no redirect followed, answers capped in size
and time, the evidence), leaves alone an operation the client has given up on, and hands each answer to the
run's observers, so the ledger deletes whatever this engine created, and the every-answer checks (HTTP-01 to
HTTP-04, HTTP-06) judge this traffic as well. Only Schemathesis's two start-up probes (read-only GETs of
unknown paths) go around it; they take their turns of the run's rate limit all the same (`START_UP_PROBES`).

Staging safety: ids are never taken from earlier answers (a list shows records that are not ours). A
write names a record only along the links from this engine's own creates, or the one record it creates
for updates to work on (`anchor_record`), or an id drawn at random; the spec's sample record id is swapped
for one unique to this run; and the transport refuses any write that names a record it saw but did not
create.
"""

from __future__ import annotations

import copy
import json
import re
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv6Address, ip_address, ip_network
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import requests
import schemathesis
from requests.structures import CaseInsensitiveDict
from schemathesis.core.failures import Failure
from schemathesis.core.parameters import ParameterLocation
from schemathesis.core.transport import Response
from schemathesis.engine import Status, StopReason, events
from schemathesis.engine.recorder import ScenarioRecorder
from schemathesis.engine.run import PhaseName
from schemathesis.engine.run.probes import PROBES as START_UP_PROBES
from schemathesis.generation.case import Case
from schemathesis.generation.meta import CoveragePhaseData, CoverageScenario
from schemathesis.openapi.checks import IgnoredAuth, MissingHeaderNotRejected
from schemathesis.transport.requests import REQUESTS_TRANSPORT, ManagedCookiesSession

from conformance.catalogue import requirement
from conformance.checker.client import COLLECTION_PATH, Reply, TransportError, WriteRefused
from conformance.checker.engine import RunAborted, Say, WholeEngine
from conformance.checker.evidence import Exchange
from conformance.checker.profile import Credentials, TargetProfile
from conformance.checker.results import Finding
from conformance.checker.run_state import RunState, Tally, engine_summary
from conformance.checker.transport import SAFE_METHODS, StillTooManyRequests, Turn, unanswered_because
from conformance.spec import SpecError

TIME_SHARE = 0.4  # of the budget's time limit; the other engines need the rest
EVIDENCE_PER_FINDING = 4  # exchanges kept per finding: the failing one and what led to it
NOISE_HEADERS = frozenset(
    {"user-agent", "accept-encoding", "connection", "content-length", "x-schemathesis-testcaseid"}
)
MAX_URLS, MAX_URL_LENGTH = 10, 2048
MAX_LIMIT = 100  # a larger list limit is clamped to it (LIST-08)
# VALID-08's list: loopback, private, link-local (which holds the cloud metadata address).
INTERNAL_NETWORKS = tuple(
    ip_network(net)
    for net in ("127.0.0.0/8", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16", "::1/128")
)
QUERY_INTEGER = re.compile(r"[+-]?[0-9]+")
INT64_MAX = 2**63 - 1  # a larger start or limit is past what the contract can be read to promise
VALIDATION_STATUSES = frozenset({400, 413, 415})  # answers that say "your input is invalid"


# -- the contract's rules for a request -------------------------------------------------------------------


@dataclass(frozen=True)
class Break:
    """A contract rule that a request breaks: the requirement and what about the request breaks it."""

    requirement_id: str
    reason: str

    @property
    def is_must(self) -> bool:
        return requirement(self.requirement_id).level == "MUST"


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
        if self.operation not in ("getWebHook", "updateWebHook", "deleteWebHook"):
            return None
        return unquote(urlsplit(self.url).path.rsplit("/", 1)[-1])


@dataclass(frozen=True)
class RequestRules:
    """The contract's rules for a request, in the words the spec gives them: the event types, and which
    record fields a client writes and which the server owns (`readOnly` in the spec)."""

    profile: TargetProfile
    event_types: frozenset[str]
    client_fields: frozenset[str]
    server_fields: frozenset[str]

    @classmethod
    def of(cls, profile: TargetProfile, spec: dict[str, Any]) -> RequestRules:
        try:
            schemas = spec["components"]["schemas"]
            fields = schemas["PartnerWebHook"]["properties"]
            event_types = frozenset(schemas["WebHookType"]["enum"])
        except (KeyError, TypeError) as error:
            raise SpecError(f"the spec lacks {error}, which the Schemathesis engine reads") from None
        server = frozenset(name for name, schema in fields.items() if schema.get("readOnly"))
        return cls(profile, event_types, frozenset(fields) - server, server)

    def breaks(self, sent: Sent) -> list[Break]:
        """Every rule the request breaks, MUST before SHOULD (empty: the contract calls it valid)."""
        breaks = self.key_breaks(sent.headers)
        if sent.operation == "createWebHook":
            breaks += self.body_breaks(sent.body)
        elif sent.operation == "updateWebHook":
            breaks += [as_update(item) for item in self.body_breaks(sent.body)]
        elif sent.operation == "listWebHooks":
            breaks += self.query_breaks(urlsplit(sent.url).query)
        return sorted(breaks, key=lambda item: not item.is_must)

    def key_breaks(self, headers: CaseInsensitiveDict) -> list[Break]:
        """AUTH-01 for a key left out, AUTH-02 for a key that is not the profile's."""
        profile = self.profile
        known = {
            profile.partner_key_header: {profile.partner_key},
            "Authorization": {profile.developer_key, profile.second_developer_key or profile.developer_key},
        }
        breaks = []
        for header, keys in known.items():
            sent = headers.get(header)
            if sent is None:
                breaks.append(Break("AUTH-01", f"no `{header}` header"))
            elif sent not in keys:
                breaks.append(Break("AUTH-02", f"an unknown key in `{header}`"))
        return breaks

    def body_breaks(self, raw: bytes | None) -> list[Break]:
        """The rules of VALID-01 to VALID-05 and VALID-07 to VALID-09 that a create body breaks."""
        body, problem = _json_object(raw)
        if problem:
            return [Break("VALID-04", problem)]
        assert body is not None
        breaks = _urls_breaks(body)
        if body.get("url") is not None:
            breaks += [Break(item.requirement_id, f"url: {item.reason}") for item in url_breaks(body["url"])]
        kind = body.get("webHookType")
        if kind is not None and not isinstance(kind, str):
            breaks.append(Break("VALID-05", f"webHookType is a JSON {_json_type(kind)}"))
        elif kind is not None and kind not in self.event_types:
            breaks.append(Break("VALID-03", f"webHookType {_short(kind)} is not an event type"))
        shop = body.get("shopId")
        if shop is not None and not isinstance(shop, str):
            breaks.append(Break("VALID-05", f"shopId is a JSON {_json_type(shop)}"))
        return breaks

    def query_breaks(self, query: str) -> list[Break]:
        """The LIST-06 rules a list query breaks. A repeated or empty parameter is left alone: the contract
        does not say whether `start=` or `start=1&start=2` is an error or the default."""
        params = parse_qs(query, keep_blank_values=True)
        breaks = []
        for name, lowest in (("start", 0), ("limit", 1)):
            values = params.get(name, [])
            if len(values) != 1 or values[0] == "":
                continue
            if not QUERY_INTEGER.fullmatch(values[0]):
                breaks.append(Break("LIST-06", f"{name}={_short(values[0])} is not an integer"))
            elif int(values[0]) < lowest:
                breaks.append(Break("LIST-06", f"{name}={values[0]} is below {lowest}"))
        kinds = params.get("type", [])
        if len(kinds) == 1 and kinds[0] and kinds[0] not in self.event_types:
            breaks.append(Break("LIST-06", f"type={_short(kinds[0])} is not an event type"))
        return breaks

    def unknown_fields(self, body: dict[str, Any] | None) -> list[str]:
        """The body's fields that are neither a client's nor the server's."""
        return sorted(set(body or {}) - self.client_fields - self.server_fields)


def _urls_breaks(body: dict[str, Any]) -> list[Break]:
    urls = body.get("webHookUrls")
    if urls is None or urls == []:
        return [Break("VALID-01", "webHookUrls is missing, null or empty")]
    if not isinstance(urls, list):
        return [Break("VALID-05", f"webHookUrls is a JSON {_json_type(urls)}, not an array")]
    breaks = [
        Break(item.requirement_id, f"webHookUrls[{index}]: {item.reason}")
        for index, url in enumerate(urls)
        for item in url_breaks(url)
    ]
    if len(urls) > MAX_URLS:
        breaks.append(Break("VALID-07", f"webHookUrls has {len(urls)} items, more than {MAX_URLS}"))
    if all(isinstance(item, str) for item in urls) and len(set(urls)) != len(urls):
        breaks.append(Break("VALID-07", "webHookUrls repeats a URL"))
    return breaks


def url_breaks(value: Any) -> list[Break]:
    """VALID-02 for what is not an absolute http(s) URL; else VALID-07, -09 or -08 for the SHOULD it breaks.

    Only what is plainly not an absolute http(s) URL counts against the MUST (no scheme or another one, no
    host); odd but parseable URLs are left alone, since the contract does not say more.
    """
    if not isinstance(value, str):
        return [Break("VALID-02", f"a JSON {_json_type(value)}, not a URL")]
    try:
        parts = urlsplit(value)
        host = parts.hostname
    except ValueError:
        return [Break("VALID-02", f"{_short(value)} does not parse as a URL")]
    if parts.scheme.lower() not in ("http", "https") or not host:
        return [Break("VALID-02", f"{_short(value)} is not an absolute http or https URL")]
    breaks = []
    if len(value) > MAX_URL_LENGTH:
        breaks.append(Break("VALID-07", f"a URL of {len(value)} characters, more than {MAX_URL_LENGTH}"))
    if parts.scheme.lower() == "http":
        breaks.append(Break("VALID-09", f"{_short(value)} is plain http"))
    if _is_internal(host):
        breaks.append(Break("VALID-08", f"{_short(value)} points to a loopback, private or link-local host"))
    return breaks


def _is_internal(host: str) -> bool:
    if host.lower().rstrip(".") == "localhost":
        return True
    try:
        address: IPv4Address | IPv6Address = ip_address(host)
    except ValueError:
        return False
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in network for network in INTERNAL_NETWORKS if network.version == address.version)


def query_integers(query: str, name: str) -> list[int]:
    """The integer values of one query parameter."""
    return [int(value) for value in parse_qs(query).get(name, []) if QUERY_INTEGER.fullmatch(value)]


def as_update(item: Break) -> Break:
    """On an update, VALID-01 to VALID-05 are UPDATE-06 (the SHOULDs keep their own IDs)."""
    if item.requirement_id in ("VALID-01", "VALID-02", "VALID-03", "VALID-04", "VALID-05"):
        return Break("UPDATE-06", f"{item.reason} ({item.requirement_id})")
    return item


def _json_object(raw: bytes | None) -> tuple[dict[str, Any] | None, str | None]:
    """The body as a JSON object, or why it is not one."""
    if not raw:
        return None, "no body"
    try:
        value = json.loads(raw.decode("utf-8"), parse_constant=_not_json)
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None, "a body that is not JSON"
    if not isinstance(value, dict):
        return None, f"a JSON {_json_type(value)}, not an object"
    return value, None


def _not_json(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _json_type(value: Any) -> str:
    names = {bool: "boolean", int: "number", float: "number", str: "string", list: "array", dict: "object"}
    return "null" if value is None else names.get(type(value), type(value).__name__)


def _short(value: str, limit: int = 60) -> str:
    return repr(value if len(value) <= limit else value[:limit] + "...")


# -- what each built-in check's verdict means ------------------------------------------------------------


@dataclass
class Seen:
    """A check's verdict on one exchange, with what is needed to judge it by the contract."""

    check: str
    case: Case
    sent: Sent
    failure: Failure | None
    rules: RequestRules
    ours: Callable[[str], bool]  # whether an id names a record this engine created
    deleted: Callable[[str], bool]  # whether this engine deleted it

    @property
    def status(self) -> int:
        return self.sent.reply.status

    @property
    def negative(self) -> bool:
        meta = self.case.meta
        return meta is not None and meta.generation.mode.is_negative

    @property
    def coverage(self) -> CoveragePhaseData | None:
        data = self.case.meta.phase.data if self.case.meta is not None else None
        return data if isinstance(data, CoveragePhaseData) else None


# A check use says which requirements a verdict speaks to: on a failure, the first is blamed; on a pass,
# each is counted as exercised. Empty: this verdict says nothing the contract asks for.
About = Callable[[Seen], list[Break]]


def _negative_data(seen: Seen) -> list[Break]:
    """Invalid data accepted: the contract rule the request breaks (none when only the spec forbids it)."""
    if not seen.negative or (seen.failure is None and seen.status not in VALIDATION_STATUSES):
        return []  # a 404 for a drawn id, say, shows nothing about validation
    breaks = seen.rules.breaks(seen.sent)
    if seen.failure is None and len({item.requirement_id for item in breaks}) != 1:
        return []  # rejected, but for which of several reasons is not known
    return breaks


def _positive_data(seen: Seen) -> list[Break]:
    """Valid data rejected: blamed only when the contract, too, promises to accept the request."""
    if seen.negative or seen.rules.breaks(seen.sent):
        return []
    operation, sent = seen.sent.operation, seen.sent
    if operation == "createWebHook" and (seen.failure is not None or 200 <= seen.status < 300):
        unknown = seen.rules.unknown_fields(_json_object(sent.body)[0])
        if unknown:
            return [Break("CREATE-07", f"a valid body with the unknown field(s) {', '.join(unknown[:5])}")]
        return [Break("CREATE-01", "a valid body")]
    if operation == "listWebHooks" and (seen.failure is not None or seen.status == 200):
        query = urlsplit(sent.url).query
        numbers = query_integers(query, "start") + query_integers(query, "limit")
        if any(abs(number) > INT64_MAX for number in numbers):
            return []
        if any(limit > MAX_LIMIT for limit in query_integers(query, "limit")):
            return [Break("LIST-08", "a limit above 100, to be clamped")]
        return [Break("LIST-01", "a valid query")]
    return _item_answer(seen)


def _item_answer(seen: Seen) -> list[Break]:
    """A valid GET, PUT or DELETE of one record: of ours, it must act; of a drawn id, it must be 404."""
    record_id, operation = seen.sent.item_id, seen.sent.operation
    if record_id is None:
        return []
    if operation == "updateWebHook":
        body, _ = _json_object(seen.sent.body)
        if body is not None and "id" in body and body["id"] != record_id:
            return []  # the contract lets a server reject a body id that differs from the path
        if seen.rules.unknown_fields(body):
            return []  # the contract is silent on unknown fields in an update
    if seen.ours(record_id) and not seen.deleted(record_id):
        live = {"getWebHook": "READ-01", "updateWebHook": "UPDATE-01", "deleteWebHook": "DELETE-01"}[operation]
        ok = seen.failure is not None or 200 <= seen.status < 300
        return [Break(live, f"a valid {seen.sent.method} of a record just created")] if ok else []
    if seen.ours(record_id):
        return []  # deleted: DELETE-02, use_after_free's business
    absent = {"getWebHook": "READ-02", "updateWebHook": "UPDATE-05", "deleteWebHook": "DELETE-03"}[operation]
    ok = seen.failure is not None or seen.status == 404
    return [Break(absent, f"a valid {seen.sent.method} of an id that names no record")] if ok else []


def _ignored_auth(seen: Seen) -> list[Break]:
    """A call without keys (AUTH-01), or with a wrong one (AUTH-02), that was served."""
    if isinstance(seen.failure, IgnoredAuth):
        kind = "AUTH-01" if seen.failure.scenario == "no_auth" else "AUTH-02"
        return [Break(kind, seen.failure.title)]
    if seen.failure is None and 200 <= seen.status < 300 and not seen.rules.key_breaks(seen.sent.headers):
        return [Break("AUTH-01", "served with keys; refused without"), Break("AUTH-02", "refused with a wrong key")]
    return []


def _missing_key_header(seen: Seen) -> list[Break]:
    """A call that leaves out a key header must get 401 (the spec's only header parameters are the keys)."""
    if isinstance(seen.failure, MissingHeaderNotRejected):
        return [Break("AUTH-01", f"no `{seen.failure.header_name}` header")]
    data = seen.coverage
    left_out = data is not None and data.scenario == CoverageScenario.MISSING_PARAMETER
    if seen.failure is None and data is not None and left_out and data.parameter_location == ParameterLocation.HEADER:
        return [Break("AUTH-01", f"no `{data.parameter}` header")] if seen.status == 401 else []
    return []


def _undefined_method(seen: Seen) -> list[Break]:
    """A method the path does not define gets 405 with an Allow header (HTTP-05)."""
    data = seen.coverage
    undefined = data is not None and data.scenario == CoverageScenario.UNSPECIFIED_HTTP_METHOD
    if seen.failure is not None or (undefined and seen.status == 405):
        return [Break("HTTP-05", f"{seen.sent.method} is not defined on this path")]
    return []


def _allow_header(seen: Seen) -> list[Break]:
    """An OPTIONS answer's Allow header names exactly the path's methods (HTTP-05)."""
    if seen.failure is not None or (seen.sent.method == "OPTIONS" and "Allow" in seen.sent.reply.headers):
        return [Break("HTTP-05", "the Allow header of an OPTIONS answer")]
    return []


def _use_after_free(seen: Seen) -> list[Break]:
    """A record this engine deleted must be gone (DELETE-02)."""
    record_id = seen.sent.item_id
    gone = record_id is not None and seen.deleted(record_id) and seen.sent.operation == "getWebHook"
    if seen.failure is not None or (gone and seen.status == 404):
        return [Break("DELETE-02", "a GET of a record just deleted")]
    return []


def _resource_availability(seen: Seen) -> list[Break]:
    """A record just created can be read, replaced and deleted by its id (READ-01, UPDATE-01, DELETE-01)."""
    record_id, operation = seen.sent.item_id, seen.sent.operation
    if record_id is None or operation is None or not seen.ours(record_id) or seen.deleted(record_id):
        return []
    if seen.failure is None and not 200 <= seen.status < 300:
        return []
    live = {"getWebHook": "READ-01", "updateWebHook": "UPDATE-01", "deleteWebHook": "DELETE-01"}[operation]
    return [Break(live, f"a {seen.sent.method} of a record just created")]


@dataclass(frozen=True)
class CheckUse:
    """How this engine uses one built-in Schemathesis check: what its verdict is about, or why it is off."""

    about: About | None
    note: str  # what the verdict is about, or why the check is off
    settings: dict[str, Any] = field(default_factory=dict)


# Every built-in check of Schemathesis 4.32, one row each (`_assert_every_check_decided` keeps it so).
CHECKS: dict[str, CheckUse] = {
    "not_a_server_error": CheckUse(
        None, "off: the run's ResponseObserver judges every answer of this engine for HTTP-01 (any 5xx)"
    ),
    "status_code_conformance": CheckUse(
        None, "off: the ResponseObserver judges every answer for HTTP-06 against the same spec"
    ),
    "content_type_conformance": CheckUse(
        None, "off: the ResponseObserver judges every answer's Content-Type for HTTP-02"
    ),
    "response_schema_conformance": CheckUse(
        None, "off: the ResponseObserver validates 2xx bodies (HTTP-02) and 4xx Error bodies (HTTP-03)"
    ),
    "response_headers_conformance": CheckUse(
        None,
        "off: the only documented response header is a 429's Retry-After, and the contract allows a 429 at "
        "any time (this engine waits it out), so a verdict would belong to no requirement",
    ),
    "positive_data_acceptance": CheckUse(_positive_data, "CREATE-01/-07, UPDATE-01/-05, LIST-01, READ-01/-02 ..."),
    "negative_data_rejection": CheckUse(_negative_data, "the AUTH, VALID, UPDATE-06 or LIST-06 rule broken"),
    "use_after_free": CheckUse(_use_after_free, "DELETE-02"),
    "ensure_resource_availability": CheckUse(_resource_availability, "READ-01, UPDATE-01, DELETE-01"),
    "missing_required_header": CheckUse(
        _missing_key_header,
        "AUTH-01: the key headers are the spec's only header parameters, and AUTH-01 asks for exactly 401",
        {"expected-statuses": ["401", "429"]},
    ),
    "ignored_auth": CheckUse(_ignored_auth, "AUTH-01 (no keys), AUTH-02 (a wrong key)"),
    "object_level_authorization": CheckUse(
        None,
        "off: it replays reads as the other identities of Schemathesis's WFC auth, which this engine does "
        "not configure; the tenancy scenarios check TENANT-01 to TENANT-04 with the second key",
    ),
    "unsupported_method": CheckUse(_undefined_method, "HTTP-05"),
    "allow_header_conformance": CheckUse(_allow_header, "HTTP-05"),
    "max_response_time": CheckUse(
        None, "off: the contract sets no response time; the profile's request timeout bounds each call"
    ),
}

COVERS: tuple[str, ...] = (
    "AUTH-01",
    "AUTH-02",
    "CREATE-01",
    "CREATE-07",
    "VALID-01",
    "VALID-02",
    "VALID-03",
    "VALID-04",
    "VALID-05",
    "VALID-07",
    "VALID-08",
    "VALID-09",
    "READ-01",
    "READ-02",
    "UPDATE-01",
    "UPDATE-05",
    "UPDATE-06",
    "LIST-01",
    "LIST-06",
    "LIST-08",
    "DELETE-01",
    "DELETE-02",
    "DELETE-03",
    "HTTP-01",
    "HTTP-02",
    "HTTP-03",
    "HTTP-04",
    "HTTP-05",
    "HTTP-06",
)

# The operations whose requests can speak to a requirement group; AUTH and HTTP concern every operation.
OPERATION_GROUPS: dict[str, frozenset[str]] = {
    "createWebHook": frozenset({"CREATE", "VALID", "READ", "UPDATE", "DELETE"}),  # stateful runs start here
    "listWebHooks": frozenset({"LIST"}),
    "getWebHook": frozenset({"READ", "DELETE"}),
    "updateWebHook": frozenset({"UPDATE", "VALID"}),
    "deleteWebHook": frozenset({"DELETE"}),
}


# -- the transport every request of this engine goes through ----------------------------------------------


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
        self.created: set[str] = set()
        self.deleted: set[str] = set()
        self.anchor: str | None = None  # the record generated updates go to (`anchor_record`): never deleted
        # Ids of records this engine saw but did not create: a write naming one is never sent.
        self.foreign: set[str] = {
            record["id"] for records in state.preexisting.values() for record in records if "id" in record
        }

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)  # serialisation and media types stay Schemathesis's own

    def send(self, case: Case, **kwargs: Any) -> Response:
        """Send as Schemathesis would, by the client's rules (see the class); then observe the answer."""
        client = self._state.client
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
        if not path.startswith(self._base_path + COLLECTION_PATH):
            return None
        rest = path[len(self._base_path + COLLECTION_PATH) :]
        if rest == "":
            return {"GET": "listWebHooks", "POST": "createWebHook"}.get(method)
        if rest.count("/") == 1 and len(rest) > 1:
            return {"GET": "getWebHook", "PUT": "updateWebHook", "DELETE": "deleteWebHook"}.get(method)
        return None

    def _track(self, sent: Sent) -> None:
        if not 200 <= sent.reply.status < 300:
            return
        answer = sent.reply.json_or_none()
        if sent.operation == "createWebHook" and isinstance(answer, dict) and isinstance(answer.get("id"), str):
            self.created.add(answer["id"])
            self.deleted.discard(answer["id"])
        elif sent.operation == "deleteWebHook" and sent.item_id is not None:
            self.deleted.add(sent.item_id)
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


def _route_through(schema: Any, transport: ObservedTransport) -> None:
    """Make the schema (and its clones) send every request through `transport`.

    Schemathesis reads the transport from the schema's `transport` property, for generated cases and for
    the probes its checks send alike; a subclass for this one schema is the narrowest way to replace it.
    """
    schema.__class__ = type("ObservedOpenApiSchema", (type(schema),), {"transport": property(lambda _self: transport)})


# -- one engine run ---------------------------------------------------------------------------------------


def run_schemathesis(state: RunState, say: Say) -> None:
    """Run Schemathesis against the target and record its verdicts as requirement results."""
    if not state.selected(COVERS):
        return
    started = time.monotonic()
    before = Tally.of(state)
    deadline = started + TIME_SHARE * state.budget.time_limit
    if state.client.deadline is not None:
        deadline = min(deadline, state.client.deadline)
    transport = ObservedTransport(state, deadline)
    operations = selected_operations(state)
    read_only = state.client.read_only
    anchor = anchor_record(state) if not read_only and (operations is None or "updateWebHook" in operations) else None
    if anchor is not None:
        transport.created.add(anchor)
        transport.anchor = anchor
    schema = schemathesis.openapi.from_dict(target_spec(state), config=engine_config(state, anchor))
    if operations is not None:
        schema = schema.include(operation_id=operations)
    if read_only:  # and the transport refuses the other methods that checks and the coverage phase try
        schema = schema.include(method="GET")
    _route_through(schema, transport)
    # Its start-up probes go out first, on sessions of Schemathesis's own: their turns are taken here, and
    # finished when its probing phase ends.
    probes = [state.client.transport.limiter.take() for _ in START_UP_PROBES]
    recorder = VerdictRecorder(state, transport)
    try:
        stop_reason = recorder.follow(schemathesis.engine.from_schema(schema).execute(), deadline, probes)
    finally:
        for turn in probes:
            turn.finish()
    say(engine_summary("schemathesis", state, before, recorder.in_words(state)))
    if stop_reason == StopReason.MAX_TIME or recorder.stopped_early:
        for requirement_id in COVERS:
            state.results.not_run(requirement_id, "schemathesis: its share of the budget's time ran out")
    if stop_reason == StopReason.SERVER_UNAVAILABLE or recorder.target_silent:
        raise RunAborted("the target stopped answering during the Schemathesis run")


ENGINE = WholeEngine("schemathesis", COVERS, run_schemathesis)

# What the checker itself did, for the report's notes: neither is a fault of the target.
UNBACKED_NOTE = (
    "failed Schemathesis check(s) were set aside, not reported: the checker's own filter keeps only failures the "
    "contract backs (Schemathesis reads the spec more strictly than the contract in places, or the record was "
    "deleted meanwhile). They say nothing against the target."
)
HELD_BACK_NOTE = (
    "generated write(s) were held back, never sent: the checker's staging guard lets Schemathesis change only "
    "records this run created (and nothing in a read-only run). They say nothing against the target."
)


class VerdictRecorder:
    """Turns the engine's event stream into requirement results: findings for failed checks that the
    contract backs, exercised marks for passed ones that speak to a requirement."""

    def __init__(self, state: RunState, transport: ObservedTransport) -> None:
        self.state = state
        self.transport = transport
        self.rules = RequestRules.of(state.profile, state.spec)
        self.unbacked = 0
        self.stopped_early = False
        self.errors = 0
        self.refused = 0  # generated writes not sent: they named a record it did not create, or the run is read-only
        self.unanswered = 0  # requests without a usable answer, or not sent: their operation got none too often
        self.target_silent = False  # the target stopped answering: the engine was stopped
        self._errors: Counter[str] = Counter()

    def in_words(self, state: RunState) -> str:
        """What the engine's own filter and the staging guard did, briefly for the console line; the report's
        notes get the plain explanation (they are the checker at work, not faults of the target)."""
        said = []
        explained = (
            (self.unbacked, "of its failed checks set aside", UNBACKED_NOTE),
            (self.refused, "writes held back", HELD_BACK_NOTE),
        )
        for count, short, note in explained:
            if count:
                said.append(f"{count} {short}")
                state.results.notes["schemathesis"].append(f"{count} {note}")
        if self.errors:
            said.append(f"{self.errors} engine errors (see the notes)")
        if self.unanswered:
            said.append(f"{self.unanswered} requests without a usable answer")
        return ", ".join(said)

    def follow(self, stream: Any, deadline: float, probes: Sequence[Turn] = ()) -> StopReason | None:
        """Consume the events until the engine finishes (stopping it at the deadline); the stop reason. `probes`
        are the turns of the rate limit that its start-up probes went out in: finished with its probing phase."""
        stop_reason = None
        interrupted = False
        for event in stream:
            if time.monotonic() > deadline and not self.stopped_early:
                self.stopped_early = True
                stream.stop()
            if self.state.client.stopped_answering and not self.target_silent:
                self.target_silent = True
                stream.stop()
            if isinstance(event, events.PhaseFinished) and event.phase.name == PhaseName.PROBING:
                for turn in probes:
                    turn.finish()
            if isinstance(event, events.ScenarioFinished):
                self.record(event.recorder)
            elif isinstance(event, events.NonFatalError) and isinstance(event.value, ForeignRecordWrite | WriteRefused):
                self.refused += 1  # a guard did its job: not an error of the engine or the target
            elif isinstance(event, events.NonFatalError) and isinstance(event.value, Unanswered):
                self.unanswered += 1  # the client counted it: the report's notes say what the target did
            elif isinstance(event, events.NonFatalError):
                self._errors[str(event.value).splitlines()[0][:200] if str(event.value) else event.label] += 1
            elif isinstance(event, events.Interrupted):
                interrupted = True
                stream.stop()  # a worker thread was interrupted: the other phases must not start
            elif isinstance(event, events.EngineFinished):
                stop_reason = event.stop_reason
        for message, count in self._errors.items():
            self.state.results.notes["schemathesis"].append(f"{message} (x{count})")
        self.errors = sum(self._errors.values())
        if interrupted and not self.stopped_early:  # our own stop at the deadline is not the user's Ctrl-C
            raise KeyboardInterrupt
        return stop_reason

    def record(self, recorder: ScenarioRecorder) -> None:
        """Judge every check verdict of one finished scenario."""
        for case_id, nodes in recorder.checks.items():
            sent = self.transport.traffic.get(case_id)
            node = recorder.cases.get(case_id)
            if sent is None or node is None:
                continue
            for verdict in nodes:
                use = CHECKS.get(verdict.name)
                if use is None or use.about is None or verdict.status == Status.ERROR:
                    continue
                failure = verdict.failure_info.failure if verdict.failure_info is not None else None
                seen = Seen(
                    verdict.name,
                    node.value,
                    sent,
                    failure,
                    self.rules,
                    self.transport.created.__contains__,
                    self.transport.deleted.__contains__,
                )
                self._judge(seen, use.about(seen), recorder, case_id)

    def _judge(self, seen: Seen, breaks: list[Break], recorder: ScenarioRecorder, case_id: str) -> None:
        check = f"schemathesis:{seen.check}"
        if seen.failure is None:
            for item in breaks:
                self.state.results.exercised(item.requirement_id, check, seen.sent.operation)
            return
        if not breaks:
            self.unbacked += 1
            return
        blamed = breaks[0]
        self.state.results.fail(
            Finding(
                blamed.requirement_id,
                check,
                _expected(seen, blamed),
                _actual(seen, blamed),
                self._evidence(seen, recorder, case_id),
                operation=seen.sent.operation,
            )
        )

    def _evidence(self, seen: Seen, recorder: ScenarioRecorder, case_id: str) -> list[Exchange]:
        """The failing exchange, after what led to it: the case it derives from and related cases."""
        assert seen.failure is not None
        ids: list[str] = []
        parent = recorder.cases[case_id].parent_id if case_id in recorder.cases else None
        for item in (parent, *seen.failure.related_case_ids(), case_id, seen.failure.case_id):
            if item is not None and item not in ids and item in self.transport.traffic:
                ids.append(item)
        return [self.transport.traffic[item].reply.exchange for item in ids][-EVIDENCE_PER_FINDING:]


def _expected(seen: Seen, blamed: Break) -> str:
    if seen.check == "negative_data_rejection":
        return f"a 4xx answer to {blamed.reason}"
    return blamed.reason


def _actual(seen: Seen, blamed: Break) -> str:
    assert seen.failure is not None
    status = seen.sent.reply.status
    if seen.check in ("negative_data_rejection", "positive_data_acceptance"):
        return f"{status} for {blamed.reason}: {_body_hint(seen.sent.reply)}"
    message = seen.failure.message.strip().splitlines()[0] if seen.failure.message else ""
    return f"{seen.failure.title}: {message}" if message else seen.failure.title


def _body_hint(reply: Reply) -> str:
    text = reply.text.strip().replace("\n", " ")
    return f"body {text[:160]!r}" if text else "no body"


# -- configuration ----------------------------------------------------------------------------------------

# The contract's edge values, which a generator that only knows the spec's pattern would hardly draw:
# Schemathesis's fuzz dictionaries mix them into generated requests (an entry the spec rejects goes into
# negative cases only). Name -> (values, where they go).
EDGE_VALUES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "contract-urls": (
        (
            "http://hooks.example.com/wc/plain-http",  # VALID-09
            "https://127.0.0.1/wc",  # VALID-08
            "https://localhost/wc",
            "https://[::1]/wc",
            "https://10.0.0.8/wc",
            "https://192.168.1.20/wc",
            "https://169.254.169.254/latest/meta-data",
            "/wc/relative",  # VALID-02
            "hooks.example.com/wc/no-scheme",
            "javascript:alert(1)",
            "ftp://hooks.example.com/wc",
            "file:///etc/passwd",
            "https://hooks.example.com/" + "w" * 2100,  # VALID-07
        ),
        ("body.webHookUrls[*]", "body.url"),
    ),
    "contract-types": (
        ("new_member", "Update_Product", "NEW-MEMBER", "UNKNOWN_EVENT"),  # VALID-03, LIST-06
        ("body.webHookType", "query.type"),
    ),
    "contract-integers": (("-1", "0", "1.5", "1e2", "ten", "101", "1000"), ("query.start", "query.limit")),
    "contract-ids": (  # READ-02: any string names no record
        ("x" * 300, "..", ".", "a/b", "%2F", "ünïcödé-ид", "' OR '1'='1"),
        ("path.webHookId",),
    ),
}
EDGE_PROBABILITY = 0.25
FUZZING_FACTOR = 2  # fuzzing examples per budget example: the phase that draws the edge values


def anchor_record(state: RunState) -> str | None:
    """A record of this run for generated updates to work on (a PUT of a drawn id only ever meets a 404,
    which says nothing about UPDATE-01 or UPDATE-06); None when the target would not create one."""
    body = {
        "shopId": state.new_shop_id(),
        "webHookType": "NEW_CONSUMER_ORDER",
        "webHookUrls": [state.mark.url("schemathesis")],
    }
    try:
        reply = state.client.create(body)
    except TransportError:
        return None
    record = reply.json_or_none()
    created = reply.status in (200, 201) and isinstance(record, dict) and isinstance(record.get("id"), str)
    return record["id"] if created else None


def engine_config(state: RunState, anchor: str | None = None) -> schemathesis.Config:
    """Schemathesis's configuration for this run: target, keys, seed, budget, phases and checks.

    `anchor` is the id every generated update is sent to (see `anchor_record`).
    """
    budget = state.budget
    pinned = [{"include-operation-id": "updateWebHook", "parameters": {"webHookId": anchor}}] if anchor else []
    return schemathesis.Config.from_dict(
        {
            "seed": state.seed,
            "base-url": state.profile.base_url,
            # Sent as explicit headers, so `ignored_auth` takes them as the real keys and probes without them.
            "headers": {
                state.profile.partner_key_header: state.profile.partner_key,
                "Authorization": state.profile.developer_key,
            },
            "workers": 1,  # one seed, one order of requests: a run can be repeated
            "request-timeout": state.profile.timeout,
            "continue-on-failure": True,  # a SHOULD failure must not hide a MUST failure of the same operation
            "cache": {"enabled": False},  # nothing replayed from, or written to, an earlier run's state
            "generation": {
                "mode": "all",
                "max-examples": budget.schema_examples,
                "database": "none",
                "no-shrink": budget.name == "quick",
            },
            "phases": {
                # Ids are never drawn from earlier answers (a list shows records that are not ours): writes
                # name a record only along the spec's links from this engine's own creates.
                "examples": {"enabled": True, "extra-data-sources": {"responses": False}},
                "coverage": {"enabled": True, "extra-data-sources": {"responses": False}},
                "fuzzing": {
                    "enabled": True,
                    "extra-data-sources": {"responses": False},
                    # Fuzzing is where the contract's edge values are drawn; give it room beyond the budget.
                    "generation": {"max-examples": FUZZING_FACTOR * budget.schema_examples},
                },
                "stateful": {
                    "enabled": not state.client.read_only,  # its sequences start with a create
                    "max-steps": max(2, budget.stateful_steps // 2),
                    # Shrinking a sequence replays it against the target again and again: up to 90 s of a
                    # standard run for one failed check. The lifecycle machine gives shrunk sequences.
                    "generation": {"no-shrink": True},
                    "inference": {"algorithms": []},
                },
            },
            "checks": {
                name: {"enabled": use.about is not None, **use.settings}
                for name, use in CHECKS.items()
                if name != "max_response_time"  # configured by a limit, which stays unset
            },
            "operations": pinned,
            "dictionaries": {name: {"values": list(values)} for name, (values, _) in EDGE_VALUES.items()},
            "parameters": {
                target: {"dictionary": name, "probability": EDGE_PROBABILITY}
                for name, (_, targets) in EDGE_VALUES.items()
                for target in targets
            },
        }
    )


def target_spec(state: RunState) -> dict[str, Any]:
    """The spec as this target needs it: its partner key header, and no sample id that a record could have."""
    spec = copy.deepcopy(state.spec)
    schemes = spec.get("components", {}).get("securitySchemes", {})
    for scheme in schemes.values():
        if scheme.get("in") == "header" and scheme.get("name", "").lower() != "authorization":
            scheme["name"] = state.profile.partner_key_header
    absent = f"wc-{state.run_tag}-no-such-record"
    return _replace_strings(spec, {sample: absent for sample in _sample_ids(spec)})


def _sample_ids(spec: dict[str, Any]) -> set[str]:
    """Record ids the spec shows as examples: its path parameters' examples and example objects' `id`s."""
    found: set[str] = set()

    def walk(node: Any, in_example: bool) -> None:
        if isinstance(node, dict):
            if node.get("in") == "path" and isinstance(node.get("example"), str):
                found.add(node["example"])
            if in_example and isinstance(node.get("id"), str):
                found.add(node["id"])
            for key, value in node.items():
                walk(value, in_example or key in ("example", "examples", "value"))
        elif isinstance(node, list):
            for item in node:
                walk(item, in_example)

    walk(spec, False)
    return found


def _replace_strings(node: Any, replacements: dict[str, str]) -> Any:
    if isinstance(node, str):
        return replacements.get(node, node)
    if isinstance(node, dict):
        return {key: _replace_strings(value, replacements) for key, value in node.items()}
    if isinstance(node, list):
        return [_replace_strings(item, replacements) for item in node]
    return node


def selected_operations(state: RunState) -> list[str] | None:
    """The operations worth running for --only/--skip; None for all of them."""
    chosen = {item for item in COVERS if state.selected((item,))}
    groups = {item.split("-")[0] for item in chosen}
    if groups & {"AUTH", "HTTP"}:
        return None
    return [operation for operation, speaks_to in OPERATION_GROUPS.items() if speaks_to & groups]


def _assert_every_check_decided() -> None:
    """A Schemathesis upgrade that adds a built-in check must get a row in CHECKS, not run undecided."""
    from schemathesis.checks import CHECKS as REGISTRY
    from schemathesis.checks import load_all_checks

    load_all_checks()
    built_in = {item.__name__ for item in REGISTRY.get_all() if item.__module__.startswith("schemathesis.")}
    missing = sorted(built_in - set(CHECKS))
    if missing:
        raise RuntimeError(f"schema_fuzz.CHECKS has no row for the built-in check(s): {', '.join(missing)}")


_assert_every_check_decided()
