"""The five operations of the Partner WebHooks API over the store, scoped to the caller's company.

Free of HTTP: each operation takes the authenticated company and the parsed request, and returns the JSON
answer or raises ``ApiError``. The planted faults that change an operation are small branches next to the
behaviour they alter, each naming its fault.
"""

from __future__ import annotations

import contextlib
import re
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from conformance.reference.errors import ApiError, PlantedCrash, PlantedDrop
from conformance.reference.store import WebHookRecord, WebHookStore
from conformance.reference.validation import (
    WEBHOOK_TYPES,
    ClientFields,
    Invalid,
    parse_legacy_url,
    parse_shop_id,
    parse_webhook,
)

DEFAULT_LIMIT = 100
MAX_LIMIT = 100
_INT64_MAX = 2**63 - 1
_INTEGER = re.compile(r"[-+]?[0-9]+")
LIST_CACHE_SECONDS = 5.0  # the `list-stale-cache` fault
PARTNER_ACCOUNT = "partner"  # the company the `create-company-is-partner` fault reports


class WebHookService:
    """Create, read, update, delete and list webhook records of one company at a time."""

    def __init__(
        self,
        store: WebHookStore,
        *,
        fault: str | None = None,
        clock_ms: Callable[[], int] = lambda: time.time_ns() // 1_000_000,
    ) -> None:
        self.store = store
        self.fault = fault
        self._clock_ms = clock_ms
        self._cache_lock = threading.Lock()
        self._created_cache: dict[str, dict[str, Any]] = {}  # `read-stale-cache`
        self._list_cache: dict[str, tuple[float, list[WebHookRecord]]] = {}  # `list-stale-cache`
        self._lists_of: Counter[tuple[str | None, ...]] = Counter()  # `list-unstable-order`: lists per query

    # -- create -------------------------------------------------------------------------------------------

    def create(self, company: str, body: dict[str, Any]) -> dict[str, Any]:
        """Store a new record from a create body (CREATE-01 to CREATE-07) and return it."""
        self._warm_list_cache(company)
        if self.fault == "http-crash-on-unicode" and not str(body.get("shopId", "")).isascii():
            raise PlantedCrash("non-ASCII shopId")
        fields = self._create_fields(company, body)
        if self.fault == "tenant-company-from-body" and _nonempty_string(body.get("companyId")):
            company = body["companyId"]
        record = self._new_record(company, fields)
        if self.fault == "create-id-from-body" and _nonempty_string(body.get("id")):
            record = replace(record, id=body["id"])
            self.store.insert(record, replace=True)
        else:
            self.store.insert(record)
        if self.fault == "create-stores-then-500" and not (record.shop_id or "").isascii():
            raise PlantedCrash("the event fan-out crashed on a non-ASCII shopId, after the record was stored")
        answer = record.to_json()
        if self.fault == "read-stale-cache":
            with self._cache_lock:
                self._created_cache[record.id] = answer
        if self.fault == "create-company-is-partner":
            answer = {**answer, "companyId": PARTNER_ACCOUNT}
        if self.fault == "create-returns-id-only":
            answer = {"id": record.id}
        return answer

    def _create_fields(self, company: str, body: dict[str, Any]) -> ClientFields:
        try:
            fields = parse_webhook(body, fault=self.fault)
        except Invalid as problem:
            if self.fault == "valid-insert-before-validate" and problem.field == "webHookType":
                # The bug: the record was inserted before its type was checked, and is not rolled back.
                with contextlib.suppress(Invalid):
                    early = parse_webhook({**body, "webHookType": None})
                    stored_type = str(body["webHookType"])
                    self.store.insert(self._new_record(company, replace(early, webhook_type=stored_type)))
            if self.fault == "create-stores-then-drops" and _case_variant(body.get("webHookType")):
                # The bug: the type is matched case-insensitively when stored, the answer's serializer then
                # crashes on it and takes the worker down: no answer at all.
                early = parse_webhook({**body, "webHookType": None})
                self.store.insert(self._new_record(company, replace(early, webhook_type=body["webHookType"])))
                raise PlantedDrop("the worker died after storing the record") from None
            raise self._invalid(problem) from None
        if self.fault == "create-drops-url":
            fields = replace(fields, url=None)
        if self.fault == "create-sorts-urls":
            fields = replace(fields, webhook_urls=sorted(fields.webhook_urls))
        return fields

    def _new_record(self, company: str, fields: ClientFields) -> WebHookRecord:
        now = self._now_ms()
        if self.fault == "create-timestamps-seconds":
            now //= 1000
        return WebHookRecord(
            id=uuid.uuid4().hex,
            company_id=company,
            shop_id=fields.shop_id,
            created=now,
            modified=now,
            deleted=False,
            updated=self.fault == "create-updated-true",
            url=fields.url,
            webhook_type=fields.webhook_type,
            webhook_urls=fields.webhook_urls,
        )

    # -- read ---------------------------------------------------------------------------------------------

    def read(self, company: str, webhook_id: str) -> dict[str, Any]:
        """The live record with this id of the company (READ-01); 404 otherwise (READ-02, TENANT-01)."""
        self._warm_list_cache(company)
        self._check_id_length(webhook_id)
        if self.fault == "read-stale-cache":
            with self._cache_lock:
                cached = self._created_cache.get(webhook_id)
            if cached is not None and cached["companyId"] == company:
                return cached
        record = self._find_for_read(company, webhook_id)
        answer = record.to_json()
        if self.fault == "read-drops-shopid":
            del answer["shopId"]
        return answer

    def _find_for_read(self, company: str, webhook_id: str) -> WebHookRecord:
        if self.fault == "read-id-prefix-match":
            record = self.store.find_by_prefix(webhook_id, company)
        elif self.fault == "tenant-get-no-check":
            record = self.store.get(webhook_id, None)
        else:
            record = self.store.get(webhook_id, company, include_deleted=self.fault == "delete-soft-readable")
        if record is None:
            if self.fault == "tenant-get-403" and self.store.get(webhook_id, None) is not None:
                raise ApiError(403, "this webhook belongs to another company", error_type="FORBIDDEN")
            raise _not_found()
        return record

    # -- update -------------------------------------------------------------------------------------------

    def update(self, company: str, webhook_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """Replace the client fields of a live record (UPDATE-01 to UPDATE-07) and return it."""
        self._warm_list_cache(company)
        self._check_id_length(webhook_id)
        fields = self._update_fields(body)
        if self.fault == "update-uses-body-id" and _nonempty_string(body.get("id")):
            webhook_id = body["id"]
        scope = None if self.fault == "tenant-put-no-check" else company

        def change(old: WebHookRecord) -> WebHookRecord:
            return self._updated(old, fields, body)

        if self.fault == "update-not-persisted":
            current = self.store.get(webhook_id, scope)
            if current is None:
                raise _not_found()
            return change(current).to_json()
        new = self.store.modify(webhook_id, scope, change, include_deleted=self.fault == "update-revives-deleted")
        if new is None:
            if self.fault in ("update-upsert", "update-upsert-404"):
                record = replace(self._new_record(company, fields), id=webhook_id)
                self.store.insert(record, replace=True)
                if self.fault == "update-upsert":
                    return record.to_json()
            raise _not_found()
        return new.to_json()

    def _update_fields(self, body: dict[str, Any]) -> ClientFields:
        try:
            if self.fault == "update-skips-validation":
                raw_type = body.get("webHookType")
                return ClientFields(
                    shop_id=parse_shop_id(body),
                    url=parse_legacy_url(body),
                    webhook_type=None if raw_type is None else str(raw_type),
                    webhook_urls=body.get("webHookUrls"),
                )
            return parse_webhook(body, fault=self.fault)
        except Invalid as problem:
            raise self._invalid(problem) from None

    def _updated(self, old: WebHookRecord, fields: ClientFields, body: dict[str, Any]) -> WebHookRecord:
        """The record after a full replacement of its client fields; `modified` always moves forward."""
        now = self._now_ms()
        new = replace(
            old,
            shop_id=fields.shop_id,
            url=fields.url,
            webhook_type=fields.webhook_type,
            webhook_urls=fields.webhook_urls,
            modified=max(now, old.modified + 1),  # UPDATE-03 even when two writes share a millisecond
            updated=True,
        )
        if self.fault == "update-drops-type":
            new = replace(new, webhook_type=None)
        if self.fault == "update-resets-created":
            new = replace(new, created=now)
        if self.fault == "update-company-from-body" and _nonempty_string(body.get("companyId")):
            new = replace(new, company_id=body["companyId"])
        if self.fault == "update-modified-unchanged":
            new = replace(new, modified=old.modified)
        if self.fault == "update-flag-not-set":
            new = replace(new, updated=old.updated)
        if self.fault == "update-revives-deleted":
            new = replace(new, deleted=False)
        return new

    # -- delete -------------------------------------------------------------------------------------------

    def delete(self, company: str, webhook_id: str) -> None:
        """Delete exactly the live record with this id of the company (DELETE-01 to DELETE-04)."""
        self._warm_list_cache(company)
        self._check_id_length(webhook_id)
        scope = None if self.fault == "tenant-delete-no-check" else company
        if self.fault == "delete-twice-ok" and self.store.get(webhook_id, scope, include_deleted=True):
            self.store.mark_deleted(webhook_id, scope)
            return
        if self.fault == "delete-by-shop":
            record = self.store.get(webhook_id, company)
            if record is None:
                raise _not_found()
            self.store.delete_shop(company, record.shop_id)
            return
        if not self.store.mark_deleted(webhook_id, scope):
            raise _not_found()
        with self._cache_lock:
            self._created_cache.pop(webhook_id, None)

    def delete_without_keys(self, webhook_id: str) -> None:
        """The `auth-delete-before-check` fault: delete whatever has this id, before any key is checked."""
        self.store.mark_deleted(webhook_id, None)

    # -- list ---------------------------------------------------------------------------------------------

    def search(self, company: str | None, query: Mapping[str, str]) -> dict[str, Any]:
        """One page of the company's live records matching ``shopId`` and ``type`` (LIST-01 to LIST-08).

        ``company`` None lists nothing: only the `auth-list-unauthenticated` fault calls without one.
        """
        if company is not None:
            self._warm_list_cache(company)
        start = self._start(query.get("start"))
        limit = self._limit(query.get("limit"))
        shop_id = query.get("shopId")
        if shop_id == "" and self.fault == "list-empty-shopid-no-filter":
            shop_id = None
        webhook_type = query.get("type")
        if webhook_type is not None and webhook_type not in WEBHOOK_TYPES:
            if self.fault == "list-unknown-type-empty":
                return {"values": [], "skip": start, "limit": limit, "total": 0}
            raise ApiError(400, "type must be one of the webhook types", field="type", error_type="VALIDATION")

        matching = [r for r in self._listed_records(company) if self._matches(r, shop_id, webhook_type)]
        total = len(matching)
        if self.fault == "tenant-total-leak":
            total = sum(self._matches(r, shop_id, webhook_type) for r in self.store.records(None))
        if self.fault == "list-total-includes-deleted" and company is not None:
            everything = self.store.records(company, include_deleted=True)
            total = sum(self._matches(r, shop_id, webhook_type) for r in everything)
        if self.fault == "list-unstable-order" and matching:
            # Each list of the same query starts one record further on: a walk of its pages shows one record
            # twice and misses another, every time (a shuffle let a replay see the same order by chance).
            query = (company, shop_id, webhook_type)
            with self._cache_lock:
                turn = self._lists_of[query]
                self._lists_of[query] += 1
            shift = turn % len(matching)
            matching = matching[shift:] + matching[:shift]

        first = start + 1 if self.fault == "list-off-by-one" and start > 0 else start
        page = matching if self.fault == "list-ignores-limit" else matching[first : first + limit]
        if start > 0 and start >= total:
            if self.fault == "list-past-end-404":
                raise _not_found()
            if self.fault == "list-past-end-total-zero":
                total = 0
        skip = start // limit if self.fault == "list-skip-is-page" else start
        if self.fault == "list-total-is-page-size":
            total = len(page)
        return {"values": [r.to_json() for r in page], "skip": skip, "limit": limit, "total": total}

    def _listed_records(self, company: str | None) -> list[WebHookRecord]:
        if company is None:
            return []
        if self.fault == "list-stale-cache":
            with self._cache_lock:
                return list(self._list_cache[company][1])
        if self.fault == "tenant-list-leak":
            return self.store.records(None)
        return self.store.records(company, include_deleted=self.fault == "delete-soft-listed")

    def _matches(self, record: WebHookRecord, shop_id: str | None, webhook_type: str | None) -> bool:
        """The shopId and type filters: exact matches, both applying (LIST-04)."""
        shop_ok = shop_id is None or record.shop_id == shop_id
        if shop_id is not None and record.shop_id is not None:
            if self.fault == "list-shopid-prefix":
                shop_ok = record.shop_id.startswith(shop_id)
            if self.fault == "list-shopid-case-folded":
                shop_ok = record.shop_id.casefold() == shop_id.casefold()
        type_ok = webhook_type is None or record.webhook_type == webhook_type
        if self.fault == "list-type-filter-ignored":
            type_ok = True
        if self.fault == "list-filters-union" and shop_id is not None and webhook_type is not None:
            return record.shop_id == shop_id or record.webhook_type == webhook_type
        return shop_ok and type_ok

    def _start(self, raw: str | None) -> int:
        if raw is None:
            return 0
        value = self._integer(raw)
        if value is not None and self.fault == "list-start-float64":
            value = int(float(value))  # a JavaScript number: integers above 2^53 round
        if value is not None and value < 0 and self.fault == "list-negative-start-accepted":
            return 0
        if value is None or value < 0:
            raise ApiError(400, "start must be a non-negative integer", field="start", error_type="VALIDATION")
        return value

    def _limit(self, raw: str | None) -> int:
        if raw is None:
            return DEFAULT_LIMIT
        value = self._integer(raw)
        if value is None and self.fault == "list-bad-limit-crash":
            raise PlantedCrash("int(limit)")
        if value is None or value < 1:
            raise ApiError(400, "limit must be a positive integer", field="limit", error_type="VALIDATION")
        if value > MAX_LIMIT:
            if self.fault == "list-limit-over-100-400":
                raise ApiError(400, "limit must be at most 100", field="limit", error_type="VALIDATION")
            if self.fault == "list-limit-not-clamped":
                return min(value, 1000)
        return min(value, MAX_LIMIT)  # LIST-08: clamped, not an error

    def _integer(self, raw: str) -> int | None:
        """A query integer (`integer`), or as the planted parsing faults read it."""
        if self.fault == "list-int-digit-limit-500" and len(raw) > 4300:
            raise PlantedCrash("ValueError: Exceeds the limit (4300 digits) for integer string conversion")
        if self.fault == "list-python-int":
            with contextlib.suppress(ValueError):
                return int(raw)
        if self.fault == "list-number-coercion":
            return _javascript_number(raw)
        return _decimal_integer(raw)

    # -- shared -------------------------------------------------------------------------------------------

    def _now_ms(self) -> int:
        now = self._clock_ms()
        if self.fault == "create-clock-skew":
            now -= 3_600_000  # a time zone bug: one hour behind
        return now

    def _invalid(self, problem: Invalid) -> ApiError:
        status = 422 if self.fault == "http-validation-422" else 400
        return ApiError(status, problem.message, field=problem.field, error_type=problem.error_type)

    def _check_id_length(self, webhook_id: str) -> None:
        if self.fault == "read-long-id-crash" and len(webhook_id) > 255:
            raise PlantedCrash("value too long for type character varying(255)")

    def _warm_list_cache(self, company: str) -> None:
        """The `list-stale-cache` fault: the company's first request of any kind fills its list cache,
        which is then refreshed only every few seconds, so a create followed by a list misses the record."""
        if self.fault != "list-stale-cache":
            return
        with self._cache_lock:
            taken = self._list_cache.get(company)
            if taken is None or time.monotonic() - taken[0] > LIST_CACHE_SECONDS:
                self._list_cache[company] = (time.monotonic(), self.store.records(company))


def _decimal_integer(raw: str) -> int | None:
    """A query integer (``[-+]?[0-9]+``, ASCII digits only); None if it is not one. Magnitudes beyond int64
    are clamped, so an absurd ``start`` is simply past the end (and Python's int() digit limit is never hit)."""
    if not _INTEGER.fullmatch(raw):
        return None
    digits = raw.lstrip("+-").lstrip("0") or "0"
    magnitude = _INT64_MAX if len(digits) > 19 else min(int(digits), _INT64_MAX)
    return -magnitude if raw.startswith("-") else magnitude


def _javascript_number(raw: str) -> int | None:
    """An integer as JavaScript's `Number()` reads a string (blank: 0; `0x`, `0b`, `0o` prefixes; decimal
    notation), or None for what is not an integral number there (the `list-number-coercion` fault)."""
    text = raw.strip(" \t\n\r\f\v")
    if not text:
        return 0
    if not text.isascii() or "_" in text:  # Python's int() and float() take these; Number() does not
        return None
    base = {"0x": 16, "0b": 2, "0o": 8}.get(text[:2].lower())
    try:
        value = int(text[2:], base) if base else float(text)
        return int(value) if value == int(value) else None
    except (ValueError, OverflowError):  # not a number, or Infinity
        return None
def _case_variant(value: Any) -> bool:
    """A webHookType that names a known type only once upper-cased (`new_member`)."""
    return isinstance(value, str) and value not in WEBHOOK_TYPES and value.upper() in WEBHOOK_TYPES


def _nonempty_string(value: Any) -> bool:
    return isinstance(value, str) and value != ""


def _not_found() -> ApiError:
    return ApiError(404, "webhook not found", error_type="NOT_FOUND")
