"""The ledger of records this run created, so that all of them, and only they, are deleted at the end."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from urllib.parse import unquote

from conformance.checker.client import Reply, TargetClient, TransportError
from conformance.checker.profile import Credentials


@dataclass
class LeftBehind:
    """A record the cleanup could not delete, and why."""

    id: str
    reason: str


@dataclass
class Cleanup:
    """What the cleanup did."""

    created: int = 0
    deleted: int = 0
    already_gone: int = 0  # answered 404 to every identity at cleanup: deleted during the run, or out of reach
    left_behind: list[LeftBehind] = field(default_factory=list)


class Ledger:
    """Every record created in this run, by whom, and whether it is gone.

    It is fed by observing answers (a 2xx create, or a PUT that upserted a new id), so every engine's
    writes are recorded, including records a faulty target created where it should not have.
    """

    def __init__(self) -> None:
        self._owners: dict[str, Credentials] = {}
        self._gone: set[str] = set()
        self._lock = threading.Lock()

    def record(self, webhook_id: str, owner: Credentials) -> None:
        with self._lock:
            self._owners.setdefault(webhook_id, owner)
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

    def clean_up(self, client: TargetClient, identities: list[Credentials] | None = None) -> Cleanup:
        """Delete every live record. Never raises.

        A record its creator gets 404 for is tried with the other identities too: a target that lets a body's
        `companyId` move a record (TENANT-04) would otherwise keep it out of our reach.
        """
        outcome = Cleanup(created=self.created)
        for webhook_id, owner in self.live().items():
            reason = None
            for identity in [owner, *(who for who in identities or [] if who != owner)]:
                try:
                    reply = _delete(client, webhook_id, identity)
                except TransportError as error:
                    reason = str(error)
                    break
                if reply.status != 404:
                    reason = None if reply.status in (200, 204) else f"DELETE answered {reply.status}"
                    break
            else:
                outcome.already_gone += 1
            if reason is None:
                self.forget(webhook_id)
            else:
                outcome.left_behind.append(LeftBehind(webhook_id, reason))
        outcome.deleted = outcome.created - len(outcome.left_behind) - outcome.already_gone
        return outcome


def _delete(client: TargetClient, webhook_id: str, identity: Credentials) -> Reply:
    """DELETE, tried once more after a request without a usable answer: a dropped connection should not leave
    a record behind, and a delete that did go through answers the second one with 404, which is harmless.
    (The client stops sending deletes that keep getting no answer, so this stays bounded.)"""
    try:
        return client.delete(webhook_id, identity=identity)
    except TransportError:
        return client.delete(webhook_id, identity=identity)


def _id_from_url(url: str) -> str:
    return unquote(url.split("?")[0].rsplit("/", 1)[-1])
