"""The ledger of what this run wrote, so that every record it caused, and only those, is deleted at the end.

Two sources, so that nothing a run caused escapes: the answers (a 2xx create, or a PUT that upserted a new
id, names a record), and the writes themselves, journaled before they are sent (`intend`). At the end the
named records are deleted, then a sweep lists the run's shops and the company as a whole (as every identity
that wrote) and deletes every live record carrying the run's mark (`marks.RunMark`), whatever the target
answered when it was written: an error, nothing, a dropped connection. Records that were there before the
run (`keep`) are never touched.

Side by side, the cleanup begins behind the engines (`clean_up_behind`): once only one engine is still running,
the records of those that have finished are deleted and the shops only they wrote to are swept, every write there
answered, while the last engine's chain of requests leaves the network idle. `clean_up` does the rest at the end,
and sweeps again no shop swept behind.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from conformance.checker import attribution
from conformance.checker.client import Reply, TargetClient, TransportError, page_values
from conformance.checker.evidence import Exchange
from conformance.checker.marks import RunMark
from conformance.checker.profile import Credentials
from conformance.checker.side_by_side import map_side_by_side
from conformance.contract import json_text

SWEEP_PAGE = 100
SWEEP_PAGES = 20  # pages of one list the sweep walks: a company-wide walk looks at 2,000 records at most


@dataclass
class LeftBehind:
    """A record the cleanup could not delete, and why."""

    id: str
    reason: str


@dataclass
class Write:
    """One write of the run, journaled before it was sent: its exchange fills in as the answer comes."""

    operation: str | None
    body: Any  # the JSON value sent, or None when the body was not JSON
    identity: Credentials
    exchange: Exchange
    origin: str | None = None  # the check that sent it, where the run says (`conformance replay` reruns it)
    engine: str = ""  # the engine that sent it ("" before the engines: the preflight)

    @property
    def answer(self) -> str:
        """What the target answered, in a few words."""
        if self.exchange.status is not None:
            return f"answered {self.exchange.status}"
        return f"no answer ({self.exchange.error})" if self.exchange.error else "no answer"


@dataclass
class Marked:
    """A live record carrying the run's mark, as a list showed it to `identity`."""

    record: dict[str, Any]
    identity: Credentials
    listing: Exchange

    @property
    def id(self) -> str:
        return str(self.record["id"])


@dataclass
class Found:
    """A record the sweep found that no answer named, and the write that most likely stored it."""

    marked: Marked
    write: Write | None

    @property
    def how(self) -> str:
        if self.write is None:
            return "stored by a write of this run (which one is not known)"
        return f"stored by {self.write.exchange.method} {self.write.exchange.url}, which {self.write.answer}"


@dataclass
class Cleanup:
    """What the cleanup did."""

    created: int = 0  # records the answers named
    deleted: int = 0
    already_gone: int = 0  # answered 404 to every identity at cleanup: deleted during the run, or out of reach
    left_behind: list[LeftBehind] = field(default_factory=list)
    found: list[Found] = field(default_factory=list)  # live records of the run that no answer named
    notes: list[str] = field(default_factory=list)

    @property
    def found_by_sweep(self) -> int:
        return len(self.found)


class Ledger:
    """Every write of this run and every record an answer named, by whom, and whether it is gone.

    It is fed by the client: `intend` before each write is sent, `observe` with each answer, so every engine's
    writes are recorded, including records a faulty target created where it should not have.
    """

    def __init__(self, mark: RunMark) -> None:
        self.mark = mark
        self.writes: list[Write] = []
        self._owners: dict[str, Credentials] = {}
        self._engines: dict[str, str] = {}  # record id -> the engine whose answer named it
        self._gone: set[str] = set()
        self._lock = threading.Lock()
        self.behind = Cleanup()  # what `clean_up_behind` did, for `clean_up` to count in
        self._swept: set[tuple[Credentials, str]] = set()  # (identity, shop) lists it walked, every record deleted

    def intend(self, operation: str | None, body: Any, identity: Credentials, exchange: Exchange) -> Write:
        """Journal a write before it is sent (a client intent)."""
        write = Write(operation, _json_value(body), identity, exchange, engine=attribution.ENGINE.get())
        with self._lock:
            self.writes.append(write)
        return write

    def record(self, webhook_id: str, owner: Credentials) -> None:
        with self._lock:
            self._owners.setdefault(webhook_id, owner)
            self._engines.setdefault(webhook_id, attribution.ENGINE.get())  # the thread that got the answer
            self._gone.discard(webhook_id)

    def forget(self, webhook_id: str) -> None:
        with self._lock:
            if webhook_id in self._owners:
                self._gone.add(webhook_id)

    def __contains__(self, webhook_id: object) -> bool:
        return webhook_id in self._owners

    def live(self) -> dict[str, Credentials]:
        with self._lock:
            return {key: owner for key, owner in self._owners.items() if key not in self._gone}

    @property
    def created(self) -> int:
        return len(self._owners)

    def shops(
        self, identities: list[Credentials], user_shops: tuple[str, ...] = (), writes: list[Write] | None = None
    ) -> list[str]:
        """The shops these identities wrote into that a sweep lists: the run's own, and the user's `--shop-id`s (of
        `writes`; None: every write so far)."""
        with self._lock:
            writes = self.writes if writes is None else writes
            sent = {write.body["shopId"] for write in writes if write.identity in identities and _has_shop(write)}
        listable = {shop for shop in sent if _encodable(shop)}  # a lone surrogate cannot go in a query string;
        # such a record is still found by the company-wide list (its URLs carry the mark)
        return sorted(shop for shop in listable if self.mark.is_run_shop(shop) or shop in user_shops)

    def identities(self, writes: list[Write] | None = None) -> list[Credentials]:
        """Every identity that wrote, in order of its first write (of `writes`; None: every write so far)."""
        with self._lock:
            return list(dict.fromkeys(write.identity for write in (self.writes if writes is None else writes)))

    def observe(self, reply: Reply) -> None:
        """Update the ledger from one answer (a client observer)."""
        if not 200 <= reply.status < 300:
            return
        body = reply.json_or_none()
        if reply.operation in ("createWebHook", "updateWebHook") and isinstance(body, dict):
            if isinstance(body.get("id"), str) and (
                reply.operation == "createWebHook" or body["id"] not in self or body["id"] in self._gone
            ):
                self.record(body["id"], reply.identity)
        elif reply.operation == "deleteWebHook":
            self.forget(_id_from_url(reply.exchange.url))

    def clean_up(
        self,
        client: TargetClient,
        identities: list[Credentials] | None = None,
        *,
        user_shops: tuple[str, ...] = (),
        keep: frozenset[str] = frozenset(),
        workers: int = 1,
    ) -> Cleanup:
        """Delete every live record the answers named, then sweep (see the module). Never raises.

        A record its creator gets 404 for is tried with the other identities too: a target that lets a body's
        `companyId` move a record (TENANT-04) would otherwise keep it out of our reach. `identities` are the
        profile's (default: the client's primary and second); the sweep lists as each of them. `keep` are the
        ids of records that were there before the run: never deleted, whatever they carry. Up to `workers`
        deletes (and the sweep's lists) go out at a time.
        """
        profile = client.profile
        everyone = identities or profile.identities
        live = self.live()
        behind = self.behind  # its deletes are among the others; its 404s were already gone
        outcome = Cleanup(
            created=self.created,
            deleted=self.created - len(live) - behind.already_gone + behind.deleted,  # the run deleted the others
            already_gone=behind.already_gone,
            found=list(behind.found),
            notes=list(behind.notes),
        )
        records = [(webhook_id, [creator, *everyone]) for webhook_id, creator in live.items()]
        reasons = delete_records(client, records, workers)
        for webhook_id, reason in zip(live, reasons, strict=True):
            if reason is GONE:
                outcome.already_gone += 1
            elif reason is None:
                self.forget(webhook_id)
                outcome.deleted += 1
            else:
                outcome.left_behind.append(LeftBehind(webhook_id, reason))
        if self.writes:  # a run that wrote nothing (read-only, or stopped before its first write) caused nothing
            self._sweep(client, everyone, user_shops, keep, outcome, workers)
        return outcome

    def clean_up_behind(
        self,
        client: TargetClient,
        identities: list[Credentials],
        finished: Callable[[str], bool],
        *,
        user_shops: tuple[str, ...] = (),
        keep: frozenset[str] = frozenset(),
        workers: int = 1,
    ) -> None:
        """While other engines still run: delete the live records that engines `finished` (by name) named, and
        sweep the shops that only they wrote to, every write there answered (a write that got no answer may yet
        land). Only what it finishes counts: a record whose delete failed is left to `clean_up`, and so is every
        shop when a list failed or a record it found could not be deleted. Never raises a TransportError
        (`self.behind` says what it did)."""
        with self._lock:  # which engines have finished is taken once: the last one may finish meanwhile
            writes = list(self.writes)
            engines = {*(write.engine for write in writes), *self._engines.values()}
            done = frozenset(name for name in engines if finished(name))
            live = {
                key: owner
                for key, owner in self._owners.items()
                if key not in self._gone and self._engines.get(key, "") in done
            }
        records = [(webhook_id, [creator, *identities]) for webhook_id, creator in live.items()]
        for webhook_id, reason in zip(live, delete_records(client, records, workers), strict=True):
            if reason is None or reason is GONE:
                self.forget(webhook_id)
                self.behind.already_gone += reason is GONE
        unsettled = {
            write.body["shopId"]
            for write in writes
            if _has_shop(write) and not (write.engine in done and write.exchange.status is not None)
        }
        shops = {  # of the writes taken above: a shop first written since is a running engine's
            identity: [shop for shop in listed if shop not in unsettled]
            for identity, listed in self._sweep_shops(identities, user_shops, writes).items()
        }
        named = set(self.live())  # the records answers named that are still there: the cleanup's at the end
        marked, unlisted = find_marked(client, self.mark, shops, set(keep) | named, workers, company=False)
        reasons = delete_records(client, [(item.id, [item.identity, *identities]) for item in marked], workers)
        for item, reason in zip(marked, reasons, strict=True):
            if reason is None:
                self.behind.found.append(Found(item, self._source_of(item)))
                self.behind.deleted += 1
        if unlisted or any(reason is not None and reason is not GONE for reason in reasons):
            return  # a list that failed, a record still there: the sweep at the end lists every shop again
        self._swept |= {(identity, shop) for identity, shop_ids in shops.items() for shop in shop_ids}

    def _sweep_shops(
        self, identities: list[Credentials], user_shops: tuple[str, ...], writes: list[Write] | None = None
    ) -> dict[Credentials, list[str]]:
        """The shops the sweep lists as each identity, of `writes` (None: every write so far)."""
        shops = {identity: self.shops([identity], user_shops, writes) for identity in identities}
        # Writes without the profile's keys (the AUTH checks') are listed as the first identity: a target that
        # served one stored it in some company, most likely the primary key's.
        strays = [who for who in self.identities(writes) if who not in identities]
        shops[identities[0]] = sorted({*shops[identities[0]], *self.shops(strays, user_shops, writes)})
        return shops

    def _sweep(
        self,
        client: TargetClient,
        identities: list[Credentials],
        user_shops: tuple[str, ...],
        keep: frozenset[str],
        outcome: Cleanup,
        workers: int,
    ) -> None:
        # Skipped: what was there before the run, and what the cleanup already reports as left behind. A record
        # an answer once named is swept too: a delete that answered 2xx, and a write that revived it, are seen.
        handled = set(keep) | {item.id for item in outcome.left_behind}
        shops = {
            identity: [shop for shop in listed if (identity, shop) not in self._swept]  # swept behind the engines
            for identity, listed in self._sweep_shops(identities, user_shops).items()
        }
        marked, notes = find_marked(client, self.mark, shops, handled, workers)
        outcome.notes += notes
        reasons = delete_records(client, [(item.id, [item.identity, *identities]) for item in marked], workers)
        for item, reason in zip(marked, reasons, strict=True):
            if reason is GONE:
                continue  # listed, yet gone for every identity: a stale list, not a record
            outcome.found.append(Found(item, self._source_of(item)))
            if reason is None:
                outcome.deleted += 1
            else:
                outcome.left_behind.append(LeftBehind(item.id, reason))

    def _source_of(self, item: Marked) -> Write | None:
        """The last write whose body the record holds (same shop and URLs; for a PUT, the path's id), preferring
        one of the identity that lists it and one whose answer named no record."""
        record = item.record

        def holds(write: Write) -> bool:
            if not _is_dict(write) or write.body.get("webHookUrls") != record.get("webHookUrls"):
                return False
            if write.body.get("shopId") != record.get("shopId"):
                return False
            return write.operation != "updateWebHook" or _id_from_url(write.exchange.url) == item.id

        with self._lock:
            candidates = [write for write in reversed(self.writes) if holds(write)]
        ranked = sorted(
            candidates,
            key=lambda write: (
                write.identity != item.identity,
                write.exchange.status is not None and 200 <= write.exchange.status < 300,
            ),
        )
        return ranked[0] if ranked else None


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


GONE: Any = object()  # `delete_record`: every identity got 404


def delete_records(client: TargetClient, records: list[tuple[str, list[Credentials]]], workers: int) -> list[Any]:
    """`delete_record` of each (id, identities), up to `workers` at a time; what each returned, in order.

    Side by side, a target that drops some requests may drop a delete and its retry both: each delete that got
    no answer is tried once more after the others, one at a time."""
    reasons = map_side_by_side(lambda record: delete_record(client, *record), records, workers, "cleanup")
    for index, record in enumerate(records):
        if isinstance(reasons[index], NoAnswer):
            reasons[index] = delete_record(client, *record)
    return reasons


class NoAnswer(str):
    """Why a record is still there: its delete got no usable answer (`delete_record`)."""


def delete_record(client: TargetClient, webhook_id: str, identities: list[Credentials]) -> Any:
    """DELETE a record as each identity in turn until one does not get 404: None when it is deleted, GONE when
    every identity got 404, else why it is still there (a `NoAnswer` when the target gave none)."""
    for identity in dict.fromkeys(identities):
        try:
            reply = _delete(client, webhook_id, identity)
        except TransportError as error:
            return NoAnswer(error)
        if reply.status != 404:
            return None if reply.status in (200, 204) else f"DELETE answered {reply.status}"
    return GONE


def find_marked(
    client: TargetClient,
    mark: RunMark,
    shops: dict[Credentials, list[str]],
    skip: set[str] | frozenset[str] = frozenset(),
    workers: int = 1,
    company: bool = True,
) -> tuple[list[Marked], list[str]]:
    """Every live record carrying `mark` that a list shows: for each identity its `shops` one by one, then (with
    `company`) the company as a whole (a record without a shopId is found by its URLs); up to `workers` lists at
    a time. Ids in `skip` are left out. Returns the records and notes on what could not be listed; never raises."""
    found: dict[str, Marked] = {}
    notes: list[str] = []
    lists = [
        (identity, params)
        for identity, shop_ids in shops.items()
        for params in [*({"shopId": shop} for shop in shop_ids), *([{}] if company else [])]
    ]

    def walk(item: tuple[Credentials, dict[str, Any]]) -> list[Reply] | TransportError:
        identity, params = item
        try:
            return client.list_all(params, page=SWEEP_PAGE, limit_pages=SWEEP_PAGES, identity=identity)
        except TransportError as error:
            return error

    for (identity, params), replies in zip(lists, map_side_by_side(walk, lists, workers, "sweep"), strict=True):
        if isinstance(replies, TransportError):
            notes.append(f"the sweep could not list {params or 'the company'}: {replies}")
            continue
        if not params and len(replies) == SWEEP_PAGES and page_values(replies[-1]):
            notes.append(f"the sweep looked at the first {SWEEP_PAGE * SWEEP_PAGES} records of the company only")
        for reply in replies:
            for record in page_values(reply) or []:
                webhook_id = record.get("id")
                usable = isinstance(webhook_id, str) and webhook_id not in skip and webhook_id not in found
                if usable and record.get("deleted") is not True and mark.carries(record):
                    found[webhook_id] = Marked(record, identity, reply.exchange)
    return list(found.values()), notes


def _delete(client: TargetClient, webhook_id: str, identity: Credentials) -> Reply:
    """DELETE, tried once more after a request without a usable answer: a dropped connection should not leave
    a record behind, and a delete that did go through answers the second one with 404, which is harmless.
    (The client stops sending deletes that keep getting no answer, so this stays bounded.)"""
    try:
        return client.delete(webhook_id, identity=identity)
    except TransportError:
        return client.delete(webhook_id, identity=identity)


def _json_value(body: Any) -> Any:
    if isinstance(body, bytes | str):
        try:
            return json_text.loads(body)
        except ValueError:
            return None
    return body


def _has_shop(write: Write) -> bool:
    return _is_dict(write) and isinstance(write.body.get("shopId"), str)


def _is_dict(write: Write) -> bool:
    return isinstance(write.body, dict)


def _id_from_url(url: str) -> str:
    return unquote(url.split("?")[0].rsplit("/", 1)[-1])
