"""The clean reference server meets every create (CREATE) and validation (VALID) requirement."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
import requests

EVENT_TYPES = (
    "NEW_CONSUMER_ORDER",
    "NEW_CONSUMER_SIGNUP",
    "UPDATE_CONSUMER_ORDER",
    "UPDATE_CONSUMER_USER",
    "NEW_MEMBER",
    "UPDATE_MEMBER",
    "CREATE_TRANSACTION",
    "UPDATE_TRANSACTION",
    "CANCEL_TRANSACTION",
    "COMPLETE_TRANSACTION",
    "UPDATE_PRODUCT",
)
HOOK = "https://hooks.example.com/partner/orders"
CLOCK_SKEW_MS = 5 * 60 * 1000
MIB = 1024 * 1024


@pytest.fixture
def reference_server(module_reference_server):
    """One clean server for the whole module: every test here keeps to its own records and shop ids, and
    counts what a rejected request stored as a difference, so no test depends on another's leftovers."""
    return module_reference_server


def _url_of_length(length: int) -> str:
    prefix = "https://hooks.example.com/"
    return prefix + "a" * (length - len(prefix))


def _assert_400_error(response: requests.Response) -> None:
    assert response.status_code == 400, response.text
    assert isinstance(response.json().get("message"), str), response.text


# -- CREATE-01: a valid body is stored and answered ----------------------------------------------------------


@pytest.mark.requirement("CREATE-01")
def test_create_with_a_valid_body_gets_200_and_the_record(api, shop_id):
    response = api.post(api.body(shopId=shop_id, webHookType="NEW_CONSUMER_ORDER"))

    assert response.status_code in (200, 201), response.text
    assert response.json()["webHookUrls"] == [HOOK]


@pytest.mark.requirement("CREATE-01")
def test_create_with_only_webhook_urls_is_accepted(api):
    response = api.post({"webHookUrls": [HOOK]})

    assert response.status_code in (200, 201), response.text


@pytest.mark.requirement("CREATE-01")
def test_created_record_can_be_read_back(api, shop_id):
    record = api.post(api.body(shopId=shop_id)).json()

    assert api.get(record["id"]).status_code == 200


@pytest.mark.requirement("CREATE-01", "VALID-03")
@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_create_accepts_every_event_type(api, shop_id, event_type):
    response = api.post(api.body(shopId=shop_id, webHookType=event_type))

    assert response.status_code in (200, 201), response.text
    assert response.json()["webHookType"] == event_type


@pytest.mark.requirement("CREATE-01")
def test_create_accepts_ten_distinct_urls_of_2048_characters(api):
    urls = [_url_of_length(2048)[:-1] + str(digit) for digit in range(10)]

    response = api.post({"webHookUrls": urls})

    assert response.status_code in (200, 201), response.text


# -- CREATE-02: client fields are echoed as sent -------------------------------------------------------------


@pytest.mark.requirement("CREATE-02")
def test_create_echoes_every_client_field_as_sent(api, shop_id):
    sent = {
        "url": "https://legacy.example.com/hook",
        "shopId": shop_id,
        "webHookType": "UPDATE_PRODUCT",
        "webHookUrls": ["https://hooks.example.com/products", "https://backup.example.org:8443/p?x=1"],
    }

    record = api.post(sent).json()

    assert {field: record.get(field) for field in sent} == sent


@pytest.mark.requirement("CREATE-02")
def test_create_keeps_webhook_urls_in_the_order_sent(api):
    urls = ["https://z.example.com/hook", "https://a.example.com/hook", "https://m.example.com/hook"]

    assert api.post({"webHookUrls": urls}).json()["webHookUrls"] == urls


@pytest.mark.requirement("CREATE-02")
def test_create_echoes_null_client_fields_as_null(api):
    record = api.post({"webHookUrls": [HOOK], "url": None, "shopId": None, "webHookType": None}).json()

    assert {field: record[field] for field in ("url", "shopId", "webHookType")} == dict.fromkeys(
        ("url", "shopId", "webHookType")
    )


@pytest.mark.requirement("CREATE-02")
def test_create_echoes_a_unicode_shop_id_exactly(api):
    shop = "Bäckerei-東京-🛒"

    assert api.post(api.body(shopId=shop)).json()["shopId"] == shop


# -- CREATE-03: the server picks a new, unique id ------------------------------------------------------------


@pytest.mark.requirement("CREATE-03")
def test_create_assigns_a_non_empty_string_id(api):
    record = api.create()

    assert isinstance(record["id"], str)
    assert record["id"]


@pytest.mark.requirement("CREATE-03")
def test_create_assigns_a_different_id_every_time(api, shop_id):
    ids = [api.create(shopId=shop_id)["id"] for _ in range(20)]

    assert len(set(ids)) == 20


@pytest.mark.requirement("CREATE-03")
def test_create_ignores_an_id_in_the_body(api):
    record = api.create(id="chosen-by-the-client")

    assert record["id"] != "chosen-by-the-client"
    assert api.get("chosen-by-the-client").status_code == 404


@pytest.mark.requirement("CREATE-03")
def test_create_with_an_existing_id_in_the_body_leaves_that_record_unchanged(api, shop_id):
    existing = api.create(shopId=shop_id, webHookType="NEW_MEMBER")

    second = api.create(id=existing["id"], shopId=shop_id, webHookType="UPDATE_MEMBER")

    assert second["id"] != existing["id"]
    assert api.get(existing["id"]).json() == existing
    assert api.list(shopId=shop_id).json()["total"] == 2


# -- CREATE-04: the key's company, never deleted ---------------------------------------------------------------


@pytest.mark.requirement("CREATE-04")
def test_create_sets_the_company_of_the_developer_key(api):
    assert api.create()["companyId"] == "acme"
    assert api.as_second().create()["companyId"] == "globex"


@pytest.mark.requirement("CREATE-04")
def test_created_record_is_not_deleted(api):
    assert api.create()["deleted"] is False


@pytest.mark.requirement("CREATE-04")
def test_create_ignores_deleted_true_in_the_body(api):
    record = api.create(deleted=True)

    assert record["deleted"] is False
    assert api.get(record["id"]).status_code == 200


# -- CREATE-05: timestamps are the server's epoch milliseconds -----------------------------------------------


@pytest.mark.requirement("CREATE-05")
def test_create_timestamps_are_epoch_milliseconds_near_the_test_clock(api):
    before = time.time() * 1000
    record = api.create()
    after = time.time() * 1000

    for field in ("created", "modified"):
        assert type(record[field]) is int, field
        assert before - CLOCK_SKEW_MS <= record[field] <= after + CLOCK_SKEW_MS, field


@pytest.mark.requirement("CREATE-05")
def test_create_modified_is_not_before_created(api):
    record = api.create()

    assert record["modified"] >= record["created"]


@pytest.mark.requirement("CREATE-05")
def test_create_ignores_timestamps_in_the_body(api):
    before = time.time() * 1000

    record = api.create(created=0, modified=1)

    assert record["created"] >= before - CLOCK_SKEW_MS
    assert record["modified"] >= before - CLOCK_SKEW_MS


# -- CREATE-06: a new record is not "updated" ----------------------------------------------------------------


@pytest.mark.requirement("CREATE-06")
def test_new_record_is_not_marked_updated(api):
    assert api.create()["updated"] is False


@pytest.mark.requirement("CREATE-06")
def test_create_ignores_updated_true_in_the_body(api):
    assert api.create(updated=True)["updated"] is False


# -- CREATE-07: tolerant reader ------------------------------------------------------------------------------

UNKNOWN_FIELDS = {
    "string": {"description": "orders hook"},
    "number": {"retries": 3},
    "null": {"secret": None},
    "object": {"meta": {"team": "ops", "tags": ["a", "b"]}},
    "array": {"events": ["NEW_MEMBER"]},
    "unicode name": {"ünknöwn": "ja"},
    "several": {"a": 1, "b": "two", "c": [3]},
}


@pytest.mark.requirement("CREATE-07")
@pytest.mark.parametrize("extra", UNKNOWN_FIELDS.values(), ids=UNKNOWN_FIELDS.keys())
def test_create_tolerates_unknown_fields(api, shop_id, extra):
    response = api.post(api.body(shopId=shop_id, **extra))

    assert response.status_code in (200, 201), response.text
    assert api.list(shopId=shop_id).json()["total"] == 1


# -- VALID-01 .. VALID-05, VALID-07 .. VALID-09: bad bodies get 400 ------------------------------------------
# Each corpus entry is a complete body that differs from a valid one in exactly one way.

WITHOUT_URLS: dict[str, dict[str, Any]] = {
    "webHookUrls missing": {"shopId": "s", "webHookType": "NEW_MEMBER"},
    "webHookUrls null": {"webHookUrls": None},
    "webHookUrls empty": {"webHookUrls": []},
}
NOT_ABSOLUTE_HTTP_URLS: dict[str, Any] = {
    "relative path": "/hooks/orders",
    "no scheme": "hooks.example.com/orders",
    "scheme-relative": "//hooks.example.com/orders",
    "javascript": "javascript:alert(1)",
    "file": "file:///etc/passwd",
    "ftp": "ftp://files.example.com/orders",
    "mailto": "mailto:ops@example.com",
    "data": "data:text/plain,hello",
    "empty string": "",
    "no host": "https://",
    "number": 42,
    "null": None,
    "object": {"url": HOOK},
    "nested list": [HOOK],
}
BAD_URL_ITEMS = {f"webHookUrls item {name}": {"webHookUrls": [value]} for name, value in NOT_ABSOLUTE_HTTP_URLS.items()}
BAD_URL_ITEMS["webHookUrls second item relative"] = {"webHookUrls": [HOOK, "/hooks/orders"]}
BAD_LEGACY_URLS = {
    f"url {name}": {"webHookUrls": [HOOK], "url": NOT_ABSOLUTE_HTTP_URLS[name]}
    for name in ("relative path", "no scheme", "javascript", "file", "ftp", "empty string", "no host")
}
BAD_EVENT_TYPES: dict[str, dict[str, Any]] = {
    f"webHookType {value!r}": {"webHookUrls": [HOOK], "webHookType": value}
    for value in (
        "new_member",
        "New_Member",
        "NEW_MEMBERS",
        "NEW MEMBER",
        " NEW_MEMBER",
        "NEW_MEMBER ",
        "",
        "UNKNOWN_EVENT",
        "ALL",
        "*",
    )
}
WRONG_TYPES: dict[str, dict[str, Any]] = {
    "shopId number": {"webHookUrls": [HOOK], "shopId": 42},
    "shopId float": {"webHookUrls": [HOOK], "shopId": 4.2},
    "shopId boolean": {"webHookUrls": [HOOK], "shopId": True},
    "shopId array": {"webHookUrls": [HOOK], "shopId": ["shop-1"]},
    "shopId object": {"webHookUrls": [HOOK], "shopId": {"id": "shop-1"}},
    "webHookUrls string": {"webHookUrls": HOOK},
    "webHookUrls object": {"webHookUrls": {"0": HOOK}},
    "webHookUrls number": {"webHookUrls": 42},
    "webHookUrls boolean": {"webHookUrls": True},
    "url number": {"webHookUrls": [HOOK], "url": 42},
    "url boolean": {"webHookUrls": [HOOK], "url": False},
    "url array": {"webHookUrls": [HOOK], "url": [HOOK]},
    "url object": {"webHookUrls": [HOOK], "url": {"href": HOOK}},
    "webHookType number": {"webHookUrls": [HOOK], "webHookType": 4},
    "webHookType boolean": {"webHookUrls": [HOOK], "webHookType": True},
    "webHookType array": {"webHookUrls": [HOOK], "webHookType": ["NEW_MEMBER"]},
    "webHookType object": {"webHookUrls": [HOOK], "webHookType": {"name": "NEW_MEMBER"}},
}
NOT_JSON_OBJECTS: dict[str, bytes] = {
    "plain text": b"not json",
    "truncated object": b'{"webHookUrls": ["https://hooks.example.com/a"]',
    "single quotes": b"{'webHookUrls': ['https://hooks.example.com/a']}",
    "trailing comma": b'{"webHookUrls": ["https://hooks.example.com/a"],}',
    "empty body": b"",
    "invalid utf-8": b'{"webHookUrls": ["https://hooks.example.com/\xff"]}',
    "json array": b'[{"webHookUrls": ["https://hooks.example.com/a"]}]',
    "json empty array": b"[]",
    "json string": b'"https://hooks.example.com/a"',
    "json number": b"42",
    "json null": b"null",
    "json true": b"true",
}
TOO_MANY_TOO_LONG_OR_DUPLICATE: dict[str, dict[str, Any]] = {
    "11 urls": {"webHookUrls": [f"https://hooks.example.com/{n}" for n in range(11)]},
    "url of 2049 characters": {"webHookUrls": [_url_of_length(2049)]},
    "duplicate urls": {"webHookUrls": [HOOK, "https://hooks.example.com/other", HOOK]},
    "legacy url of 2049 characters": {"webHookUrls": [HOOK], "url": _url_of_length(2049)},
}
PRIVATE_HOST_URLS = {
    "localhost": "https://localhost/hook",
    "localhost with port": "https://localhost:8443/hook",
    "127.0.0.1": "https://127.0.0.1/hook",
    "127.1.2.3": "https://127.1.2.3/hook",
    "[::1]": "https://[::1]/hook",
    "10.0.0.1": "https://10.0.0.1/hook",
    "172.16.0.1": "https://172.16.0.1/hook",
    "172.31.255.255": "https://172.31.255.255/hook",
    "192.168.1.1": "https://192.168.1.1/hook",
    "169.254.169.254 metadata": "https://169.254.169.254/latest/meta-data/",
    "169.254.1.1 link-local": "https://169.254.1.1/hook",
}
PRIVATE_HOSTS = {f"webHookUrls {name}": {"webHookUrls": [url]} for name, url in PRIVATE_HOST_URLS.items()}
PRIVATE_HOSTS["url 169.254.169.254 metadata"] = {"webHookUrls": [HOOK], "url": "https://169.254.169.254/"}
PLAIN_HTTP = {
    "webHookUrls http": {"webHookUrls": ["http://hooks.example.com/orders"]},
    "webHookUrls second item http": {"webHookUrls": [HOOK, "http://hooks.example.com/orders"]},
    "url http": {"webHookUrls": [HOOK], "url": "http://hooks.example.com/legacy"},
}

INVALID_BODIES: dict[str, dict[str, Any]] = {
    **WITHOUT_URLS,
    **BAD_URL_ITEMS,
    **BAD_LEGACY_URLS,
    **BAD_EVENT_TYPES,
    **WRONG_TYPES,
    **TOO_MANY_TOO_LONG_OR_DUPLICATE,
    **PRIVATE_HOSTS,
    **PLAIN_HTTP,
}
MUST_INVALID_BODIES = {
    **WITHOUT_URLS,
    **BAD_URL_ITEMS,
    **BAD_LEGACY_URLS,
    **BAD_EVENT_TYPES,
    **WRONG_TYPES,
}


def _post_bytes(api: Any, body: bytes, content_type: str = "application/json") -> requests.Response:
    return api.raw("POST", data=body, headers={"Content-Type": content_type})


@pytest.mark.requirement("VALID-01")
@pytest.mark.parametrize("body", WITHOUT_URLS.values(), ids=WITHOUT_URLS.keys())
def test_create_without_webhook_urls_gets_400(api, body):
    _assert_400_error(api.post(body))


@pytest.mark.requirement("VALID-02")
@pytest.mark.parametrize("body", BAD_URL_ITEMS.values(), ids=BAD_URL_ITEMS.keys())
def test_create_with_a_webhook_url_that_is_not_absolute_http_gets_400(api, body):
    _assert_400_error(api.post(body))


@pytest.mark.requirement("VALID-02")
@pytest.mark.parametrize("body", BAD_LEGACY_URLS.values(), ids=BAD_LEGACY_URLS.keys())
def test_create_with_a_legacy_url_that_is_not_absolute_http_gets_400(api, body):
    _assert_400_error(api.post(body))


@pytest.mark.requirement("VALID-02")
def test_create_with_a_null_legacy_url_is_accepted(api):
    assert api.post({"webHookUrls": [HOOK], "url": None}).status_code in (200, 201)


@pytest.mark.requirement("VALID-03")
@pytest.mark.parametrize("body", BAD_EVENT_TYPES.values(), ids=BAD_EVENT_TYPES.keys())
def test_create_with_an_unknown_event_type_gets_400(api, body):
    _assert_400_error(api.post(body))


@pytest.mark.requirement("VALID-04")
@pytest.mark.parametrize("body", NOT_JSON_OBJECTS.values(), ids=NOT_JSON_OBJECTS.keys())
def test_create_with_a_body_that_is_not_a_json_object_gets_400(api, body):
    _assert_400_error(_post_bytes(api, body))


@pytest.mark.requirement("VALID-04")
@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded"])
def test_create_with_a_non_json_body_and_content_type_gets_400_or_415(api, content_type):
    response = _post_bytes(api, b"webHookUrls=https://hooks.example.com/a", content_type)

    assert response.status_code in (400, 415), response.text
    assert isinstance(response.json().get("message"), str)


@pytest.mark.requirement("VALID-05")
@pytest.mark.parametrize("body", WRONG_TYPES.values(), ids=WRONG_TYPES.keys())
def test_create_with_a_field_of_the_wrong_type_gets_400(api, body):
    _assert_400_error(api.post(body))


@pytest.mark.requirement("VALID-07")
@pytest.mark.parametrize("body", TOO_MANY_TOO_LONG_OR_DUPLICATE.values(), ids=TOO_MANY_TOO_LONG_OR_DUPLICATE.keys())
def test_create_with_too_many_too_long_or_duplicate_urls_gets_400(api, body):
    _assert_400_error(api.post(body))


@pytest.mark.requirement("VALID-08")
@pytest.mark.parametrize("body", PRIVATE_HOSTS.values(), ids=PRIVATE_HOSTS.keys())
def test_create_with_a_loopback_private_or_metadata_host_gets_400(api, body):
    _assert_400_error(api.post(body))


@pytest.mark.requirement("VALID-08")
@pytest.mark.parametrize(
    "url", ["https://172.32.0.1/hook", "https://172.15.255.255/hook", "https://localhost.example.com/hook"]
)
def test_create_with_a_public_host_next_to_a_private_range_is_accepted(api, url):
    assert api.post({"webHookUrls": [url]}).status_code in (200, 201)


@pytest.mark.requirement("VALID-09")
@pytest.mark.parametrize("body", PLAIN_HTTP.values(), ids=PLAIN_HTTP.keys())
def test_create_with_a_plain_http_url_gets_400(api, body):
    _assert_400_error(api.post(body))


# -- VALID-06: a rejected request changes nothing ------------------------------------------------------------


@pytest.mark.requirement("VALID-06")
@pytest.mark.parametrize("body", INVALID_BODIES.values(), ids=INVALID_BODIES.keys())
def test_rejected_create_stores_nothing(api, body):
    before = api.list().json()["total"]

    assert api.post(body).status_code == 400

    assert api.list().json()["total"] == before


@pytest.mark.requirement("VALID-06")
@pytest.mark.parametrize("body", NOT_JSON_OBJECTS.values(), ids=NOT_JSON_OBJECTS.keys())
def test_rejected_unparsable_create_stores_nothing(api, body):
    before = api.list().json()["total"]

    assert _post_bytes(api, body).status_code == 400

    assert api.list().json()["total"] == before


# -- UPDATE-06 and VALID-06: an update is validated like a create, and a rejected one changes nothing -----


@pytest.mark.requirement("UPDATE-06")
@pytest.mark.parametrize("body", MUST_INVALID_BODIES.values(), ids=MUST_INVALID_BODIES.keys())
def test_update_with_an_invalid_body_gets_400(api, shop_id, body):
    record = api.create(shopId=shop_id)

    _assert_400_error(api.put(record["id"], json=body))


@pytest.mark.requirement("UPDATE-06", "VALID-04")
@pytest.mark.parametrize("body", NOT_JSON_OBJECTS.values(), ids=NOT_JSON_OBJECTS.keys())
def test_update_with_a_body_that_is_not_a_json_object_gets_400(api, body):
    record = api.create()

    _assert_400_error(api.put(record["id"], data=body, headers={"Content-Type": "application/json"}))


@pytest.mark.requirement("VALID-06", "UPDATE-06")
@pytest.mark.parametrize("body", INVALID_BODIES.values(), ids=INVALID_BODIES.keys())
def test_rejected_update_changes_nothing(api, shop_id, body):
    record = api.create(shopId=shop_id, webHookType="NEW_MEMBER")

    assert api.put(record["id"], json=body).status_code == 400

    assert api.get(record["id"]).json() == record


# -- VALID-10: oversized bodies are refused unread -----------------------------------------------------------


def _oversized_create(shop: str) -> bytes:
    """A valid create body, padded by an unknown field to just over 1 MiB."""
    body = json.dumps({"webHookUrls": [HOOK], "shopId": shop, "padding": ""}).encode()
    return body.replace(b'"padding": ""', b'"padding": "' + b"x" * (MIB + 1 - len(body)) + b'"')


@pytest.mark.requirement("VALID-10")
def test_create_with_a_body_over_1_mib_gets_413(api, shop_id):
    body = _oversized_create(shop_id)
    assert len(body) == MIB + 1

    response = _post_bytes(api, body)

    assert response.status_code in (413, 400), response.text
    assert isinstance(response.json().get("message"), str)


@pytest.mark.requirement("VALID-10")
def test_create_with_a_body_over_1_mib_stores_nothing(api, shop_id):
    _post_bytes(api, _oversized_create(shop_id))

    assert api.list(shopId=shop_id).json()["total"] == 0


@pytest.mark.requirement("VALID-10")
def test_update_with_a_body_over_1_mib_changes_nothing(api, shop_id):
    record = api.create(shopId=shop_id)

    response = api.put(record["id"], data=_oversized_create(shop_id), headers={"Content-Type": "application/json"})

    assert response.status_code in (413, 400), response.text
    assert api.get(record["id"]).json() == record
