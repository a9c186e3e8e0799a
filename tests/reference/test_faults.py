"""Every planted fault changes the behaviour it claims to break.

``PROBES`` maps each fault to a probe: a small function that runs one scenario against a server and says
whether the answer was conformant. The clean server must pass the probe and the faulty one must fail it,
so a fault that does nothing (or a probe that checks nothing) fails here. A new fault without a probe fails
``test_every_fault_has_a_probe``.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest
import requests

from conformance.checker.raw_request import RawRequest, send_raw
from conformance.contract.catalogue import catalogue
from conformance.faces.cli import main
from conformance.reference.api import COLLECTION_PATH, MAX_BODY_BYTES
from conformance.reference.app import start_server
from conformance.reference.faults import FAULTS
from conformance.reference.keys import DEMO_PARTNER_KEY

if TYPE_CHECKING:
    from conftest import ApiClient

Probe = Callable[["ApiClient"], bool]
HOOK = "https://hooks.example.com/partner/orders"
JSON_TYPE = {"Content-Type": "application/json"}


def ids_of(response) -> list[str]:
    return [value["id"] for value in response.json()["values"]]


def is_json(response) -> bool:
    return response.headers.get("Content-Type", "").startswith("application/json")


# -- authentication -----------------------------------------------------------------------------------------


def no_partner_key_gets_401(api: ApiClient) -> bool:
    return api.with_keys(partner_key=None).list().status_code == 401


def no_keys_on_list_gets_401(api: ApiClient) -> bool:
    return api.without_keys().list().status_code == 401


def unknown_developer_key_gets_401(api: ApiClient) -> bool:
    return api.with_keys(developer_key="no-such-developer-key").list().status_code == 401


def partner_key_with_a_known_prefix_gets_401(api: ApiClient) -> bool:
    return api.with_keys(partner_key=DEMO_PARTNER_KEY + "-forged").list().status_code == 401


def unauthorized_delete_deletes_nothing(api: ApiClient) -> bool:
    record = api.create()
    refused = api.with_keys(partner_key="wrong-partner-key").delete(record["id"]).status_code == 401
    return refused and api.get(record["id"]).status_code == 200


# -- tenancy ------------------------------------------------------------------------------------------------


def other_company_get_is_404(api: ApiClient) -> bool:
    record = api.create()
    return api.as_second().get(record["id"]).status_code == 404


def other_company_list_hides_records(api: ApiClient) -> bool:
    record = api.create()
    listed = api.as_second().list()
    return record["id"] not in ids_of(listed) and listed.json()["total"] == 0


def other_company_put_changes_nothing(api: ApiClient) -> bool:
    record = api.create()
    answer = api.as_second().put(record["id"], json=api.body(webHookUrls=["https://other.example.com/x"]))
    return answer.status_code == 404 and api.get(record["id"]).json() == record


def other_company_delete_changes_nothing(api: ApiClient) -> bool:
    record = api.create()
    return api.as_second().delete(record["id"]).status_code == 404 and api.get(record["id"]).status_code == 200


def company_id_in_body_is_ignored(api: ApiClient) -> bool:
    return api.create(companyId="globex")["companyId"] == "acme"


# -- create -------------------------------------------------------------------------------------------------


def create_answers_the_full_record(api: ApiClient) -> bool:
    answer = api.post(api.body())
    fields = {
        "id",
        "companyId",
        "shopId",
        "created",
        "modified",
        "deleted",
        "updated",
        "url",
        "webHookType",
        "webHookUrls",
    }
    return answer.status_code == 200 and set(answer.json()) == fields


def create_echoes_client_fields(api: ApiClient) -> bool:
    sent = {
        "url": "https://hooks.example.com/legacy",
        "shopId": "shop-1",
        "webHookType": "NEW_MEMBER",
        "webHookUrls": ["https://zeta.example.com/hook", "https://alpha.example.com/hook"],
    }
    record = api.create(**sent)
    return all(record[name] == value for name, value in sent.items())


def id_in_body_never_overwrites(api: ApiClient) -> bool:
    first = api.create()
    second = api.create(id=first["id"], shopId="intruder")
    return second["id"] != first["id"] and api.get(first["id"]).json() == first


def company_is_the_developer_keys(api: ApiClient) -> bool:
    record = api.create()
    return record["companyId"] == "acme" and record["deleted"] is False


def timestamps_are_now_in_milliseconds(api: ApiClient) -> bool:
    record = api.create()
    now = time.time() * 1000
    return abs(record["created"] - now) < 5 * 60 * 1000 and record["modified"] >= record["created"]


def new_record_is_not_updated(api: ApiClient) -> bool:
    return api.create()["updated"] is False


def unknown_fields_are_ignored(api: ApiClient) -> bool:
    return api.post(api.body(colour="blue", nested={"a": 1})).status_code == 200


# -- validation ---------------------------------------------------------------------------------------------


def rejected(api: ApiClient, **fields: object) -> bool:
    """A create with these fields gets 400 and stores nothing."""
    return api.post(api.body(**fields)).status_code == 400 and api.list().json()["total"] == 0


def empty_urls_rejected(api: ApiClient) -> bool:
    return rejected(api, webHookUrls=[])


def relative_url_rejected(api: ApiClient) -> bool:
    return rejected(api, webHookUrls=["/relative/hook"])


def bad_legacy_url_rejected(api: ApiClient) -> bool:
    return rejected(api, url="javascript:alert(1)")


def unknown_type_rejected(api: ApiClient) -> bool:
    return rejected(api, webHookType="NOT_A_TYPE")


def lower_case_type_rejected(api: ApiClient) -> bool:
    return rejected(api, webHookType="new_member")


def lower_case_type_answered_with_400(api: ApiClient) -> bool:
    """A create of an invalid type gets an answer, 400, and stores nothing."""
    try:
        return rejected(api, webHookType="new_member")
    except requests.ConnectionError:
        return False  # the connection closed without an answer


def unicode_shop_create_is_served_once(api: ApiClient) -> bool:
    """A valid create with a non-ASCII shopId gets 200, and stores exactly the record it answers with."""
    answer = api.post(api.body(shopId="café-ß-日本"))
    return answer.status_code == 200 and ids_of(api.list()) == [answer.json()["id"]]


def non_object_json_rejected(api: ApiClient) -> bool:
    return api.post([HOOK]).status_code == 400


def malformed_json_rejected(api: ApiClient) -> bool:
    return api.post(data=b'{"webHookUrls": [', headers={"Content-Type": "application/json"}).status_code == 400


def number_shop_id_rejected(api: ApiClient) -> bool:
    return rejected(api, shopId=42)


def too_many_or_too_long_urls_rejected(api: ApiClient) -> bool:
    eleven = [f"https://hooks.example.com/{n}" for n in range(11)]
    too_long = "https://hooks.example.com/" + "a" * 2048
    return rejected(api, webHookUrls=eleven) and rejected(api, webHookUrls=[too_long])


def duplicate_urls_rejected(api: ApiClient) -> bool:
    return rejected(api, webHookUrls=[HOOK, HOOK])


def loopback_url_rejected(api: ApiClient) -> bool:
    return rejected(api, webHookUrls=["https://127.0.0.1/hook"])


def non_ipv4_internal_hosts_rejected(api: ApiClient) -> bool:
    hosts = ("localhost", "[::1]", "169.254.169.254")
    return all(rejected(api, webHookUrls=[f"https://{host}/hook"]) for host in hosts)


def plain_http_rejected(api: ApiClient) -> bool:
    return rejected(api, webHookUrls=["http://hooks.example.com/hook"])


def oversize_body_refused_unprocessed(api: ApiClient) -> bool:
    answer = api.post(api.body(padding="x" * (1024 * 1024 + 16)))
    return answer.status_code in (400, 413) and api.list().json()["total"] == 0


# -- read and update ----------------------------------------------------------------------------------------


def read_returns_last_write(api: ApiClient) -> bool:
    record = api.create(shopId="shop-1")
    updated = api.put(record["id"], json=api.body(shopId="shop-2", webHookUrls=["https://new.example.com/x"]))
    return api.get(record["id"]).json() == updated.json()


def id_prefix_is_404(api: ApiClient) -> bool:
    record = api.create()
    return api.get(record["id"][:8]).status_code == 404


def long_id_is_404(api: ApiClient) -> bool:
    return api.get("x" * 300).status_code == 404


def dot_dot_id_is_404(api: ApiClient) -> bool:
    api.create()
    return api.get("..").status_code == 404


def update_replaces_client_fields(api: ApiClient) -> bool:
    record = api.create()
    sent = {"url": None, "shopId": "shop-9", "webHookType": "UPDATE_MEMBER", "webHookUrls": ["https://n.example.com/"]}
    answer = api.put(record["id"], json=sent).json()
    return all(answer[name] == value for name, value in sent.items()) and api.get(record["id"]).json() == answer


def update_keeps_server_fields(api: ApiClient) -> bool:
    record = api.create()
    time.sleep(0.005)
    body = {**record, "companyId": "globex", "created": 1, "webHookUrls": ["https://n.example.com/"]}
    answer = api.put(record["id"], json=body).json()
    return all(answer[name] == record[name] for name in ("id", "companyId", "created"))


def update_moves_modified_forward(api: ApiClient) -> bool:
    record = api.create()
    time.sleep(0.005)
    return api.put(record["id"], json=api.body()).json()["modified"] > record["modified"]


def update_sets_updated(api: ApiClient) -> bool:
    record = api.create()
    return api.put(record["id"], json=api.body()).json()["updated"] is True


def update_of_unknown_id_is_404(api: ApiClient) -> bool:
    return api.put("no-such-id", json=api.body()).status_code == 404 and api.get("no-such-id").status_code == 404


def update_of_unknown_id_stores_nothing(api: ApiClient) -> bool:
    return api.put("no-such-id", json=api.body()).status_code == 404 and api.list().json()["total"] == 0


def update_of_deleted_id_is_404(api: ApiClient) -> bool:
    record = api.create()
    api.delete(record["id"])
    return api.put(record["id"], json=api.body()).status_code == 404 and api.get(record["id"]).status_code == 404


def update_validates(api: ApiClient) -> bool:
    record = api.create()
    bad_bodies = (api.body(webHookUrls=[]), api.body(webHookType="NOT_A_TYPE"))
    refused = all(api.put(record["id"], json=body).status_code == 400 for body in bad_bodies)
    return refused and api.get(record["id"]).json() == record


def body_id_never_touches_its_record(api: ApiClient) -> bool:
    target, other = api.create(), api.create()
    api.put(target["id"], json={**api.body(shopId="changed"), "id": other["id"]})
    return api.get(other["id"]).json() == other


# -- list ---------------------------------------------------------------------------------------------------


def skip_is_the_start(api: ApiClient) -> bool:
    for _ in range(3):
        api.create()
    return api.list(start=2, limit=2).json()["skip"] == 2


def limit_bounds_the_page(api: ApiClient) -> bool:
    for _ in range(3):
        api.create()
    return len(api.list(limit=2).json()["values"]) <= 2


def total_counts_every_match(api: ApiClient) -> bool:
    for _ in range(3):
        api.create()
    return api.list(limit=1).json()["total"] == 3


def total_skips_deleted(api: ApiClient) -> bool:
    record, _ = api.create(), api.create()
    api.delete(record["id"])
    return api.list().json()["total"] == 1


def paging_returns_each_record_once_in_a_stable_order(api: ApiClient) -> bool:
    created = [api.create()["id"] for _ in range(10)]
    paged = [i for start in range(0, 10, 3) for i in ids_of(api.list(start=start, limit=3))]
    return sorted(paged) == sorted(created) and len(paged) == 10 and ids_of(api.list()) == ids_of(api.list())


def filters_match_exactly(api: ApiClient) -> bool:
    wanted = api.create(shopId="shop-1", webHookType="NEW_MEMBER")["id"]
    api.create(shopId="shop-10", webHookType="NEW_MEMBER")
    api.create(shopId="SHOP-1", webHookType="NEW_MEMBER")
    api.create(shopId="shop-1", webHookType="UPDATE_MEMBER")
    api.create(shopId="shop-2", webHookType="UPDATE_MEMBER")
    both = ids_of(api.list(shopId="shop-1", type="NEW_MEMBER"))
    return (
        both == [wanted]
        and len(ids_of(api.list(shopId="shop-1"))) == 2
        and len(ids_of(api.list(type="UPDATE_MEMBER"))) == 2
    )


def start_past_the_end_is_empty(api: ApiClient) -> bool:
    api.create(), api.create()
    answer = api.list(start=5)
    return answer.status_code == 200 and answer.json()["values"] == [] and answer.json()["total"] == 2


def negative_start_is_400(api: ApiClient) -> bool:
    return api.list(start=-1).status_code == 400


def non_integer_limit_is_400(api: ApiClient) -> bool:
    return api.list(limit="ten").status_code == 400


def unknown_type_filter_is_400(api: ApiClient) -> bool:
    return api.list(type="NOT_A_TYPE").status_code == 400


def list_shows_a_create_at_once(api: ApiClient) -> bool:
    record = api.create()
    return record["id"] in ids_of(api.list())


def limit_over_100_is_clamped(api: ApiClient) -> bool:
    answer = api.list(limit=500)
    return answer.status_code == 200 and answer.json()["limit"] == 100


# -- delete -------------------------------------------------------------------------------------------------


def delete_answers_204_or_json(api: ApiClient) -> bool:
    answer = api.delete(api.create()["id"])
    return answer.status_code == 204 or (answer.status_code == 200 and is_json(answer))


def deleted_record_is_not_listed(api: ApiClient) -> bool:
    record = api.create()
    api.delete(record["id"])
    return record["id"] not in ids_of(api.list())


def deleted_record_is_404(api: ApiClient) -> bool:
    record = api.create()
    api.delete(record["id"])
    return api.get(record["id"]).status_code == 404


def second_delete_is_404(api: ApiClient) -> bool:
    record = api.create()
    api.delete(record["id"])
    return api.delete(record["id"]).status_code == 404


def delete_removes_only_that_record(api: ApiClient) -> bool:
    doomed, kept = api.create(shopId="shop-1"), api.create(shopId="shop-1")
    api.delete(doomed["id"])
    return api.get(kept["id"]).json() == kept


# -- HTTP behaviour -----------------------------------------------------------------------------------------


def unicode_shop_id_is_served(api: ApiClient) -> bool:
    return api.post(api.body(shopId="café-ß-日本")).status_code == 200


def errors_are_json(api: ApiClient) -> bool:
    return is_json(api.get("no-such-id"))


def errors_have_a_message(api: ApiClient) -> bool:
    answer = api.get("no-such-id")
    return is_json(answer) and isinstance(answer.json().get("message"), str)


def errors_leak_no_internals(api: ApiClient) -> bool:
    texts = [api.get("no-such-id").text, api.post(api.body(webHookUrls=[])).text]
    return not any(re.search(r"Traceback|\.py\b|SELECT |sqlite", text) for text in texts)


def undefined_method_is_405_with_allow(api: ApiClient) -> bool:
    answer = api.raw("PATCH", COLLECTION_PATH)
    return answer.status_code == 405 and answer.headers.get("Allow") == "GET, POST"


def validation_failure_is_400(api: ApiClient) -> bool:
    return api.post({}).status_code == 400


# -- what frameworks do by default (edge inputs) ------------------------------------------------------------


def send(api: ApiClient, method: str, target: str, body: bytes = b"", headers: tuple = (), keys: bool = True):
    """A request exactly as written (an invalid escape, a bare parameter), with the demo keys."""
    signed = tuple(api.key_headers().items()) if keys else ()
    return send_raw(api.base_url, RawRequest(method, target, signed + headers, body), 10, 2 * MAX_BODY_BYTES)


def keys_are_judged_before_the_body(api: ApiClient) -> bool:
    keyless = api.without_keys().raw("POST", data=b'{"webHookUrls": [', headers=JSON_TYPE)
    read = api.raw("GET", data=b'{"start": 0,', headers=JSON_TYPE)
    return keyless.status_code == 401 and read.status_code == 200


def nan_is_not_json(api: ApiClient) -> bool:
    return (
        api.raw("POST", data=json.dumps(api.body())[:-1].encode() + b', "x": NaN}', headers=JSON_TYPE).status_code
        == 400
    )


def trailing_data_is_not_json(api: ApiClient) -> bool:
    return api.raw("POST", data=json.dumps(api.body()).encode() + b" xyz", headers=JSON_TYPE).status_code == 400


def case_variant_field_names_are_unknown_fields(api: ApiClient) -> bool:
    variant_only = api.post({"WEBHOOKURLS": [HOOK]}).status_code == 400
    return variant_only and api.post({**api.body(), "shopid": 5}).status_code == 200


def whitespace_padding_counts_toward_the_limit(api: ApiClient) -> bool:
    body = json.dumps(api.body()).encode()
    return api.raw("POST", data=body + b" " * (MAX_BODY_BYTES + 1 - len(body)), headers=JSON_TYPE).status_code == 413


def urls_lenient_parsers_take_get_400(api: ApiClient) -> bool:
    urls = [
        "https:hooks.example.com/x",
        " https://hooks.example.com/x",
        "https://hooks.example.com/a b",
        "https://:443/x",
    ]
    return all(api.post(api.body(webHookUrls=[url])).status_code == 400 for url in urls)


def oversize_update_is_refused(api: ApiClient) -> bool:
    record = api.create()
    big = json.dumps({**api.body(), "pad": "x" * MAX_BODY_BYTES}).encode()
    refused = api.raw("PUT", api.item_path(record["id"]), data=big, headers=JSON_TYPE).status_code == 413
    return refused and api.get(record["id"]).json() == record


def odd_paths_are_not_redirected(api: ApiClient) -> bool:
    answers = [send(api, "GET", COLLECTION_PATH + "/").status, send(api, "GET", COLLECTION_PATH + "//x").status]
    answers.append(api.get("a/../../x", allow_redirects=False).status_code)
    return all(400 <= status < 500 for status in answers)


def non_decimal_integers_get_400(api: ApiClient) -> bool:
    values = ("1.0", "1e1", "0x10", "0b1", "1_0", "%EF%BC%91", "%201%20", "")
    return all(send(api, "GET", f"{COLLECTION_PATH}?start={value}").status == 400 for value in values)


def a_5000_digit_integer_is_no_crash(api: ApiClient) -> bool:
    return api.list(start="9" * 5000).status_code == 200


def start_beyond_2_53_is_taken_exactly(api: ApiClient) -> bool:
    return api.list(start=2**53 + 1).json()["skip"] == 2**53 + 1


def empty_shop_id_is_an_exact_filter(api: ApiClient) -> bool:
    api.create(shopId="shop-a")
    return api.list(shopId="").json()["values"] == []


def bracketed_parameters_are_unknown(api: ApiClient) -> bool:
    return api.list(**{"start[toString]": 1, "limit[]": 1}).status_code == 200


def an_unparsable_query_is_refused(api: ApiClient) -> bool:
    return all(send(api, "GET", f"{COLLECTION_PATH}?start={value}").status == 400 for value in ("%zz", "1;2"))


def oversize_body_gets_a_json_413(api: ApiClient) -> bool:
    answer = api.raw("POST", data=b"x" * (MAX_BODY_BYTES + 1), headers=JSON_TYPE)
    return answer.status_code == 413 and is_json(answer)


def lone_surrogate_gets_400(api: ApiClient) -> bool:
    body = json.dumps(api.body(shopId="shop")).replace('"shop"', '"\\ud800"').encode()
    return api.raw("POST", data=body, headers=JSON_TYPE).status_code == 400


def options_gets_405_in_json(api: ApiClient) -> bool:
    answer = api.raw("OPTIONS", COLLECTION_PATH)
    return answer.status_code == 405 and is_json(answer)


def head_is_405_or_the_gets_status(api: ApiClient) -> bool:
    keyless = api.without_keys().raw("HEAD", COLLECTION_PATH).status_code in (401, 405)
    return keyless and api.raw("HEAD", api.item_path("no-such-id")).status_code in (404, 405)


def allow_names_every_method_of_the_path(api: ApiClient) -> bool:
    answer = api.raw("PATCH", api.item_path("no-such-id"))
    return {item.strip() for item in answer.headers.get("Allow", "").split(",")} == {"GET", "PUT", "DELETE"}


PROBES: dict[str, Probe] = {
    "auth-partner-key-optional": no_partner_key_gets_401,
    "auth-list-unauthenticated": no_keys_on_list_gets_401,
    "auth-unknown-developer-key": unknown_developer_key_gets_401,
    "auth-bearer-prefix-any": partner_key_with_a_known_prefix_gets_401,
    "auth-delete-before-check": unauthorized_delete_deletes_nothing,
    "tenant-get-403": other_company_get_is_404,
    "tenant-get-no-check": other_company_get_is_404,
    "tenant-list-leak": other_company_list_hides_records,
    "tenant-total-leak": other_company_list_hides_records,
    "tenant-put-no-check": other_company_put_changes_nothing,
    "tenant-delete-no-check": other_company_delete_changes_nothing,
    "tenant-company-from-body": company_id_in_body_is_ignored,
    "create-returns-id-only": create_answers_the_full_record,
    "create-drops-url": create_echoes_client_fields,
    "create-sorts-urls": create_echoes_client_fields,
    "create-id-from-body": id_in_body_never_overwrites,
    "create-company-is-partner": company_is_the_developer_keys,
    "create-timestamps-seconds": timestamps_are_now_in_milliseconds,
    "create-clock-skew": timestamps_are_now_in_milliseconds,
    "create-updated-true": new_record_is_not_updated,
    "create-rejects-unknown-fields": unknown_fields_are_ignored,
    "valid-empty-urls-accepted": empty_urls_rejected,
    "valid-relative-url-accepted": relative_url_rejected,
    "valid-url-field-unchecked": bad_legacy_url_rejected,
    "valid-type-unchecked": unknown_type_rejected,
    "valid-type-case-insensitive": lower_case_type_rejected,
    "valid-non-object-json-crash": non_object_json_rejected,
    "valid-malformed-json-500": malformed_json_rejected,
    "valid-shopid-number-coerced": number_shop_id_rejected,
    "valid-insert-before-validate": unknown_type_rejected,
    "create-stores-then-500": unicode_shop_create_is_served_once,
    "create-stores-then-drops": lower_case_type_answered_with_400,
    "valid-no-url-limits": too_many_or_too_long_urls_rejected,
    "valid-duplicate-urls-accepted": duplicate_urls_rejected,
    "valid-no-ssrf-guard": loopback_url_rejected,
    "valid-ssrf-ipv4-only": non_ipv4_internal_hosts_rejected,
    "valid-http-accepted": plain_http_rejected,
    "valid-no-body-limit": oversize_body_refused_unprocessed,
    "read-stale-cache": read_returns_last_write,
    "read-drops-shopid": read_returns_last_write,
    "read-id-prefix-match": id_prefix_is_404,
    "read-long-id-crash": long_id_is_404,
    "read-dotdot-lists": dot_dot_id_is_404,
    "update-drops-type": update_replaces_client_fields,
    "update-not-persisted": update_replaces_client_fields,
    "update-resets-created": update_keeps_server_fields,
    "update-company-from-body": update_keeps_server_fields,
    "update-modified-unchanged": update_moves_modified_forward,
    "update-flag-not-set": update_sets_updated,
    "update-upsert": update_of_unknown_id_is_404,
    "update-upsert-404": update_of_unknown_id_stores_nothing,
    "update-revives-deleted": update_of_deleted_id_is_404,
    "update-skips-validation": update_validates,
    "update-uses-body-id": body_id_never_touches_its_record,
    "list-skip-is-page": skip_is_the_start,
    "list-ignores-limit": limit_bounds_the_page,
    "list-total-is-page-size": total_counts_every_match,
    "list-total-includes-deleted": total_skips_deleted,
    "list-off-by-one": paging_returns_each_record_once_in_a_stable_order,
    "list-unstable-order": paging_returns_each_record_once_in_a_stable_order,
    "list-shopid-prefix": filters_match_exactly,
    "list-shopid-case-folded": filters_match_exactly,
    "list-type-filter-ignored": filters_match_exactly,
    "list-filters-union": filters_match_exactly,
    "list-past-end-404": start_past_the_end_is_empty,
    "list-past-end-total-zero": start_past_the_end_is_empty,
    "list-negative-start-accepted": negative_start_is_400,
    "list-bad-limit-crash": non_integer_limit_is_400,
    "list-unknown-type-empty": unknown_type_filter_is_400,
    "list-stale-cache": list_shows_a_create_at_once,
    "list-limit-over-100-400": limit_over_100_is_clamped,
    "list-limit-not-clamped": limit_over_100_is_clamped,
    "delete-text-body": delete_answers_204_or_json,
    "delete-soft-listed": deleted_record_is_not_listed,
    "delete-soft-readable": deleted_record_is_404,
    "delete-twice-ok": second_delete_is_404,
    "delete-by-shop": delete_removes_only_that_record,
    "http-crash-on-unicode": unicode_shop_id_is_served,
    "http-errors-html": errors_are_json,
    "http-error-without-message": errors_have_a_message,
    "http-leaks-internals": errors_leak_no_internals,
    "http-no-405": undefined_method_is_405_with_allow,
    "http-405-without-allow": undefined_method_is_405_with_allow,
    "http-validation-422": validation_failure_is_400,
    "auth-body-parsed-first": keys_are_judged_before_the_body,
    "valid-nan-accepted": nan_is_not_json,
    "valid-trailing-data-ignored": trailing_data_is_not_json,
    "valid-case-insensitive-fields": case_variant_field_names_are_unknown_fields,
    "valid-padding-not-counted": whitespace_padding_counts_toward_the_limit,
    "valid-url-whatwg-repaired": urls_lenient_parsers_take_get_400,
    "valid-url-go-parse": urls_lenient_parsers_take_get_400,
    "valid-oversize-update-processed": oversize_update_is_refused,
    "read-path-cleaning-redirect": odd_paths_are_not_redirected,
    "read-trailing-slash-redirect": odd_paths_are_not_redirected,
    "list-python-int": non_decimal_integers_get_400,
    "list-number-coercion": non_decimal_integers_get_400,
    "list-int-digit-limit-500": a_5000_digit_integer_is_no_crash,
    "list-start-float64": start_beyond_2_53_is_taken_exactly,
    "list-empty-shopid-no-filter": empty_shop_id_is_an_exact_filter,
    "list-bracket-param-crash": bracketed_parameters_are_unknown,
    "list-unparsable-query-ignored": an_unparsable_query_is_refused,
    "http-413-text-plain": oversize_body_gets_a_json_413,
    "http-lone-surrogate-500": lone_surrogate_gets_400,
    "http-automatic-options": options_gets_405_in_json,
    "http-head-skips-keys": head_is_405_or_the_gets_status,
    "http-allow-one-method": allow_names_every_method_of_the_path,
}


def test_every_fault_has_a_probe() -> None:
    assert set(PROBES) == {item.name for item in FAULTS}


@pytest.mark.parametrize("fault", FAULTS, ids=lambda item: item.name)
def test_fault_changes_the_behaviour_it_claims(fault, start_reference, client_for) -> None:
    probe = PROBES[fault.name]
    assert probe(client_for(start_reference())), f"the clean server fails the probe {probe.__name__}"
    assert not probe(client_for(start_reference(fault=fault.name))), (
        f"{fault.name} passes {probe.__name__}: it does not break {', '.join(fault.breaks)} as claimed"
    )


def test_every_fault_breaks_only_catalogued_requirements() -> None:
    known = {requirement.id for requirement in catalogue()}
    assert {(item.name, rid) for item in FAULTS for rid in item.breaks if rid not in known} == set()


def test_faults_cover_every_must_and_should_requirement() -> None:
    broken = {rid for item in FAULTS for rid in item.breaks}
    graded = {requirement.id for requirement in catalogue() if requirement.level in ("MUST", "SHOULD")}
    assert graded - broken == set()


def test_fault_names_are_unique() -> None:
    names = [item.name for item in FAULTS]
    assert len(names) == len(set(names))


def test_unknown_fault_is_refused_naming_list_faults() -> None:
    with pytest.raises(ValueError, match="--list-faults"):
        start_server(fault="no-such-fault")


def test_list_faults_prints_every_fault_with_its_requirements(capsys) -> None:
    assert main(["serve", "--list-faults"]) == 0
    lines = capsys.readouterr().out.splitlines()
    rows = {line.split()[0]: line.split()[1:] for line in lines[1:]}
    assert len(lines) == len(FAULTS) + 1
    for item in FAULTS:
        assert rows[item.name][: len(item.breaks)] == list(item.breaks)


def test_list_faults_table_is_aligned(capsys) -> None:
    main(["serve", "--list-faults"])
    lines = capsys.readouterr().out.splitlines()
    description_columns = {line.index(item.description) for line, item in zip(lines[1:], FAULTS, strict=True)}
    assert len(description_columns) == 1
