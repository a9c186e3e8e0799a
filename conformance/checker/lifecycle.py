"""The lifecycle engine: a Hypothesis rule-based state machine whose every answer is compared with a plain model.

The model is what the target should hold of the records this machine created: a dict id -> the record as
the last successful write returned it. The rules are the API's operations (create, get, update, delete,
list one page, walk every page); each compares the answer with the model and raises a `LifecycleViolation`
naming the requirement it breaks. Hypothesis then shrinks the run towards the shortest request sequence
that still breaks a requirement, and the shortest one seen becomes the finding's evidence.

Every example ends with a final check that is also its cleanup: it walks the shops in pages and deletes
every record it created, checking each answer. So each example pages and deletes at least once, whichever
rules Hypothesis picked; `delete` and teardown also check that the other records are left as they were.

Staging safety: an example's records live in one or two shops of this run (or the user's `--shop-id`s,
whose other records are learned first and expected to stay); every list is filtered by one of these shops;
only records this machine created are written to.
"""

from __future__ import annotations

import contextlib
import functools
import json
import math
import string
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from hypothesis import HealthCheck, Phase, Verbosity, seed, settings
from hypothesis import strategies as st
from hypothesis.errors import HypothesisException
from hypothesis.stateful import (
    Bundle,
    MultipleResults,
    RuleBasedStateMachine,
    consumes,
    initialize,
    multiple,
    rule,
    run_state_machine_as_test,
)

from conformance.checker.client import Reply, TransportError
from conformance.checker.engine import Say, WholeEngine
from conformance.checker.evidence import Exchange
from conformance.checker.run_state import RunState, Tally, engine_summary
from conformance.checker.side_by_side import run_side_by_side
from conformance.contract.catalogue import requirement
from conformance.contract.facts import CLIENT_FIELDS, MAX_LIST_LIMIT, RECORD_FIELDS, webhook_types

CHECK = "lifecycle"
COVERS = (
    "CREATE-01",
    "CREATE-02",
    "CREATE-03",
    "READ-01",
    "UPDATE-01",
    "UPDATE-02",
    "UPDATE-03",
    "UPDATE-04",
    "LIST-01",
    "LIST-02",
    "LIST-03",
    "LIST-04",
    "LIST-07",
    "DELETE-01",
    "DELETE-02",
    "DELETE-03",
    "DELETE-04",
)
FULL_PAGE = MAX_LIST_LIMIT  # the largest page the contract allows: the whole list of one of our shops in one call
MAX_PAGES = 50  # a bound on any walk, whatever the target answers
LANE_SEED_STEP = 1_000_003  # lane n is seeded with the run's seed + n steps (lane 0: the run's seed)
GENERATE_SHARE = 0.35  # of the budget's time limit, for the whole engine
SHRINK_SHARE = 0.03  # of the budget's time limit, for shrinking once something failed
WRITE_GAP = 0.003  # seconds between two writes of one record: UPDATE-03 promises the target at least 2 ms


class Halted(BaseException):
    """The machine cannot go on: the target gave no answer, or the engine's share of the time is spent
    (`Verdicts.halt`). Not an `Exception`, so that it leaves Hypothesis at once, after the teardown: a rejected
    example instead had Hypothesis draw example after example only to reject each (1,377 of them, 17 s of CPU,
    on a target that hung on one operation)."""


class LifecycleViolation(Exception):
    """An answer that contradicts the model: the requirement it breaks and the requests that show it."""

    def __init__(
        self,
        requirement_id: str,
        expected: str,
        actual: str,
        exchanges: list[Exchange],
        operation: str | None = None,
        steps: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(f"{requirement_id}: expected {expected}; got {actual}")
        self.requirement_id = requirement_id
        self.expected = expected
        self.actual = actual
        self.exchanges = exchanges
        self.operation = operation  # the operationId of the request whose answer broke the model
        self.steps = steps or []  # the example's rules as data (`logged`): what `conformance replay` takes again


@dataclass
class Verdicts:
    """What the examples of one engine run found, and when they must stop."""

    deadline: float  # time.monotonic() after which no example sends another request
    shrink_seconds: float
    shortest: dict[str, LifecycleViolation] = field(default_factory=dict)  # per requirement, fewest requests
    examples: int = 0
    halted: str | None = None  # why the engine stopped early
    unreachable: bool = False  # the target stopped answering: send nothing more, not even deletes
    shrinking: bool = False  # a MUST broke; Hypothesis is shrinking it

    def keep(self, violation: LifecycleViolation) -> None:
        """Remember a violation if it is the shortest of its requirement so far."""
        known = self.shortest.get(violation.requirement_id)
        if known is None or len(violation.exchanges) < len(known.exchanges):
            self.shortest[violation.requirement_id] = violation

    def start_shrinking(self) -> None:
        """A MUST broke: Hypothesis shrinks from here on, for a bounded time."""
        if not self.shrinking:
            self.shrinking = True
            self.deadline = min(self.deadline, time.monotonic() + self.shrink_seconds)

    def halt(self, reason: str, *, unreachable: bool = False) -> None:
        self.halted = self.halted or reason
        self.unreachable = self.unreachable or unreachable

    @classmethod
    def merged(cls, lanes: list[Verdicts]) -> Verdicts:
        """What all lanes found together: per requirement the shortest violation of any lane (the first lane's,
        between equals), every example, the first reason to halt."""
        whole = cls(max(lane.deadline for lane in lanes), lanes[0].shrink_seconds)
        for lane in lanes:
            for violation in lane.shortest.values():
                whole.keep(violation)
            whole.examples += lane.examples
            if lane.halted:
                whole.halt(lane.halted, unreachable=lane.unreachable)
        return whole

    def stopped(self) -> bool:
        if time.monotonic() > self.deadline:
            self.halt("the lifecycle engine's share of the time budget ran out")
        return self.halted is not None


@dataclass(frozen=True)
class FieldChoice:
    """Client fields as Hypothesis draws them. Shop and type are indexes, so the strategy needs to know
    neither this example's shops nor the spec's types; the machine turns a choice into a body."""

    shop: int
    webhook_type: int  # an index into the spec's types; past the last one: null
    paths: tuple[str, ...]
    legacy_path: str | None


SHOPS = st.sampled_from((0, 0, 0, 1))  # most records share the first shop, so lists and deletes have neighbours
_PATH = st.text(alphabet=string.ascii_lowercase + string.digits, min_size=1, max_size=6)
FIELD_CHOICES = st.builds(
    FieldChoice,
    shop=SHOPS,
    webhook_type=st.integers(0, 11),  # null now and then: an update must clear a type too
    paths=st.lists(_PATH, min_size=1, max_size=3, unique=True).map(tuple),
    legacy_path=st.none() | _PATH,
)
TYPE_PICKS = st.none() | st.integers(0, 10)
RULES = ("open_shops", "create", "get", "update", "delete", "list_page", "walk")  # the machine's, `logged`
FINAL_CHOICE = FieldChoice(shop=0, webhook_type=0, paths=("final",), legacy_path=None)  # the teardown's PUT


def logged(method: Callable[..., Any]) -> Callable[..., Any]:
    """A rule whose call the machine writes down (`LifecycleMachine.steps`): the rule's name and its arguments,
    a record by the number of the create that made it. Not a call from inside another rule or the teardown."""

    @functools.wraps(method)
    def step(self: LifecycleMachine, *given: Any, **arguments: Any) -> Any:
        if not self.depth:  # Hypothesis (and `take`) name every argument
            data = {name: self.as_data(value) for name, value in arguments.items()}
            self.steps.append({"rule": method.__name__, **data})
        self.depth += 1
        try:
            return method(self, *given, **arguments)
        finally:
            self.depth -= 1

    return step


class LifecycleMachine(RuleBasedStateMachine):
    """Create, read, update, delete and list records at random; compare every answer with the model."""

    live = Bundle("live")

    def __init__(self, state: RunState, verdicts: Verdicts) -> None:
        super().__init__()
        self.state = state
        self.client = state.client
        self.verdicts = verdicts
        self.types = webhook_types(state.spec)
        self.shops: list[str] = []
        self.records: dict[str, dict[str, Any]] = {}  # the model: the live records this machine created
        self.deleted: dict[str, dict[str, Any]] = {}  # records it deleted, as they were last
        self.background: dict[str, dict[str, Any]] = {}  # other records in a --shop-id shop
        self.orders: dict[tuple[str, str | None], list[str]] = {}  # the target's list order, until a write
        self.fresh: set[str] = set()  # records read since the last write: a second GET would add no evidence
        self.steps: list[dict[str, Any]] = []  # the rules called so far, as data (`logged`)
        self.made: list[str] = []  # the ids of the records this example created, in order
        self.depth = 0  # rules running now, one inside another
        self.written: dict[str, float] = {}  # when each record was last written (time.monotonic())
        self.to_delete: set[str] = set()  # every id that may still be live on the target
        self.exchanges: list[Exchange] = []
        self.operation: str | None = None  # of the last request sent: the one an assertion is about
        verdicts.examples += 1

    # -- rules --------------------------------------------------------------------------------------------

    @initialize(target=live, choices=st.lists(FIELD_CHOICES, min_size=1, max_size=3))
    @logged
    def open_shops(self, choices: list[FieldChoice]) -> MultipleResults[str]:
        """Pick this example's shops, learn what they hold already (nothing, unless they are --shop-ids), and
        stock them with a few records, so that every example has something to read, change and list."""
        first = self.state.new_shop_id()
        # Our own second shop starts with the first one's id, so that a prefix match would mix them up.
        second = self.state.new_shop_id() if self.state.profile.shop_ids else f"{first}-b"
        self.shops = list(dict.fromkeys([first, second]))
        for shop_id in self.shops:
            values, _ = self._walk({"shopId": shop_id}, FULL_PAGE, MAX_PAGES)
            strays = [value["id"] for value in values if value.get("shopId") != shop_id]
            self._expect(
                "LIST-04",
                not strays,
                f"a list filtered by shopId={shop_id} to hold only records of that shop",
                f"it holds records of other shops: {strays}",
            )
            self.background.update((value["id"], value) for value in values)
        return multiple(*(self.create(choice) for choice in choices))

    @rule(target=live, choice=FIELD_CHOICES)
    @logged
    def create(self, choice: FieldChoice) -> str:
        """POST a valid body: the answer is the stored record, echoing the client fields (CREATE-01 to -03)."""
        sent = self._client_fields(choice)
        reply = self._send(self.client.create, sent)
        self._wrote()
        record = self._expect_record("CREATE-01", reply, {200, 201}, "a valid create body")
        self.to_delete.add(record["id"])
        self.made.append(record["id"])
        echoed = _client_part(record)
        self._expect(
            "CREATE-02",
            echoed == sent,
            f"the create answer to echo the client fields as sent: {_show(sent)}",
            lambda: f"it echoed {_show(echoed)}",
        )
        self._expect(
            "CREATE-03",
            record["id"] not in self.records and record["id"] not in self.deleted,
            "a new id, never one of an earlier record",
            f"the id {record['id']} of an earlier record",
        )
        self.records[record["id"]] = record
        self.written[record["id"]] = time.monotonic()
        self._expect_shops_listed(sent["shopId"])
        return record["id"]

    @rule(record_id=live)
    @logged
    def get(self, record_id: str) -> None:
        """GET a live record: the record as the last write returned it (READ-01). Not sent again for a record
        already read since the last write (a draw of the same read adds a round trip, not evidence)."""
        if record_id in self.fresh:
            return
        self.fresh.add(record_id)
        reply = self._send(self.client.get, record_id)
        expected = self.records[record_id]
        self._expect(
            "READ-01",
            reply.status == 200 and _same(reply.json_or_none(), expected),
            f"200 and the record as the last write returned it: {_show(expected)}",
            lambda: _summary(reply),
        )

    @rule(record_id=live, choice=FIELD_CHOICES)
    @logged
    def update(self, record_id: str, choice: FieldChoice) -> None:
        """PUT new client fields: they replace the old ones, server fields behave (UPDATE-01 to -04)."""
        before = self.records[record_id]
        sent = self._client_fields(choice)
        self._pause_before_writing(record_id)
        reply = self._send(self.client.update, record_id, {**before, **sent})
        self._wrote()
        self.written[record_id] = time.monotonic()
        record = self._expect_record("UPDATE-01", reply, {200}, "a valid full update")
        stored = _client_part(record)
        self._expect(
            "UPDATE-01",
            stored == sent,
            f"the update answer to hold the new client fields {_show(sent)}",
            lambda: f"it holds {_show(stored)}",
        )
        fixed = {name: (before.get(name), record.get(name)) for name in ("id", "companyId", "created")}
        self._expect(
            "UPDATE-02",
            all(old == new for old, new in fixed.values()),
            "id, companyId and created as before the update",
            lambda: ", ".join(f"{name} {old!r} -> {new!r}" for name, (old, new) in fixed.items() if old != new),
        )
        self._expect(
            "UPDATE-03",
            _later(record.get("modified"), before.get("modified")),
            f"modified greater than {before.get('modified')!r}, the value before the update",
            lambda: f"modified {record.get('modified')!r}",
        )
        self._expect("UPDATE-04", record.get("updated") is True, "updated true", f"updated {record.get('updated')!r}")
        self.records[record_id] = record
        check = self._send(self.client.get, record_id)
        self._expect(
            "UPDATE-01",
            check.status == 200 and _same(check.json_or_none(), record),
            f"a GET after the update to return what the update answered: {_show(record)}",
            lambda: _summary(check),
        )
        self._expect_shops_listed(before.get("shopId"), sent["shopId"])

    @rule(record_id=consumes(live), choice=FIELD_CHOICES)
    @logged
    def delete(self, record_id: str, choice: FieldChoice) -> None:
        """DELETE a live record: 200 or 204; then GET and PUT of it get 404, so does a second DELETE, the
        other records are as they were, and the lists no longer show it (DELETE-01 to -04)."""
        self._delete(record_id)
        self._expect_gone(record_id, choice)
        again = self._send(self.client.delete, record_id)
        self._expect(
            "DELETE-03",
            again.status == 404,
            f"404 for deleting the already deleted record {record_id}",
            lambda: _summary(again),
        )
        self._expect_others_unchanged(record_id)
        self._expect_shops_listed(self.deleted[record_id].get("shopId"))

    @rule(shop=SHOPS, type_pick=TYPE_PICKS, start=st.integers(0, 7), limit=st.integers(1, 4))
    @logged
    def list_page(self, shop: int, type_pick: int | None, start: int, limit: int) -> None:
        """GET one page: exactly that window of the target's order, and the model's total (LIST-01 to -04, -07)."""
        params = self._filters(shop, type_pick)
        order = self._order(params)
        start %= max(len(order), 1)  # stay inside the list: a start past the end is LIST-05's business
        reply = self._send(self.client.list, {**params, "start": start, "limit": limit})
        values = self._expect_page(reply, start, limit)
        self._expect_listed(params, values)
        ids = [value["id"] for value in values]
        window = order[start : start + limit]
        self._expect(
            "LIST-03",
            ids == window,
            f"the page start={start}, limit={limit} of {params} to be {window}, that window of the whole list {order}",
            f"the page holds {ids}",
        )
        self._expect_total(params, reply)

    @rule(shop=SHOPS, pages=st.integers(2, 4))
    @logged
    def walk(self, shop: int, pages: int) -> None:
        """Walk a shop's list in about `pages` pages: each record exactly once, in the order of the whole list
        (LIST-03). Sized by page count, so a --shop-id shop with many records costs no more requests."""
        params = self._filters(shop, None)
        order = self._order(params)
        page = max(1, -(-len(order) // pages))
        values, replies = self._walk(params, page, pages + 2)
        self._expect_listed(params, values)
        for reply in replies:
            self._expect_total(params, reply)
        ids = [value["id"] for value in values]
        self._expect(
            "LIST-03",
            ids == order,
            f"walking {params} in pages of {page} to give each record once, as the whole list does: {order}",
            f"the pages gave {ids}",
        )

    def teardown(self) -> None:
        """Delete what this example created; the run's ledger retries whatever this misses.

        When the example ran to its end, the teardown is its final check too: each shop, walked in a few
        short pages, is exactly the model; the first delete is checked like the `delete` rule's; each later one
        answers as it must; and the shops' lists then show none of ours. So every example pages, deletes and
        deletes twice at least once, however Hypothesis picked its rules."""
        if self.verdicts.unreachable:
            return
        self.depth += 1  # its walks and deletes are the final check, not steps of the example
        try:
            # No exception on its way out (a violation, a rejected example, a bug): the example ran to its end.
            if sys.exc_info()[0] is None and not self.verdicts.stopped():
                self._close_shops()
        finally:
            for record_id in sorted(self.to_delete):
                try:
                    self.client.delete(record_id)
                except TransportError:
                    break

    def _close_shops(self) -> None:
        """The final check: walk each shop in a few short pages, then delete every record, checking as we go."""
        for shop in range(len(self.shops)):
            self.walk(shop, 3)
        removed: list[str] = []
        for record_id in list(self.records):
            if removed:
                self._delete(record_id, after=removed)
            else:
                self.delete(record_id, FINAL_CHOICE)
            removed.append(record_id)
        for shop_id in self.shops:
            self._order({"shopId": shop_id})

    # -- comparing answers with the model -----------------------------------------------------------------

    def _expect(self, requirement_id: str, ok: bool, expected: str, actual: str | Callable[[], str]) -> None:
        """One assertion. A broken MUST ends the example (Hypothesis shrinks it); a broken SHOULD is noted."""
        if ok:
            self.state.results.check(requirement_id, CHECK, True, expected, actual, operation=self.operation)
            return
        violation = LifecycleViolation(
            requirement_id,
            expected,
            actual() if callable(actual) else actual,
            list(self.exchanges),
            self.operation,
            list(self.steps),
        )
        self.verdicts.keep(violation)
        if requirement(requirement_id).level == "MUST":
            self.verdicts.start_shrinking()
            raise violation

    def _expect_record(self, requirement_id: str, reply: Reply, allowed: set[int], what: str) -> dict[str, Any]:
        """The record a write answered with: an allowed status and a whole PartnerWebHook with a string id."""
        record = reply.json_or_none()
        ok = (
            reply.status in allowed
            and isinstance(record, dict)
            and isinstance(record.get("id"), str)
            and all(name in record for name in RECORD_FIELDS)
        )
        wanted = " or ".join(map(str, sorted(allowed)))
        self._expect(
            requirement_id,
            ok,
            f"{wanted} and the whole record ({', '.join(RECORD_FIELDS)}) for {what}",
            lambda: _summary(reply),
        )
        return record

    def _delete(self, record_id: str, after: list[str] | None = None) -> None:
        """DELETE a live record of the model: 200 (no body or a JSON one) or 204 (DELETE-01).

        `after`: the records deleted since all others were last seen unchanged; a 404 now means one of those
        deletes took this record along (DELETE-04)."""
        reply = self._send(self.client.delete, record_id)
        self._wrote()
        if after and reply.status == 404:
            self._expect(
                "DELETE-04",
                False,
                f"record {record_id} still there after the deletes of {after}, each of which removes only its own",
                "it was gone: DELETE answered 404",
            )
        self._expect(
            "DELETE-01",
            reply.status == 204 or (reply.status == 200 and _empty_or_json(reply)),
            "200 (with no body or a JSON one) or 204 for deleting a live record",
            lambda: _summary(reply),
        )
        self.to_delete.discard(record_id)
        self.deleted[record_id] = self.records.pop(record_id)

    def _expect_others_unchanged(self, record_id: str) -> None:
        """After deleting one record, each other live record reads as the model has it (DELETE-04)."""
        for other_id, other in self.records.items():
            after = self._send(self.client.get, other_id)
            self._expect(
                "DELETE-04",
                after.status == 200 and _same(after.json_or_none(), other),
                f"record {other_id} unchanged by the delete of {record_id}: {_show(other)}",
                lambda after=after: _summary(after),
            )

    def _expect_gone(self, record_id: str, choice: FieldChoice) -> None:
        """GET and PUT of a deleted record get 404, and the PUT does not bring it back (DELETE-02)."""
        reply = self._send(self.client.get, record_id)
        self._expect(
            "DELETE-02",
            reply.status == 404,
            f"404 for a GET of the deleted record {record_id}",
            lambda: _summary(reply),
        )
        reply = self._send(self.client.update, record_id, {**self.deleted[record_id], **self._client_fields(choice)})
        if 200 <= reply.status < 300:
            self.to_delete.add(record_id)  # it is back: this example must delete it again
        self._expect(
            "DELETE-02",
            reply.status == 404,
            f"404 for a PUT to the deleted record {record_id}",
            lambda: _summary(reply),
        )

    def _expect_page(self, reply: Reply, start: int, limit: int) -> list[dict[str, Any]]:
        """The values of a SearchResult whose envelope is right (LIST-01)."""
        body = reply.json_or_none()
        values = body.get("values") if isinstance(body, dict) else None
        ok = (
            reply.status == 200
            and isinstance(values, list)
            and all(isinstance(value, dict) and isinstance(value.get("id"), str) for value in values)
            and body.get("skip") == start
            and body.get("limit") == limit
            and len(values) <= limit
        )
        self._expect(
            "LIST-01",
            ok,
            f"200 and a SearchResult of records with skip {start}, limit {limit} and at most {limit} values",
            lambda: _summary(reply),
        )
        return values

    def _expect_listed(self, params: dict[str, str], values: list[dict[str, Any]]) -> None:
        """Every listed record is live, matches the filters, is one we know, and shows its latest fields."""
        ids = [value["id"] for value in values]
        deleted = [record_id for record_id in ids if record_id in self.deleted]
        self._expect(
            "DELETE-02", not deleted, f"no deleted record in the list of {params}", f"it lists deleted {deleted}"
        )
        unmatched = [_show(_filter_part(value)) for value in values if not _matches(value, params)]
        self._expect(
            "LIST-04",
            not unmatched,
            f"exactly the records matching {params}",
            lambda: f"it lists records with {', '.join(unmatched)}",
        )
        unknown = [record_id for record_id in ids if record_id not in self.records and record_id not in self.background]
        self._expect(
            "LIST-04",
            not unknown,
            f"only the records of shop {params['shopId']}: the ones this run wrote and the ones there before",
            f"it lists records no one wrote there: {unknown}",
        )
        stale = [
            value for value in values if value["id"] in self.records and not _same(value, self.records[value["id"]])
        ]
        self._expect(
            "LIST-07",
            not stale,
            f"every listed record as the last write returned it: {_show(self._model_of(stale))}",
            lambda: f"it lists {_show(stale)}",
        )

    def _expect_total(self, params: dict[str, str], reply: Reply) -> None:
        body = reply.json_or_none()
        total = body.get("total") if isinstance(body, dict) else None
        expected = len(self._matching(params))
        self._expect(
            "LIST-02",
            isinstance(total, int) and not isinstance(total, bool) and total == expected,
            f"total {expected} for {params}: the live records that match",
            f"total {total!r}",
        )

    def _expect_shops_listed(self, *shop_ids: Any) -> None:
        """After a write, the lists of the shops it touched reflect it at once (LIST-07, DELETE-02)."""
        for shop_id in dict.fromkeys(shop_ids):
            if shop_id in self.shops:
                self._order({"shopId": shop_id})

    def _order(self, params: dict[str, str]) -> list[str]:
        """The target's order of the records matching `params`, from one walk in full pages; the walk must
        hold each matching record once. Kept until the next write: the contract promises a stable order
        between calls, not which order."""
        key = (params["shopId"], params.get("type"))
        if key not in self.orders:
            values, replies = self._walk(params, FULL_PAGE, MAX_PAGES)
            self._expect_listed(params, values)
            ids = [value["id"] for value in values]
            missing = [record_id for record_id in self._matching(params) if record_id not in ids]
            self._expect(
                "LIST-07",
                not missing,
                f"every live record matching {params} in its list, also the ones just written",
                f"it misses {missing}",
            )
            repeated = sorted({record_id for record_id in ids if ids.count(record_id) > 1})
            self._expect("LIST-03", not repeated, f"each record once in the list of {params}", f"it repeats {repeated}")
            self._expect_total(params, replies[-1])
            self.orders[key] = ids
        return self.orders[key]

    # -- talking to the target ----------------------------------------------------------------------------

    def _wrote(self) -> None:
        """A write went out: list orders and reads seen so far may no longer hold."""
        self.orders.clear()
        self.fresh.clear()

    # -- the example as data -------------------------------------------------------------------------------

    def as_data(self, value: Any) -> Any:
        """A rule's argument as JSON data: a record by the number of the create that made it."""
        if isinstance(value, FieldChoice):
            return {**asdict(value), "paths": list(value.paths)}
        if isinstance(value, list | tuple):
            return [self.as_data(item) for item in value]
        if isinstance(value, str) and value in self.made:
            return {"record": self.made.index(value)}
        return value

    def from_data(self, value: Any) -> Any:
        """`as_data` undone, with the ids of the records this machine made (IndexError: no such create)."""
        if isinstance(value, dict) and set(value) == {"record"}:
            return self.made[value["record"]]
        if isinstance(value, dict):
            return FieldChoice(value["shop"], value["webhook_type"], tuple(value["paths"]), value["legacy_path"])
        if isinstance(value, list):
            return [self.from_data(item) for item in value]
        return value

    def take(self, step: dict[str, Any]) -> None:
        """Call one rule as `logged` wrote it down (ValueError for a rule the machine does not have)."""
        if step.get("rule") not in RULES:
            raise ValueError(f"no rule {step.get('rule')!r}")
        getattr(self, step["rule"])(**{name: self.from_data(value) for name, value in step.items() if name != "rule"})

    def _send(self, operation: Callable[..., Reply], *args: Any) -> Reply:
        """One request, kept as evidence; a target that does not answer, or a spent budget, ends the engine."""
        if self.verdicts.stopped():
            raise Halted
        try:
            reply = operation(*args)
        except TransportError as error:
            self.verdicts.halt(f"the target gave no answer ({error})", unreachable=True)
            raise Halted from error
        self.exchanges.append(reply.exchange)
        self.operation = reply.operation
        return reply

    def _walk(self, params: dict[str, str], page: int, max_pages: int) -> tuple[list[dict[str, Any]], list[Reply]]:
        """Pages start = 0, page, 2*page, ... until a short one or the `total`; the values, and the replies.
        (Never past the total: what a start past the end gets is LIST-05's business.)"""
        values: list[dict[str, Any]] = []
        replies = []
        for number in range(max_pages):
            start = number * page
            reply = self._send(self.client.list, {**params, "start": start, "limit": page})
            replies.append(reply)
            found = self._expect_page(reply, start, page)
            values += found
            total = reply.json().get("total")
            if len(found) < page or (isinstance(total, int) and start + page >= total):
                break
        return values, replies

    def _pause_before_writing(self, record_id: str) -> None:
        wait = WRITE_GAP - (time.monotonic() - self.written.get(record_id, 0.0))
        if wait > 0:
            time.sleep(wait)

    # -- the model ----------------------------------------------------------------------------------------

    def _client_fields(self, choice: FieldChoice) -> dict[str, Any]:
        """The body of a choice: a URL path carries the run's tag, so the records are recognisably ours."""
        base = self.state.mark.url("lifecycle")
        types = self.types
        return {
            "shopId": self.shops[choice.shop % len(self.shops)],
            "webHookType": types[choice.webhook_type] if choice.webhook_type < len(types) else None,
            "url": None if choice.legacy_path is None else f"{base}/legacy/{choice.legacy_path}",
            "webHookUrls": [f"{base}/{path}" for path in choice.paths],
        }

    def _filters(self, shop: int, type_pick: int | None) -> dict[str, str]:
        """List filters: always one of our shops; a type, when picked, one that some record there has."""
        params = {"shopId": self.shops[shop % len(self.shops)]}
        if type_pick is not None and self.types:
            present = sorted(
                {record.get("webHookType") for record in self._matching(params).values()} & set(self.types)
            )
            choices = present or list(self.types)
            params["type"] = choices[type_pick % len(choices)]
        return params

    def _matching(self, params: dict[str, str]) -> dict[str, dict[str, Any]]:
        """The live records, ours and the ones there before, that a list with these filters must show."""
        known = {**self.background, **self.records}
        return {record_id: record for record_id, record in known.items() if _matches(record, params)}

    def _model_of(self, values: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [self.records[value["id"]] for value in values]


def run_lifecycle(state: RunState, say: Say) -> None:
    """Run the lifecycle state machine within the budget and record one finding per broken requirement,
    with the shortest request sequence that showed it.

    The budget's examples are split among its lanes: machines seeded each on its own (from the run's seed and
    the lane's number alone), with shops of their own, run side by side. The same seed gives the same lanes,
    and each lane the same requests, whatever `--concurrency`."""
    if not state.selected(COVERS):
        return
    if state.machine_steps:
        replay_example(state, state.machine_steps, say)
        return
    budget = state.budget
    deadline = time.monotonic() + budget.time_limit * GENERATE_SHARE
    if state.client.deadline is not None:
        deadline = min(deadline, state.client.deadline)
    lanes = [Verdicts(deadline, budget.time_limit * SHRINK_SHARE) for _ in range(budget.stateful_lanes)]
    before = Tally.of(state)
    shares = _split(budget.stateful_examples, len(lanes))
    tasks = [
        functools.partial(_run_lane, state, lane, verdicts, examples)
        for lane, (verdicts, examples) in enumerate(zip(lanes, shares, strict=True))
        if examples
    ]
    run_side_by_side(tasks, state.workers, "lifecycle")
    verdicts = Verdicts.merged(lanes)
    _record(state, verdicts)
    say(engine_summary("lifecycle", state, before, f"{verdicts.examples} runs of the state machine"))


def replay_example(state: RunState, steps: Sequence[dict[str, Any]], say: Say) -> None:
    """Take the steps of one example again (a finding's `machine_steps`), on a fresh machine with shops of its
    own, then its teardown; record what the model finds, as `run_lifecycle` does: `conformance replay`."""
    before = Tally.of(state)
    state.current_check = f"{CHECK}-1"
    verdicts = Verdicts(state.client.deadline or math.inf, 0.0)
    machine = LifecycleMachine(state, verdicts)
    ended = (LifecycleViolation, HypothesisException, Halted)  # `verdicts` has a violation, or why it halted
    try:
        for step in steps:
            machine.take(step)
    except ended:
        machine.teardown()  # in the handler: the example did not run to its end, no final check
    except (ValueError, KeyError, IndexError, TypeError) as error:
        machine.teardown()
        verdicts.halt(f"the example's steps could not be taken again ({error!r})")
    else:
        with contextlib.suppress(*ended):
            machine.teardown()  # the example's final check, as Hypothesis runs it
    _record(state, verdicts)
    say(engine_summary("lifecycle", state, before, f"{len(steps)} steps of one example, again"))


def _record(state: RunState, verdicts: Verdicts) -> None:
    """One finding per broken requirement, its shortest example; every requirement not-run if it halted."""
    for violation in verdicts.shortest.values():
        state.results.check(
            violation.requirement_id,
            CHECK,
            False,
            violation.expected,
            violation.actual,
            violation.exchanges,
            operation=violation.operation,
            # The shrunk example from its clean start, after the creates of other checks' records its answers
            # showed (a list that leaks another shop's): `conformance replay` makes those, then takes the steps.
            sequence=state.sequence(CHECK, violation.exchanges) or violation.exchanges,
            machine_steps=violation.steps,
        )
    if verdicts.halted:
        for requirement_id in COVERS:
            state.results.not_run(requirement_id, verdicts.halted)


# Each lane is a chain of requests in a row, a standard run's longest (over 200): they go to a free place in
# flight after Schemathesis's, before the scenarios' (behind the scenarios, a standard run at 50 ms took 36 to
# 37 s where this took 30.5 to 31.7 s).
ENGINE = WholeEngine("lifecycle state machine", COVERS, run_lifecycle, needs_writes=True, priority=1)


def _split(examples: int, lanes: int) -> list[int]:
    """`examples` shared among `lanes` as evenly as whole numbers allow, the first lanes taking the rest."""
    share, rest = divmod(examples, lanes)
    return [share + (lane < rest) for lane in range(lanes)]


def _run_lane(state: RunState, lane: int, verdicts: Verdicts, examples: int) -> None:
    """One lane: its own machines, its own shops (named after the lane), its own seed."""
    state.current_check = f"{CHECK}-{lane + 1}"
    if not verdicts.stopped():
        _run_machine(state, verdicts, examples, state.seed + LANE_SEED_STEP * lane)


def _run_machine(state: RunState, verdicts: Verdicts, examples: int, machine_seed: int) -> None:
    """Hypothesis runs the machine: `examples` examples of the budget's steps, seeded by `machine_seed`, no
    example database, no explain phase (it re-runs examples: more requests, nothing for the report)."""
    options = settings(
        max_examples=examples,
        stateful_step_count=state.budget.stateful_steps,
        deadline=None,
        database=None,
        phases=(Phase.generate, Phase.shrink),
        suppress_health_check=list(HealthCheck),
        verbosity=Verbosity.quiet,
        report_multiple_bugs=False,
        print_blob=False,
    )
    factory = seed(machine_seed)(lambda: LifecycleMachine(state, verdicts))
    try:
        run_state_machine_as_test(factory, settings=options)
    except Halted:
        return  # `verdicts` says why
    except Exception as error:  # the violations are in `verdicts` already; anything else is a checker bug
        if not _expected_end(error):
            raise


def _expected_end(error: BaseException) -> bool:
    """How a Hypothesis run that found something (or was cut short) ends: our violations, a flaky replay."""
    if isinstance(error, BaseExceptionGroup):
        return all(_expected_end(inner) for inner in error.exceptions)
    return isinstance(error, (LifecycleViolation, HypothesisException))


def _client_part(record: dict[str, Any]) -> dict[str, Any]:
    return {name: record.get(name) for name in CLIENT_FIELDS}


def _filter_part(record: dict[str, Any]) -> dict[str, Any]:
    return {"id": record.get("id"), "shopId": record.get("shopId"), "webHookType": record.get("webHookType")}


def _same(answer: Any, record: dict[str, Any]) -> bool:
    """Whether an answer is this record: the same value in each of the contract's fields."""
    return isinstance(answer, dict) and all(answer.get(name) == record.get(name) for name in RECORD_FIELDS)


def _matches(record: dict[str, Any], params: dict[str, str]) -> bool:
    """The contract's filters: exact shopId, exact type when given."""
    return record.get("shopId") == params["shopId"] and params.get("type", record.get("webHookType")) == record.get(
        "webHookType"
    )


def _later(new: Any, old: Any) -> bool:
    numbers = all(isinstance(value, int) and not isinstance(value, bool) for value in (new, old))
    return numbers and new > old


def _empty_or_json(reply: Reply) -> bool:
    if not reply.body.strip():
        return True
    try:
        reply.json()
    except ValueError:
        return False
    return True


def _show(value: Any, limit: int = 600) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=False)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _summary(reply: Reply) -> str:
    text = reply.text.strip().replace("\n", " ")
    return f"{reply.status} with body {text[:600]!r}" if text else f"{reply.status} with no body"
