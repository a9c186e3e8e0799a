"""The clean reference server meets every read (READ), update (UPDATE) and delete (DELETE) requirement."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import pytest

BASE_PATH = "/api/v1/partner/webHooks"
NEW_FIELDS = {
    "url": "https://legacy.example.com/updated",
    "shopId": "shop-after-update",
    "webHookType": "UPDATE_CONSUMER_ORDER",
    "webHookUrls": ["https://hooks.example.com/updated/2", "https://hooks.example.com/updated/1"],
}
# Ids no record has, as they go on the request line: long, unicode, dot segments, encoded slashes, spaces...
UNKNOWN_ID_TARGETS = {
    "random uuid": str(uuid.uuid4()),
    "5000 characters": "x" * 5000,
    "unicode": "%C3%BCn%C3%AFc%C3%B8d%C3%A9-%F0%9F%A6%84",
    "dot dot": "..",
    "dot": ".",
    "encoded dot dot": "%2E%2E",
    "encoded slash": "a%2Fb",
    "encoded traversal": "..%2F..%2Fetc%2Fpasswd",
    "spaces": "a%20b%20c",
    "nul byte": "%00",
    "invalid utf-8": "%FF%FE",
    "literal percent": "%25",
    "sql quote": "%27%20OR%20%271%27=%271",
    "star": "*",
    "null": "null",
    "zero": "0",
    "negative": "-1",
}


def _later(record: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """The record with new client fields, as a client sends a full PartnerWebHook to PUT."""
    return {**record, **NEW_FIELDS, **fields}


# -- READ-01: a read returns the last write --------------------------------------------------------------------


@pytest.mark.requirement("READ-01")
def test_read_returns_the_record_create_returned(api, shop_id):
    record = api.create(shopId=shop_id, webHookType="NEW_MEMBER", url="https://legacy.example.com/a")

    response = api.get(record["id"])

    assert response.status_code == 200
    assert response.json() == record


@pytest.mark.requirement("READ-01")
def test_read_returns_the_record_the_last_update_returned(api, shop_id):
    record = api.create(shopId=shop_id)
    api.put(record["id"], json=_later(record, webHookType="NEW_MEMBER"))
    last = api.put(record["id"], json=_later(record, webHookType="UPDATE_MEMBER")).json()

    assert api.get(record["id"]).json() == last


@pytest.mark.requirement("READ-01")
def test_read_is_the_same_on_every_call(api):
    record = api.create()

    assert [api.get(record["id"]).json() for _ in range(3)] == [record] * 3


# -- READ-02: any id that names no record gets 404 -----------------------------------------------------------


@pytest.mark.requirement("READ-02")
@pytest.mark.parametrize("target", UNKNOWN_ID_TARGETS.values(), ids=UNKNOWN_ID_TARGETS.keys())
def test_read_of_an_id_that_does_not_exist_gets_404(api, send_raw, target):
    api.create()

    response = send_raw("GET", f"{BASE_PATH}/{target}")

    assert response.status_code == 404, response.text
    assert isinstance(response.json().get("message"), str)


@pytest.mark.requirement("READ-02")
@pytest.mark.parametrize("near", [lambda real: real[:-1], lambda real: real + "0"], ids=["prefix", "suffix"])
def test_read_of_an_id_next_to_an_existing_one_gets_404(api, near):
    real = api.create()["id"]

    assert api.get(near(real)).status_code == 404


# -- UPDATE-01: an update is stored and answered ---------------------------------------------------------------


@pytest.mark.requirement("UPDATE-01")
def test_update_gets_200_and_the_updated_record(api, shop_id):
    record = api.create(shopId=shop_id, webHookType="NEW_MEMBER")

    response = api.put(record["id"], json=_later(record))

    assert response.status_code == 200, response.text
    assert {field: response.json()[field] for field in NEW_FIELDS} == NEW_FIELDS


@pytest.mark.requirement("UPDATE-01")
def test_read_after_update_returns_what_the_update_returned(api, shop_id):
    record = api.create(shopId=shop_id)

    updated = api.put(record["id"], json=_later(record)).json()

    assert api.get(record["id"]).json() == updated


@pytest.mark.requirement("UPDATE-01")
def test_update_can_set_optional_fields_to_null(api, shop_id):
    record = api.create(shopId=shop_id, webHookType="NEW_MEMBER", url="https://legacy.example.com/a")

    updated = api.put(record["id"], json={**record, "shopId": None, "webHookType": None, "url": None}).json()

    assert (updated["shopId"], updated["webHookType"], updated["url"]) == (None, None, None)


# -- UPDATE-02: identity and creation time never change ------------------------------------------------------


@pytest.mark.requirement("UPDATE-02")
def test_update_keeps_id_company_and_created(api, shop_id):
    record = api.create(shopId=shop_id)
    time.sleep(0.002)

    updated = api.put(record["id"], json=_later(record, companyId="globex", created=0)).json()

    assert (updated["id"], updated["companyId"], updated["created"]) == (
        record["id"],
        record["companyId"],
        record["created"],
    )


@pytest.mark.requirement("UPDATE-02")
def test_stored_record_keeps_id_company_and_created_after_update(api, shop_id):
    record = api.create(shopId=shop_id)
    api.put(record["id"], json=_later(record, companyId="globex", created=1))

    stored = api.get(record["id"]).json()

    assert (stored["id"], stored["companyId"], stored["created"]) == (
        record["id"],
        record["companyId"],
        record["created"],
    )


@pytest.mark.requirement("UPDATE-02", "UPDATE-07")
def test_update_with_a_different_body_id_is_ignored_or_rejected(api, shop_id):
    record = api.create(shopId=shop_id)

    response = api.put(record["id"], json=_later(record, id="some-other-id"))

    assert response.status_code in (200, 400), response.text
    if response.status_code == 200:
        assert response.json()["id"] == record["id"]
    assert api.get("some-other-id").status_code == 404


# -- UPDATE-03 / UPDATE-04: modified moves forward, updated turns true ---------------------------------------


@pytest.mark.requirement("UPDATE-03")
def test_update_moves_modified_forward(api):
    record = api.create()
    time.sleep(0.002)

    updated = api.put(record["id"], json=_later(record)).json()

    assert updated["modified"] > record["modified"]


@pytest.mark.requirement("UPDATE-03")
def test_every_update_moves_modified_forward(api):
    record = api.create()
    seen = [record["modified"]]
    for _ in range(3):
        time.sleep(0.002)
        seen.append(api.put(record["id"], json=_later(record)).json()["modified"])

    assert seen == sorted(set(seen))


@pytest.mark.requirement("UPDATE-03")
def test_update_ignores_modified_in_the_body(api):
    record = api.create()
    time.sleep(0.002)

    updated = api.put(record["id"], json=_later(record, modified=record["modified"])).json()

    assert updated["modified"] > record["modified"]


@pytest.mark.requirement("UPDATE-04")
def test_update_marks_the_record_updated(api):
    record = api.create()

    assert api.put(record["id"], json=_later(record)).json()["updated"] is True
    assert api.get(record["id"]).json()["updated"] is True


@pytest.mark.requirement("UPDATE-04")
def test_update_ignores_updated_false_in_the_body(api):
    record = api.create()

    assert api.put(record["id"], json=_later(record, updated=False)).json()["updated"] is True


# -- UPDATE-05: no upsert ------------------------------------------------------------------------------------


@pytest.mark.requirement("UPDATE-05")
@pytest.mark.parametrize("target", UNKNOWN_ID_TARGETS.values(), ids=UNKNOWN_ID_TARGETS.keys())
def test_update_of_an_id_that_does_not_exist_gets_404(api, send_raw, target):
    body = json.dumps(api.body(shopId="shop-1")).encode()

    response = send_raw("PUT", f"{BASE_PATH}/{target}", headers={"Content-Type": "application/json"}, body=body)

    assert response.status_code == 404, response.text


@pytest.mark.requirement("UPDATE-05")
def test_update_of_an_id_that_does_not_exist_creates_nothing(api, shop_id):
    missing = str(uuid.uuid4())

    api.put(missing, json={**api.body(shopId=shop_id), "id": missing})

    assert api.get(missing).status_code == 404
    assert api.list().json()["total"] == 0


@pytest.mark.requirement("UPDATE-05")
def test_update_of_a_deleted_id_gets_404(api, shop_id):
    record = api.create(shopId=shop_id)
    api.delete(record["id"])

    assert api.put(record["id"], json=_later(record)).status_code == 404


@pytest.mark.requirement("UPDATE-05", "DELETE-02")
def test_update_of_a_deleted_id_does_not_revive_it(api, shop_id):
    record = api.create(shopId=shop_id)
    api.delete(record["id"])

    api.put(record["id"], json=_later(record, shopId=shop_id))

    assert api.get(record["id"]).status_code == 404
    assert api.list().json()["total"] == 0


# -- UPDATE-07: a body id never reaches another record -------------------------------------------------------


@pytest.mark.requirement("UPDATE-07")
def test_update_naming_another_record_in_the_body_leaves_that_record_unchanged(api, shop_id):
    target = api.create(shopId=shop_id, webHookType="NEW_MEMBER")
    bystander = api.create(shopId=shop_id, webHookType="UPDATE_MEMBER")

    api.put(target["id"], json=_later(target, id=bystander["id"]))

    assert api.get(bystander["id"]).json() == bystander


@pytest.mark.requirement("UPDATE-07")
def test_update_naming_another_record_in_the_body_changes_only_the_path_record(api, shop_id):
    target = api.create(shopId=shop_id, webHookType="NEW_MEMBER")
    bystander = api.create(shopId=shop_id, webHookType="UPDATE_MEMBER")

    response = api.put(target["id"], json=_later(target, id=bystander["id"]))

    expected = response.json() if response.status_code == 200 else target
    assert api.get(target["id"]).json() == expected
    assert api.list().json()["total"] == 2


# -- DELETE-01: a live record can be deleted ------------------------------------------------------------------


@pytest.mark.requirement("DELETE-01")
def test_delete_of_a_live_record_gets_200_or_204(api):
    record = api.create()

    assert api.delete(record["id"]).status_code in (200, 204)


@pytest.mark.requirement("DELETE-01")
def test_delete_answer_body_if_any_is_json(api):
    response = api.delete(api.create()["id"])

    if response.status_code == 200 and response.content:
        assert response.headers["Content-Type"].startswith("application/json")
        assert isinstance(response.json(), dict)
    else:
        assert response.content == b""


# -- DELETE-02: a deleted record is gone everywhere -----------------------------------------------------------


@pytest.mark.requirement("DELETE-02")
def test_read_after_delete_gets_404(api):
    record = api.create()
    api.delete(record["id"])

    assert api.get(record["id"]).status_code == 404


@pytest.mark.requirement("DELETE-02")
def test_update_after_delete_gets_404(api):
    record = api.create()
    api.delete(record["id"])

    assert api.put(record["id"], json=_later(record)).status_code == 404


@pytest.mark.requirement("DELETE-02")
def test_deleted_record_is_gone_from_list_and_total(api, shop_id):
    kept = api.create(shopId=shop_id)
    gone = api.create(shopId=shop_id)

    api.delete(gone["id"])

    page = api.list(shopId=shop_id).json()
    assert page["values"] == [kept]
    assert page["total"] == 1


@pytest.mark.requirement("DELETE-02")
def test_deleted_record_is_gone_from_a_type_filtered_list(api, shop_id):
    record = api.create(shopId=shop_id, webHookType="CANCEL_TRANSACTION")

    api.delete(record["id"])

    assert api.list(type="CANCEL_TRANSACTION").json()["total"] == 0


# -- DELETE-03: deleting what is not there gets 404 -----------------------------------------------------------


@pytest.mark.requirement("DELETE-03")
@pytest.mark.parametrize("target", UNKNOWN_ID_TARGETS.values(), ids=UNKNOWN_ID_TARGETS.keys())
def test_delete_of_an_id_that_does_not_exist_gets_404(api, send_raw, target):
    api.create()

    response = send_raw("DELETE", f"{BASE_PATH}/{target}")

    assert response.status_code == 404, response.text
    assert api.list().json()["total"] == 1


@pytest.mark.requirement("DELETE-03")
def test_second_delete_of_the_same_id_gets_404(api):
    record = api.create()
    api.delete(record["id"])

    assert api.delete(record["id"]).status_code == 404


# -- DELETE-04: a delete removes exactly one record -----------------------------------------------------------


@pytest.mark.requirement("DELETE-04")
def test_delete_removes_exactly_that_record(api, shop_id):
    same_shop = [api.create(shopId=shop_id, webHookType="NEW_MEMBER") for _ in range(3)]
    other_shop = api.create(shopId=shop_id + "-other", webHookType="NEW_MEMBER")
    other_company = api.as_second().create(shopId=shop_id, webHookType="NEW_MEMBER")

    api.delete(same_shop[1]["id"])

    survivors = [same_shop[0], same_shop[2], other_shop]
    assert [api.get(record["id"]).json() for record in survivors] == survivors
    assert api.as_second().get(other_company["id"]).json() == other_company


@pytest.mark.requirement("DELETE-04")
def test_delete_leaves_the_rest_of_the_list_in_order(api, shop_id):
    records = [api.create(shopId=shop_id) for _ in range(5)]

    api.delete(records[2]["id"])

    assert api.list(shopId=shop_id).json()["values"] == records[:2] + records[3:]
