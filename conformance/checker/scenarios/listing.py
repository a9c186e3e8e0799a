"""Listing: the SearchResult envelope, totals, the pagination walk, exact filters, paging past the end,
bad paging parameters, read-your-writes and the limit clamp (LIST-01 to LIST-08).

Which records a list should hold. Without `--shop-id` every record here goes into shops whose ids carry
this run's tag, so a list filtered by one of them must hold exactly what the scenario wrote there. With
`--shop-id` the user names the shops we may write to, and such a shop may already hold records of the
company (and records that earlier scenarios of this run leave for the final cleanup). A scenario then
lists the shop just before it writes and expects that snapshot plus its own records; whatever else it
checks, it never needs the shop to hold only our records. The case-variant and prefix-extended shops that
catch loose shopId matching are made only without `--shop-id`, because their ids are not the user's; with
it, every value a shopId filter returns must still carry exactly that shopId.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from conformance.checker.client import Reply, page_values
from conformance.checker.scenario import Probe, scenario
from conformance.contract.facts import CLIENT_FIELDS, DEFAULT_LIST_LIMIT, MAX_LIST_LIMIT

# Three of the 11 types, for records that type filters must tell apart. Rarely used ones, so that a
# company's own records of other types show up should a target ignore the filter.
TYPES = ("UPDATE_PRODUCT", "CANCEL_TRANSACTION", "NEW_MEMBER")
MAX_WALK_PAGES = 25  # a walk over a big user-given shop raises its limit rather than its page count
EVIDENCE_PAGES = 6  # pages of a walk attached to a finding; more add length, not insight

# LIST-06: (parameter, value, what it is). Each is sent with an otherwise valid query.
BAD_QUERIES = (
    ("start", "-1", "a negative start"),
    ("start", "abc", "a start that is not a number"),
    ("start", "1.5", "a start that is not an integer"),
    ("limit", "0", "a limit of 0"),
    ("limit", "-5", "a negative limit"),
    ("limit", "1.5", "a limit that is not an integer"),
    ("limit", "ten", "a limit that is not a number"),
    ("type", "NOT_A_TYPE", "an unknown type"),
    ("type", "new_member", "a type in the wrong case (the 11 values are exact)"),
)


@dataclass
class Page:
    """One list call answered 200 with a SearchResult."""

    reply: Reply
    values: list[dict[str, Any]]
    skip: int
    limit: int
    total: int

    @property
    def ids(self) -> list[Any]:
        return [value.get("id") for value in self.values]


@scenario("LIST-01", "LIST-02", "LIST-03", "LIST-05", "LIST-08")
def pages_hold_every_record_once(probe: Probe) -> None:
    """Fill a shop, then page through it with several limits, past its end, and beyond the clamp."""
    shop = probe.shop_id()
    expected = [record["id"] for record in _snapshot(probe, shop)]
    for index in range(probe.budget.page_records):
        expected.append(_make(probe, shop, TYPES[index % len(TYPES)])["id"])
    _expect_defaults(probe, shop, len(expected))
    orders: dict[int, tuple[list[Any], Reply]] = {}
    for limit in _walk_limits(len(expected), probe.budget.page_records):
        walked = _walk(probe, {"shopId": shop}, limit, expected)
        if walked is not None:
            orders[limit] = walked
    _expect_same_order(probe, orders)
    _expect_past_end(probe, shop, len(expected))
    _expect_clamped(probe, shop)


@scenario("LIST-04", "LIST-02")
def filters_match_exactly(probe: Probe) -> None:
    """shopId matches exactly (not by prefix, not case-folded), type exactly, and both intersect."""
    shop = probe.shop_id()
    before = _snapshot(probe, shop)
    plan = [(shop, TYPES[0]), (shop, TYPES[0]), (shop, TYPES[1])]
    if not probe.profile.shop_ids:
        plan += [(shop + "x", TYPES[0]), (shop.upper(), TYPES[1])]
    records = before + [_make(probe, shop_id, kind) for shop_id, kind in plan]
    shops = sorted({shop_id for shop_id, _ in plan})
    for shop_id in shops:
        _expect_exact_filter(probe, {"shopId": shop_id}, records)
    for kind in TYPES[:2]:
        _expect_exact_filter(probe, {"shopId": shop, "type": kind}, records)
    _expect_type_filter(probe, TYPES[1], [r for r in records if r.get("webHookType") == TYPES[1]])


@scenario("LIST-06", writes=False)
def bad_paging_gets_400(probe: Probe) -> None:
    """A negative start, a limit below 1, a non-integer start or limit, or an unknown type get 400."""
    shop = probe.shop_id()  # a filter keeps a lenient target's answer small
    for name, value, what in BAD_QUERIES:
        reply = probe.client.list({"shopId": shop, name: value})
        probe.expect_status("LIST-06", reply, 400, f"a list with {what} ({name}={value})")


@scenario("LIST-07", "LIST-02")
def list_reflects_writes_at_once(probe: Probe) -> None:
    """A created record is listed at once, an update shows at once, a deleted record is gone at once."""
    shop = probe.shop_id()
    _gather(probe, {"shopId": shop})  # the read a caching target would answer the next lists from
    record = _make(probe, shop, TYPES[0])
    _expect_listed_as(probe, shop, record, "a record just created")
    _make(probe, shop, TYPES[0])  # a neighbour, so that a deleted record still counted shows in `total`
    change = {**record, "webHookType": TYPES[1], "webHookUrls": [probe.webhook_url()], "url": probe.webhook_url()}
    update = probe.client.update(record["id"], change)
    updated = update.json_or_none()
    if update.status != 200 or not isinstance(updated, dict):
        return  # UPDATE-01 is judged elsewhere; without an acknowledged update there is nothing to see
    _expect_listed_as(probe, shop, {**change, **updated}, "a record just updated")
    deletion = probe.client.delete(record["id"])
    if deletion.status not in (200, 204):
        return  # DELETE-01 is judged elsewhere
    replies, values, total = _gather(probe, {"shopId": shop})
    probe.expect(
        "LIST-07",
        all(value.get("id") != record["id"] for value in values),
        "a record just deleted gone from the list at once",
        "it is still listed",
        deletion,
        *replies[:EVIDENCE_PAGES],
    )
    # Whatever else the delete did (DELETE-04 judges that), the total counts what is listed.
    if total is not None:
        _expect_total(probe, replies[0], total, len(values), f"shopId={shop} after a delete, listing {len(values)}")


# -- what the shop holds ---------------------------------------------------------------------------------


def _make(probe: Probe, shop: str, kind: str) -> dict[str, Any]:
    """Create a record; the fields the answer leaves out are taken as sent (CREATE-01 judges the answer)."""
    body = probe.body(shopId=shop, webHookType=kind)
    return {**body, **probe.create(body)}


def _snapshot(probe: Probe, shop: str) -> list[dict[str, Any]]:
    """The shop's records before this scenario writes: none in a run-unique shop, the listing otherwise."""
    if probe.profile.shop_ids:
        return _gather(probe, {"shopId": shop})[1]
    return []


def _gather(probe: Probe, params: dict[str, Any]) -> tuple[list[Reply], list[dict[str, Any]], int | None]:
    """Every page of a list at the largest limit: (replies, values, total of the first page)."""
    replies = probe.list_all(params, page=MAX_LIST_LIMIT)
    values: list[dict[str, Any]] = []
    total = None
    for reply in replies:
        page = page_values(reply)
        if page is None:
            break
        values += page
        body = reply.json()  # page_values has vouched for a JSON object
        if total is None and _is_int(body.get("total")):
            total = body["total"]
    return replies, values, total


# -- one page ---------------------------------------------------------------------------------------------


def _list(probe: Probe, params: dict[str, Any], requirement_id: str = "LIST-01") -> Page | None:
    """List once; expect 200 (under `requirement_id`) and a SearchResult (LIST-01). None if not."""
    reply = probe.client.list(params)
    if not probe.expect_status(requirement_id, reply, 200, f"a list with {_query(params)}"):
        return None
    body = reply.json_or_none()
    shaped = (
        isinstance(body, dict)
        and isinstance(body.get("values"), list)
        and all(isinstance(value, dict) for value in body["values"])
        and all(_is_int(body.get(name)) for name in ("skip", "limit", "total"))
    )
    if not probe.expect(
        "LIST-01",
        shaped,
        "a SearchResult: values (records), skip, limit and total (integers)",
        lambda: f"the body {reply.text[:200]!r}",
        reply,
    ):
        return None
    return Page(reply, body["values"], body["skip"], body["limit"], body["total"])


def _expect_window(probe: Probe, page: Page, start: int, limit: int) -> None:
    """LIST-01: `skip` is the start used, `limit` the limit applied, and no more values than that."""
    probe.expect("LIST-01", page.skip == start, f"skip {start}", f"skip {page.skip}", page.reply)
    probe.expect("LIST-01", page.limit == limit, f"limit {limit}", f"limit {page.limit}", page.reply)
    probe.expect(
        "LIST-01",
        len(page.values) <= limit,
        f"at most {limit} values",
        f"{len(page.values)} values",
        page.reply,
    )


def _expect_total(probe: Probe, reply: Reply, total: int, expected: int, what: str) -> None:
    """LIST-02: `total` counts the live records that match, whatever the page."""
    probe.expect(
        "LIST-02",
        total == expected,
        f"total {expected}: the live records with {what}",
        f"total was {total}, expected {expected}: the live records with {what}",
        reply,
    )


def _expect_defaults(probe: Probe, shop: str, expected: int) -> None:
    """Without start and limit, the list starts at 0 with limit 100 (LIST-01)."""
    page = _list(probe, {"shopId": shop})
    if page is not None:
        _expect_window(probe, page, 0, DEFAULT_LIST_LIMIT)
        _expect_total(probe, page.reply, page.total, expected, f"shopId={shop}")


# -- the walk ---------------------------------------------------------------------------------------------


def _walk_limits(total: int, page_records: int) -> list[int]:
    """Limits for the walks: 1, 3 and one short of the records made, raised for a big shop."""
    floor = -(-total // MAX_WALK_PAGES)
    limits = (1, 3, max(1, page_records - 1), MAX_LIST_LIMIT)
    return sorted({min(MAX_LIST_LIMIT, max(limit, floor)) for limit in limits})


def _walk(probe: Probe, params: dict[str, Any], limit: int, expected: list[Any]) -> tuple[list[Any], Reply] | None:
    """Page through start = 0, limit, 2*limit, ... checking every page; (the ids in the order listed, the
    first page's reply)."""
    ids: list[Any] = []
    pages: list[Reply] = []
    for number in range(len(expected) // limit + 2):  # one page past the end, so extras can show
        start = number * limit
        page = _list(probe, {**params, "start": start, "limit": limit})
        if page is None:
            return None
        pages.append(page.reply)
        _expect_window(probe, page, start, limit)
        _expect_total(probe, page.reply, page.total, len(expected), f"{_query(params)}, start {start}")
        ids += page.ids
        if len(page.values) < limit:
            break
    _expect_each_once(probe, ids, expected, f"{_query(params)} with limit {limit}", pages)
    return ids, pages[0]


def _expect_each_once(probe: Probe, ids: list[Any], expected: list[Any], what: str, pages: list[Reply]) -> None:
    """LIST-03: the walk returned every expected record exactly once, and nothing else."""
    repeated = sorted(str(key) for key, count in Counter(ids).items() if count > 1)
    seen = set(ids)
    missing = [key for key in expected if key not in seen]
    extra = sorted(str(key) for key in seen - set(expected))

    def actual() -> str:
        parts = [f"{len(ids)} values over {len(pages)} pages"]
        parts += [f"{name}: {keys[:5]}" for name, keys in (("repeated", repeated), ("missing", missing)) if keys]
        parts += [f"not ours nor there before: {extra[:5]}"] if extra else []
        return "; ".join(parts)

    probe.expect(
        "LIST-03",
        not repeated and not missing and not extra,
        f"each of the {len(expected)} records exactly once paging {what}",
        actual,
        *_sample(pages),
    )


def _expect_same_order(probe: Probe, orders: dict[int, tuple[list[Any], Reply]]) -> None:
    """LIST-03: every walk saw the records in the same order (the largest limit's walk is the yardstick)."""
    if len(orders) < 2:
        return
    reference_limit = max(orders)
    reference, reference_page = orders[reference_limit]
    for limit, (ids, first_page) in orders.items():
        probe.expect(
            "LIST-03",
            ids == reference,
            f"the same order paging with limit {limit} as with limit {reference_limit}",
            lambda ids=ids: f"order {_short(ids)} against {_short(reference)}",
            reference_page,
            first_page,
        )


# -- past the end and beyond the clamp ------------------------------------------------------------------------


def _expect_past_end(probe: Probe, shop: str, expected: int) -> None:
    """LIST-05: a start at or past the total gets 200, no values and the same total."""
    for start in (expected, expected + 5, 1_000_000):
        page = _list(probe, {"shopId": shop, "start": start, "limit": 3}, "LIST-05")
        if page is None:
            continue
        probe.expect(
            "LIST-05",
            page.values == [] and page.total == expected,
            f"no values and total {expected} for start {start}",
            f"{len(page.values)} values, total {page.total}",
            page.reply,
        )


def _expect_clamped(probe: Probe, shop: str) -> None:
    """LIST-08: a limit above 100 is answered, with at most 100 values and limit 100 in the body."""
    for limit in (MAX_LIST_LIMIT + 1, 1000):
        page = _list(probe, {"shopId": shop, "limit": limit}, "LIST-08")
        if page is None:
            continue
        probe.expect(
            "LIST-08",
            page.limit == MAX_LIST_LIMIT and len(page.values) <= MAX_LIST_LIMIT,
            f"limit {MAX_LIST_LIMIT} and at most {MAX_LIST_LIMIT} values for limit={limit}",
            f"limit {page.limit}, {len(page.values)} values",
            page.reply,
        )
        probe.expect("LIST-01", page.skip == 0, "skip 0 without a start", f"skip {page.skip}", page.reply)


# -- filters ----------------------------------------------------------------------------------------------


def _expect_exact_filter(probe: Probe, params: dict[str, Any], records: list[dict[str, Any]]) -> None:
    """LIST-04 and LIST-02: the list holds exactly the known records that match, and counts them."""
    wanted = [record for record in records if _matches(record, params)]
    replies, values, total = _gather(probe, params)
    if not probe.expect_status("LIST-04", replies[-1], 200, f"a list with {_query(params)}"):
        return
    listed = {value.get("id") for value in values}
    wanted_ids = {record["id"] for record in wanted}
    strays = [value for value in values if value.get("id") not in wanted_ids or not _matches(value, params)]
    probe.expect(
        "LIST-04",
        not strays and wanted_ids <= listed,
        f"exactly the {len(wanted)} records with {_query(params)} (exact match: "
        f"not by prefix, not ignoring case; filters together intersect)",
        lambda: _describe_mismatch(values, strays, wanted_ids - listed),
        *replies[:EVIDENCE_PAGES],
    )
    if total is not None:
        _expect_total(probe, replies[0], total, len(wanted), _query(params))


def _expect_type_filter(probe: Probe, kind: str, ours: list[dict[str, Any]]) -> None:
    """LIST-04 on the whole company: every listed record has this type, and ours of it are among them.

    The company may hold any number of records of this type, so only the first page is read: our records
    must be on it when it is the whole list, and `total` can be no smaller than our count."""
    page = _list(probe, {"type": kind, "limit": MAX_LIST_LIMIT}, "LIST-04")
    if page is None:
        return
    strays = [value for value in page.values if value.get("webHookType") != kind]
    missing = {record["id"] for record in ours} - set(page.ids) if page.total <= len(page.values) else set()
    probe.expect(
        "LIST-04",
        not strays and not missing,
        f"only records of type {kind}, ours among them",
        lambda: _describe_mismatch(page.values, strays, missing),
        page.reply,
    )
    probe.expect(
        "LIST-02",
        page.total >= len(ours),
        f"a total of at least the {len(ours)} records of type {kind} this run made",
        f"total {page.total}",
        page.reply,
    )


def _matches(record: dict[str, Any], params: dict[str, Any]) -> bool:
    return all(
        record.get(field) == params[name]
        for name, field in (("shopId", "shopId"), ("type", "webHookType"))
        if name in params
    )


def _describe_mismatch(values: list[dict[str, Any]], strays: list[dict[str, Any]], missing: set[Any]) -> str:
    parts = [f"{len(values)} values"]
    if strays:
        shown = [(value.get("id"), value.get("shopId"), value.get("webHookType")) for value in strays[:5]]
        parts.append(f"not matching (id, shopId, webHookType): {shown}")
    if missing:
        parts.append(f"missing: {sorted(map(str, missing))[:5]}")
    return "; ".join(parts)


# -- read-your-writes -----------------------------------------------------------------------------------------


def _expect_listed_as(probe: Probe, shop: str, record: dict[str, Any], what: str) -> None:
    """LIST-07: the shop's list shows this record with the client fields the write acknowledged."""
    replies, values, _ = _gather(probe, {"shopId": shop})
    listed = next((value for value in values if value.get("id") == record["id"]), None)
    probe.expect(
        "LIST-07",
        listed is not None and all(listed.get(name) == record.get(name) for name in CLIENT_FIELDS),
        f"{what} listed at once as the write answered it",
        lambda: "it is not listed" if listed is None else f"it is listed as {listed}",
        *replies[:EVIDENCE_PAGES],
    )


# -- small things -----------------------------------------------------------------------------------------


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _query(params: dict[str, Any]) -> str:
    return urlencode(params) or "no parameters"


def _short(ids: list[Any]) -> str:
    return str([str(key)[:8] for key in ids[:10]]) + (" ..." if len(ids) > 10 else "")


def _sample(pages: list[Reply]) -> list[Reply]:
    return pages if len(pages) <= EVIDENCE_PAGES else [*pages[: EVIDENCE_PAGES - 1], pages[-1]]
