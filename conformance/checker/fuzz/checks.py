"""What each built-in Schemathesis check's verdict means for the contract: `CHECKS` has one row per check of
Schemathesis 4.32, saying which requirements its verdict speaks to (a failure blames the first, a pass counts
for each), or why it is off.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from schemathesis.core.failures import Failure
from schemathesis.core.parameters import ParameterLocation
from schemathesis.generation.case import Case
from schemathesis.generation.meta import CoveragePhaseData, CoverageScenario
from schemathesis.openapi.checks import IgnoredAuth, MissingHeaderNotRejected

from conformance.checker.fuzz.hook import Sent
from conformance.contract.facts import INT64_MAX, MAX_LIST_LIMIT, VALIDATION_STATUSES
from conformance.contract.request_rules import Break, RequestRules, json_object, query_integers


@dataclass
class CheckedExchange:
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
SpeaksTo = Callable[[CheckedExchange], list[Break]]


def _negative_data(seen: CheckedExchange) -> list[Break]:
    """Invalid data accepted: the contract rule the request breaks (none when only the spec forbids it)."""
    if not seen.negative or (seen.failure is None and seen.status not in VALIDATION_STATUSES):
        return []  # a 404 for a drawn id, say, shows nothing about validation
    breaks = seen.rules.breaks(seen.sent)
    if seen.failure is None and len({item.requirement_id for item in breaks}) != 1:
        return []  # rejected, but for which of several reasons is not known
    return breaks


def _positive_data(seen: CheckedExchange) -> list[Break]:
    """Valid data rejected: blamed only when the contract, too, promises to accept the request."""
    if seen.negative or seen.rules.breaks(seen.sent):
        return []
    operation, sent = seen.sent.operation, seen.sent
    if operation == "createWebHook" and (seen.failure is not None or 200 <= seen.status < 300):
        unknown = seen.rules.unknown_fields(json_object(sent.body)[0])
        if unknown:
            return [Break("CREATE-07", f"a valid body with the unknown field(s) {', '.join(unknown[:5])}")]
        return [Break("CREATE-01", "a valid body")]
    if operation == "listWebHooks" and (seen.failure is not None or seen.status == 200):
        query = urlsplit(sent.url).query
        numbers = query_integers(query, "start") + query_integers(query, "limit")
        if any(abs(number) > INT64_MAX for number in numbers):
            return []
        if any(limit > MAX_LIST_LIMIT for limit in query_integers(query, "limit")):
            return [Break("LIST-08", "a limit above 100, to be clamped")]
        return [Break("LIST-01", "a valid query")]
    return _item_answer(seen)


def _item_answer(seen: CheckedExchange) -> list[Break]:
    """A valid GET, PUT or DELETE of one record: of ours, it must act; of a drawn id, it must be 404."""
    record_id, operation = seen.sent.item_id, seen.sent.operation
    if record_id is None:
        return []
    if operation == "updateWebHook":
        body, _ = json_object(seen.sent.body)
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


def _ignored_auth(seen: CheckedExchange) -> list[Break]:
    """A call without keys (AUTH-01), or with a wrong one (AUTH-02), that was served."""
    if isinstance(seen.failure, IgnoredAuth):
        kind = "AUTH-01" if seen.failure.scenario == "no_auth" else "AUTH-02"
        return [Break(kind, seen.failure.title)]
    if seen.failure is None and 200 <= seen.status < 300 and not seen.rules.key_breaks(seen.sent.headers):
        return [Break("AUTH-01", "served with keys; refused without"), Break("AUTH-02", "refused with a wrong key")]
    return []


def _missing_key_header(seen: CheckedExchange) -> list[Break]:
    """A call that leaves out a key header must get 401 (the spec's only header parameters are the keys)."""
    if isinstance(seen.failure, MissingHeaderNotRejected):
        return [Break("AUTH-01", f"no `{seen.failure.header_name}` header")]
    data = seen.coverage
    left_out = data is not None and data.scenario == CoverageScenario.MISSING_PARAMETER
    if seen.failure is None and data is not None and left_out and data.parameter_location == ParameterLocation.HEADER:
        return [Break("AUTH-01", f"no `{data.parameter}` header")] if seen.status == 401 else []
    return []


def _undefined_method(seen: CheckedExchange) -> list[Break]:
    """A method the path does not define gets 405 with an Allow header (HTTP-05)."""
    data = seen.coverage
    undefined = data is not None and data.scenario == CoverageScenario.UNSPECIFIED_HTTP_METHOD
    if seen.failure is not None or (undefined and seen.status == 405):
        return [Break("HTTP-05", f"{seen.sent.method} is not defined on this path")]
    return []


def _allow_header(seen: CheckedExchange) -> list[Break]:
    """An OPTIONS answer's Allow header names exactly the path's methods (HTTP-05)."""
    if seen.failure is not None or (seen.sent.method == "OPTIONS" and "Allow" in seen.sent.reply.headers):
        return [Break("HTTP-05", "the Allow header of an OPTIONS answer")]
    return []


def _use_after_free(seen: CheckedExchange) -> list[Break]:
    """A record this engine deleted must be gone (DELETE-02)."""
    record_id = seen.sent.item_id
    gone = record_id is not None and seen.deleted(record_id) and seen.sent.operation == "getWebHook"
    if seen.failure is not None or (gone and seen.status == 404):
        return [Break("DELETE-02", "a GET of a record just deleted")]
    return []


def _resource_availability(seen: CheckedExchange) -> list[Break]:
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

    speaks_to: SpeaksTo | None
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
