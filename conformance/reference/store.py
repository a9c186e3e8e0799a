"""SQLite storage of webhook records for the reference server.

One connection, shared by every request thread and guarded by a lock around each transaction: an in-memory
database cannot be shared between connections, and one writer at a time means no lost writes and no
"database is locked". A file database (``--db PATH``) survives restarts and runs in WAL mode.

Deletes are soft (``deleted = 1``): the clean server never returns a deleted record, but some planted faults
do. ``sequence`` is the insertion order, which makes the list order stable.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS webhooks (
    sequence    INTEGER PRIMARY KEY AUTOINCREMENT,
    id          TEXT NOT NULL UNIQUE,
    companyId   TEXT NOT NULL,
    shopId      TEXT,
    created     INTEGER NOT NULL,
    modified    INTEGER NOT NULL,
    deleted     INTEGER NOT NULL DEFAULT 0,
    updated     INTEGER NOT NULL DEFAULT 0,
    url         TEXT,
    webHookType TEXT,
    webHookUrls TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS webhooks_by_company ON webhooks (companyId, deleted, sequence);
"""
_COLUMNS = "id, companyId, shopId, created, modified, deleted, updated, url, webHookType, webHookUrls"
SELECT_BY_ID = f"SELECT {_COLUMNS} FROM webhooks WHERE id = ?"


@dataclass(frozen=True)
class WebHookRecord:
    """One stored PartnerWebHook."""

    id: str
    company_id: str
    shop_id: str | None
    created: int
    modified: int
    deleted: bool
    updated: bool
    url: str | None
    webhook_type: str | None
    webhook_urls: Any  # a list of URL strings on every record the clean server writes

    def to_json(self) -> dict[str, Any]:
        """The record as the API returns it: all ten fields, in the contract's order."""
        return {
            "id": self.id,
            "companyId": self.company_id,
            "shopId": self.shop_id,
            "created": self.created,
            "modified": self.modified,
            "deleted": self.deleted,
            "updated": self.updated,
            "url": self.url,
            "webHookType": self.webhook_type,
            "webHookUrls": self.webhook_urls,
        }

    def _row(self) -> tuple[Any, ...]:
        return (
            self.id,
            self.company_id,
            self.shop_id,
            self.created,
            self.modified,
            int(self.deleted),
            int(self.updated),
            self.url,
            self.webhook_type,
            json.dumps(self.webhook_urls),
        )


def _record(row: tuple[Any, ...]) -> WebHookRecord:
    return WebHookRecord(
        id=row[0],
        company_id=row[1],
        shop_id=row[2],
        created=row[3],
        modified=row[4],
        deleted=bool(row[5]),
        updated=bool(row[6]),
        url=row[7],
        webhook_type=row[8],
        webhook_urls=json.loads(row[9]),
    )


class WebHookStore:
    """Webhook records in SQLite; every method is one transaction and safe to call from any thread.

    ``company_id=None`` in a lookup means "any company": only planted faults use it.
    """

    def __init__(self, path: str = ":memory:") -> None:
        try:
            self._connection = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            if path != ":memory:":
                self._connection.execute("PRAGMA journal_mode = WAL")
                self._connection.execute("PRAGMA synchronous = NORMAL")
                self._connection.execute("PRAGMA busy_timeout = 5000")  # another process on the same file
            self._connection.executescript(_SCHEMA)
        except sqlite3.Error as error:
            raise ValueError(f"cannot open database {path}: {error}") from error
        self._lock = threading.Lock()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._connection.execute("BEGIN IMMEDIATE")
            try:
                yield self._connection
            except BaseException:
                self._connection.execute("ROLLBACK")
                raise
            self._connection.execute("COMMIT")

    def close(self) -> None:
        """Close the database; later calls raise ``sqlite3.ProgrammingError``."""
        with self._lock:
            self._connection.close()

    def insert(self, record: WebHookRecord, *, replace: bool = False) -> None:
        """Store a new record at the end of the list order. ``replace`` overwrites a record with the same
        id (only the `create-id-from-body` and `update-upsert` faults do that)."""
        verb = "INSERT OR REPLACE" if replace else "INSERT"
        with self._transaction() as db:
            db.execute(f"{verb} INTO webhooks ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", record._row())

    def get(self, webhook_id: str, company_id: str | None, *, include_deleted: bool = False) -> WebHookRecord | None:
        """The record with this id of this company; None if there is none (or it is deleted)."""
        with self._transaction() as db:
            return self._get(db, webhook_id, company_id, include_deleted)

    @staticmethod
    def _get(
        db: sqlite3.Connection, webhook_id: str, company_id: str | None, include_deleted: bool
    ) -> WebHookRecord | None:
        row = db.execute(SELECT_BY_ID, (webhook_id,)).fetchone()
        if row is None:
            return None
        record = _record(row)
        if company_id is not None and record.company_id != company_id:
            return None
        if record.deleted and not include_deleted:
            return None
        return record

    def find_by_prefix(self, prefix: str, company_id: str) -> WebHookRecord | None:
        """The first live record of the company whose id starts with ``prefix`` (the `read-id-prefix-match`
        fault; the pattern is deliberately not escaped, as in the bug it plants)."""
        with self._transaction() as db:
            row = db.execute(
                f"SELECT {_COLUMNS} FROM webhooks WHERE id LIKE ? || '%' AND companyId = ? AND deleted = 0 "
                "ORDER BY sequence LIMIT 1",
                (prefix, company_id),
            ).fetchone()
        return None if row is None else _record(row)

    def modify(
        self,
        webhook_id: str,
        company_id: str | None,
        change: Callable[[WebHookRecord], WebHookRecord],
        *,
        include_deleted: bool = False,
    ) -> WebHookRecord | None:
        """Read the record, write ``change(record)`` back in the same transaction and return it; None (and
        nothing written) if there is no such record. The list position (sequence) is kept."""
        with self._transaction() as db:
            current = self._get(db, webhook_id, company_id, include_deleted)
            if current is None:
                return None
            new = change(current)
            db.execute(
                "UPDATE webhooks SET id = ?, companyId = ?, shopId = ?, created = ?, modified = ?, deleted = ?, "
                "updated = ?, url = ?, webHookType = ?, webHookUrls = ? WHERE id = ?",
                (*new._row(), current.id),
            )
            return new

    def mark_deleted(self, webhook_id: str, company_id: str | None) -> bool:
        """Delete the live record with this id of this company; False if there is none."""
        query = "UPDATE webhooks SET deleted = 1 WHERE id = ? AND deleted = 0"
        params: tuple[str, ...] = (webhook_id,)
        if company_id is not None:
            query += " AND companyId = ?"
            params += (company_id,)
        with self._transaction() as db:
            return db.execute(query, params).rowcount > 0

    def delete_shop(self, company_id: str, shop_id: str | None) -> int:
        """Delete every live record of the company with this shopId (the `delete-by-shop` fault)."""
        with self._transaction() as db:
            return db.execute(
                "UPDATE webhooks SET deleted = 1 WHERE companyId = ? AND shopId IS ? AND deleted = 0",
                (company_id, shop_id),
            ).rowcount

    def records(self, company_id: str | None, *, include_deleted: bool = False) -> list[WebHookRecord]:
        """The company's records in insertion order (live ones only, unless ``include_deleted``)."""
        query = f"SELECT {_COLUMNS} FROM webhooks"
        conditions, params = [], []
        if company_id is not None:
            conditions.append("companyId = ?")
            params.append(company_id)
        if not include_deleted:
            conditions.append("deleted = 0")
        if conditions:
            query += " WHERE " + " AND ".join(conditions)
        with self._transaction() as db:
            return [_record(row) for row in db.execute(query + " ORDER BY sequence", params)]
