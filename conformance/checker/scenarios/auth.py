"""Authentication: the auth matrix on every operation (AUTH-01, AUTH-02) and that a 401 does not act (AUTH-03).

The reads alone are also checked by a scenario that writes nothing, so that a read-only run checks them too."""

from __future__ import annotations

import secrets
from typing import Any

from conformance.checker.profile import Credentials
from conformance.checker.scenario import Probe, scenario
from conformance.contract.facts import absent_record_id


@scenario("AUTH-01", "AUTH-03")
def missing_keys_get_401(probe: Probe) -> None:
    """Leave out the partner key, the developer key, or both: every operation answers 401 and does nothing."""
    body = probe.body()
    record = probe.create(body)
    _expect_401_everywhere(probe, record, body["shopId"], missing_keys(probe.primary), "AUTH-01")


@scenario("AUTH-02", "AUTH-03")
def unknown_keys_get_401(probe: Probe) -> None:
    """Unknown keys, and keys that only start like a valid one, get 401 and do nothing."""
    body = probe.body()
    record = probe.create(body)
    _expect_401_everywhere(probe, record, body["shopId"], unknown_keys(probe.primary), "AUTH-02")


@scenario("AUTH-01", "AUTH-02", writes=False)
def reads_without_valid_keys_get_401(probe: Probe) -> None:
    """A list, and a GET of an id no record has, without a key or with a wrong one: 401 (writes nothing)."""
    shop_id, absent_id = probe.shop_id(), absent_record_id(probe.state.run_tag)
    for requirement_id, identities in (
        ("AUTH-01", missing_keys(probe.primary)),
        ("AUTH-02", unknown_keys(probe.primary)),
    ):
        for how, identity in identities.items():
            reply = probe.client.list({"shopId": shop_id, "limit": 1}, identity=identity)
            probe.expect_status(requirement_id, reply, 401, f"list {how}")
            reply = probe.client.get(absent_id, identity=identity)
            probe.expect_status(requirement_id, reply, 401, f"get of an id no record has, {how}")


def missing_keys(good: Credentials) -> dict[str, Credentials]:
    """Identities that leave out a key (AUTH-01), by how."""
    return {
        "without the partner key": Credentials(None, good.developer_key),
        "without the developer key": Credentials(good.partner_key, None),
        "without any key": Credentials(None, None),
    }


def unknown_keys(good: Credentials) -> dict[str, Credentials]:
    """Identities that send a key the target does not know (AUTH-02), by how."""
    unknown = f"unknown-{secrets.token_hex(8)}"
    return {
        "with an unknown partner key": Credentials(unknown, good.developer_key),
        "with an unknown developer key": Credentials(good.partner_key, unknown),
        "with a partner key that only starts like the valid one": Credentials(
            f"{good.partner_key}x", good.developer_key
        ),
        "with a developer key that only starts like the valid one": Credentials(
            good.partner_key, f"{good.developer_key}x"
        ),
        "with the keys swapped": Credentials(good.developer_key, good.partner_key),
    }


def _expect_401_everywhere(
    probe: Probe, record: dict[str, Any], shop_id: str, identities: dict[str, Credentials], requirement_id: str
) -> None:
    """Call every operation as each identity; each must get 401, and each 401 must leave the data alone: a
    refused create adds nothing to the shop (its total before and after), a refused update or delete leaves the
    record as a GET gave it (read after, that read the evidence). A read changes nothing, refused or not, so
    nothing is looked at after one; after a write that was not refused the record is read (or made) again."""
    client = probe.client
    record = probe.read(record["id"]) or record  # as GET gives it: what a later GET is compared with
    for how, identity in identities.items():
        for name in ("list", "get", "create", "update", "delete"):
            total_before = shop_total(probe, shop_id) if name == "create" else None
            if name == "list":
                reply = client.list({"shopId": shop_id}, identity=identity)
            elif name == "get":
                reply = client.get(record["id"], identity=identity)
            elif name == "create":
                reply = client.create(probe.body(shopId=shop_id), identity=identity)
            elif name == "update":
                reply = client.update(record["id"], probe.body(shopId=shop_id), identity=identity)
            else:
                reply = client.delete(record["id"], identity=identity)
            probe.expect_status(requirement_id, reply, 401, f"{name} {how}")
            if name in ("list", "get"):
                continue
            if reply.status != 401:
                record = probe.read(record["id"]) or probe.create(probe.body(shopId=shop_id))
                continue
            if name == "create":
                total_after = shop_total(probe, shop_id)
                probe.expect(
                    "AUTH-03",
                    total_after == total_before,
                    f"no record created by a create {how} that got 401",
                    f"the shop's total went from {total_before} to {total_after}",
                    reply,
                )
            else:
                now, looked = probe.look(record["id"])
                probe.expect(
                    "AUTH-03",
                    now == record,
                    f"the record unchanged after a {name} {how} that got 401",
                    lambda now=now: "the record is gone" if now is None else f"the record changed to {now}",
                    reply,
                    looked,
                )
                record = now or probe.create(probe.body(shopId=shop_id))


def shop_total(probe: Probe, shop_id: str) -> int | None:
    body = probe.client.list({"shopId": shop_id, "limit": 1}).json_or_none()
    return body.get("total") if isinstance(body, dict) else None
