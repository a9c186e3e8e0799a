"""The clean reference server meets every authentication (AUTH) and tenancy (TENANT) requirement."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
import requests

from conformance.reference.keys import DEMO_DEVELOPER_KEY, DEMO_PARTNER_KEY

Record = dict[str, Any]
Operation = Callable[[Any, Record], requests.Response]


def _create(client: Any, record: Record) -> requests.Response:
    return client.post(client.body(shopId=record["shopId"]))


def _list(client: Any, record: Record) -> requests.Response:
    return client.list(shopId=record["shopId"])


def _read(client: Any, record: Record) -> requests.Response:
    return client.get(record["id"])


def _update(client: Any, record: Record) -> requests.Response:
    return client.put(record["id"], json=client.body(shopId=record["shopId"], webHookType="UPDATE_MEMBER"))


def _delete(client: Any, record: Record) -> requests.Response:
    return client.delete(record["id"])


EVERY_OPERATION: dict[str, Operation] = {
    "create": _create,
    "list": _list,
    "read": _read,
    "update": _update,
    "delete": _delete,
}
WRITES = {name: EVERY_OPERATION[name] for name in ("create", "update", "delete")}
RECORD_OPERATIONS = {name: EVERY_OPERATION[name] for name in ("read", "update", "delete")}

MISSING_KEYS: dict[str, dict[str, str | None]] = {
    "no partner key": {"partner_key": None},
    "no developer key": {"developer_key": None},
    "no keys at all": {"partner_key": None, "developer_key": None},
    "empty partner key": {"partner_key": ""},
    "empty developer key": {"developer_key": ""},
}
UNKNOWN_KEYS: dict[str, dict[str, str | None]] = {
    "unknown partner key": {"partner_key": "not-a-partner-key"},
    "unknown developer key": {"developer_key": "not-a-developer-key"},
    "both keys unknown": {"partner_key": "not-a-partner-key", "developer_key": "not-a-developer-key"},
    "partner key with a suffix": {"partner_key": DEMO_PARTNER_KEY + "-2"},
    "partner key prefix": {"partner_key": DEMO_PARTNER_KEY[:-1]},
    "partner key in upper case": {"partner_key": DEMO_PARTNER_KEY.upper()},
    "developer key with a suffix": {"developer_key": DEMO_DEVELOPER_KEY + "x"},
    "developer key with a Bearer prefix": {"developer_key": "Bearer " + DEMO_DEVELOPER_KEY},
    "keys swapped": {"partner_key": DEMO_DEVELOPER_KEY, "developer_key": DEMO_PARTNER_KEY},
}


def _assert_401_error(response: requests.Response) -> None:
    assert response.status_code == 401, response.text
    assert isinstance(response.json().get("message"), str), response.text


# -- AUTH-01 / AUTH-02: every operation refuses a missing or unknown key ------------------------------------


@pytest.mark.requirement("AUTH-01")
@pytest.mark.parametrize("keys", MISSING_KEYS.values(), ids=MISSING_KEYS.keys())
@pytest.mark.parametrize("operation", EVERY_OPERATION.values(), ids=EVERY_OPERATION.keys())
def test_call_without_a_key_gets_401(api, shop_id, operation, keys):
    record = api.create(shopId=shop_id)

    _assert_401_error(operation(api.with_keys(**keys), record))


@pytest.mark.requirement("AUTH-02")
@pytest.mark.parametrize("keys", UNKNOWN_KEYS.values(), ids=UNKNOWN_KEYS.keys())
@pytest.mark.parametrize("operation", EVERY_OPERATION.values(), ids=EVERY_OPERATION.keys())
def test_call_with_an_unknown_key_gets_401(api, shop_id, operation, keys):
    record = api.create(shopId=shop_id)

    _assert_401_error(operation(api.with_keys(**keys), record))


@pytest.mark.requirement("AUTH-01", "AUTH-02")
@pytest.mark.parametrize("operation", EVERY_OPERATION.values(), ids=EVERY_OPERATION.keys())
def test_call_with_both_known_keys_is_served(api, shop_id, operation):
    record = api.create(shopId=shop_id)

    response = operation(api, record)

    assert response.status_code in (200, 204), response.text


# -- AUTH-03: a 401 does nothing ------------------------------------------------------------------------------

BAD_KEYS = {**MISSING_KEYS, **UNKNOWN_KEYS}


@pytest.mark.requirement("AUTH-03")
@pytest.mark.parametrize("keys", BAD_KEYS.values(), ids=BAD_KEYS.keys())
def test_unauthorised_create_stores_nothing(api, shop_id, keys):
    assert api.with_keys(**keys).post(api.body(shopId=shop_id)).status_code == 401

    assert api.list(shopId=shop_id).json()["total"] == 0
    assert api.list().json()["total"] == 0


@pytest.mark.requirement("AUTH-03")
@pytest.mark.parametrize("keys", BAD_KEYS.values(), ids=BAD_KEYS.keys())
def test_unauthorised_update_changes_nothing(api, shop_id, keys):
    record = api.create(shopId=shop_id)

    assert _update(api.with_keys(**keys), record).status_code == 401

    assert api.get(record["id"]).json() == record


@pytest.mark.requirement("AUTH-03")
@pytest.mark.parametrize("keys", BAD_KEYS.values(), ids=BAD_KEYS.keys())
def test_unauthorised_delete_deletes_nothing(api, shop_id, keys):
    record = api.create(shopId=shop_id)

    assert api.with_keys(**keys).delete(record["id"]).status_code == 401

    assert api.get(record["id"]).json() == record
    assert api.list(shopId=shop_id).json()["values"] == [record]


# -- TENANT-01: another company's record looks exactly like a missing one ---------------------------------


def _not_found_shape(response: requests.Response, requested_id: str) -> tuple[Any, ...]:
    """What a 404 reveals, with the requested id itself blanked out of the message."""
    body = response.json()
    message = body.get("message", "").replace(requested_id, "<id>")
    return response.status_code, response.headers.get("Content-Type"), sorted(body), message


@pytest.mark.requirement("TENANT-01")
@pytest.mark.parametrize("operation", RECORD_OPERATIONS.values(), ids=RECORD_OPERATIONS.keys())
def test_other_company_gets_404_for_a_record(api, shop_id, operation):
    record = api.create(shopId=shop_id)

    response = operation(api.as_second(), record)

    assert response.status_code == 404, response.text


@pytest.mark.requirement("TENANT-01")
@pytest.mark.parametrize("operation", RECORD_OPERATIONS.values(), ids=RECORD_OPERATIONS.keys())
def test_other_companys_record_is_indistinguishable_from_a_missing_one(api, shop_id, operation):
    record = api.create(shopId=shop_id)
    missing = {**record, "id": str(uuid.uuid4())}
    other = api.as_second()

    foreign = _not_found_shape(operation(other, record), record["id"])
    absent = _not_found_shape(operation(other, missing), missing["id"])

    assert foreign == absent


# -- TENANT-02: lists and totals are per company ------------------------------------------------------------


@pytest.mark.requirement("TENANT-02")
def test_list_never_shows_another_companys_records(api, shop_id):
    for _ in range(3):
        api.create(shopId=shop_id)

    page = api.as_second().list(shopId=shop_id).json()

    assert page["values"] == []
    assert page["total"] == 0


@pytest.mark.requirement("TENANT-02")
def test_list_total_counts_only_own_company_in_a_shared_shop(api, shop_id):
    own = {api.create(shopId=shop_id)["id"] for _ in range(3)}
    for _ in range(2):
        api.as_second().create(shopId=shop_id)

    page = api.list(shopId=shop_id).json()

    assert page["total"] == 3
    assert {value["id"] for value in page["values"]} == own


@pytest.mark.requirement("TENANT-02")
def test_unfiltered_list_shows_only_own_company(api, shop_id):
    for _ in range(2):
        api.create(shopId=shop_id)
    theirs = api.as_second().create(shopId=shop_id)

    page = api.as_second().list().json()

    assert page["values"] == [theirs]
    assert page["total"] == 1


# -- TENANT-03: another company's writes do nothing ----------------------------------------------------------


@pytest.mark.requirement("TENANT-03")
def test_other_companys_update_changes_nothing(api, shop_id):
    record = api.create(shopId=shop_id, webHookType="NEW_MEMBER")

    _update(api.as_second(), record)

    assert api.get(record["id"]).json() == record


@pytest.mark.requirement("TENANT-03")
def test_other_companys_update_creates_nothing_for_them(api, shop_id):
    record = api.create(shopId=shop_id)

    _update(api.as_second(), record)

    assert api.as_second().list().json()["total"] == 0


@pytest.mark.requirement("TENANT-03")
def test_other_companys_delete_deletes_nothing(api, shop_id):
    record = api.create(shopId=shop_id)

    api.as_second().delete(record["id"])

    assert api.get(record["id"]).json() == record
    assert api.list(shopId=shop_id).json()["values"] == [record]


# -- TENANT-04: the key, never the body, decides the company ------------------------------------------------


@pytest.mark.requirement("TENANT-04")
def test_company_id_in_create_body_is_ignored(api, shop_id):
    record = api.create(shopId=shop_id, companyId="globex")

    assert record["companyId"] == "acme"
    assert api.get(record["id"]).json()["companyId"] == "acme"


@pytest.mark.requirement("TENANT-04")
def test_record_created_with_foreign_company_id_stays_invisible_to_that_company(api, shop_id):
    record = api.create(shopId=shop_id, companyId="globex")

    assert api.as_second().get(record["id"]).status_code == 404
    assert api.as_second().list(shopId=shop_id).json()["total"] == 0


@pytest.mark.requirement("TENANT-04")
def test_company_id_in_update_body_is_ignored(api, shop_id):
    record = api.create(shopId=shop_id)

    response = api.put(record["id"], json={**record, "companyId": "globex"})

    assert response.json()["companyId"] == "acme"
    assert api.get(record["id"]).json()["companyId"] == "acme"
    assert api.as_second().get(record["id"]).status_code == 404
