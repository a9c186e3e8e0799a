"""The reference server's body validation, as pure functions (VALID-01 to VALID-09)."""

from __future__ import annotations

import pytest

from conformance.reference.validation import (
    ClientFields,
    Invalid,
    check_webhook_url,
    is_internal_host,
    parse_json_object,
    parse_webhook,
)

INTERNAL_HOSTS = [
    "localhost",
    "LOCALHOST.",
    "api.localhost",
    "metadata.google.internal",
    "127.0.0.1",
    "127.1",
    "2130706433",
    "0x7f000001",
    "0177.0.0.1",
    "0",
    "0.0.0.0",
    "10.0.0.1",
    "172.16.0.1",
    "172.31.255.255",
    "192.168.1.1",
    "169.254.169.254",
    "100.64.0.1",
    "::1",
    "::",
    "fc00::1",
    "fd12:3456::1",
    "fe80::1",
    "fe80::1%25eth0",
    "::ffff:127.0.0.1",
    "::ffff:169.254.169.254",
    "::127.0.0.1",
    "64:ff9b::a9fe:a9fe",
    "2002:7f00:1::",
]
PUBLIC_HOSTS = ["hooks.example.com", "8.8.8.8", "172.32.0.1", "2001:4860:4860::8888", "::ffff:8.8.8.8", "cafe.be"]


@pytest.mark.parametrize("host", INTERNAL_HOSTS)
def test_internal_host_is_recognised(host: str) -> None:
    assert is_internal_host(host)


@pytest.mark.parametrize("host", PUBLIC_HOSTS)
def test_public_host_is_allowed(host: str) -> None:
    assert not is_internal_host(host)


REJECTED_URLS = {
    "relative": "/relative/hook",
    "javascript": "javascript:alert(1)",
    "ftp": "ftp://hooks.example.com/x",
    "file": "file:///etc/passwd",
    "no host": "https:///path",
    "scheme only": "https://",
    "space in host": "https://hooks example.com/",
    "backslash": "https://127.0.0.1\\@hooks.example.com/",
    "port out of range": "https://hooks.example.com:99999/",
    "plain http": "http://hooks.example.com/x",
    "IPv6 loopback": "https://[::1]/x",
    "decimal loopback": "https://2130706433/x",
    "metadata address": "https://169.254.169.254/latest/meta-data",
    "over 2048 characters": "https://hooks.example.com/" + "a" * 2048,
}
ACCEPTED_URLS = [
    "https://hooks.example.com/partner/orders",
    "HTTPS://Hooks.Example.com:8443/orders?source=partner#frag",
    "https://bücher.example/hook",
    "https://8.8.8.8/hook",
    "https://hooks.example.com/" + "a" * (2048 - len("https://hooks.example.com/")),
]


@pytest.mark.parametrize("url", REJECTED_URLS.values(), ids=REJECTED_URLS.keys())
def test_bad_webhook_url_is_rejected(url: str) -> None:
    with pytest.raises(Invalid):
        check_webhook_url(url, "webHookUrls[0]")


@pytest.mark.parametrize("url", ACCEPTED_URLS)
def test_good_webhook_url_is_accepted(url: str) -> None:
    check_webhook_url(url, "webHookUrls[0]")


def test_full_body_gives_its_client_fields_and_ignores_the_rest() -> None:
    body = {
        "id": "x",
        "companyId": "other",
        "created": 1,
        "colour": "blue",
        "url": "https://hooks.example.com/legacy",
        "shopId": "shop-1",
        "webHookType": "UPDATE_PRODUCT",
        "webHookUrls": ["https://b.example.com/", "https://a.example.com/"],
    }
    assert parse_webhook(body) == ClientFields(
        shop_id="shop-1",
        url="https://hooks.example.com/legacy",
        webhook_type="UPDATE_PRODUCT",
        webhook_urls=["https://b.example.com/", "https://a.example.com/"],
    )


def test_absent_optional_fields_are_null() -> None:
    assert parse_webhook({"webHookUrls": ["https://hooks.example.com/"]}) == ClientFields(
        None, None, None, ["https://hooks.example.com/"]
    )


HOOK = "https://hooks.example.com/x"
INVALID_BODIES = {
    "missing webHookUrls": ({}, "webHookUrls"),
    "null webHookUrls": ({"webHookUrls": None}, "webHookUrls"),
    "empty webHookUrls": ({"webHookUrls": []}, "webHookUrls"),
    "string webHookUrls": ({"webHookUrls": HOOK}, "webHookUrls"),
    "number item": ({"webHookUrls": [1]}, "webHookUrls"),
    "eleven URLs": ({"webHookUrls": [f"{HOOK}/{n}" for n in range(11)]}, "webHookUrls"),
    "duplicate URLs": ({"webHookUrls": [HOOK, HOOK]}, "webHookUrls"),
    "number shopId": ({"webHookUrls": [HOOK], "shopId": 7}, "shopId"),
    "boolean shopId": ({"webHookUrls": [HOOK], "shopId": True}, "shopId"),
    "lone surrogate shopId": ({"webHookUrls": [HOOK], "shopId": "\ud800"}, "shopId"),
    "unknown type": ({"webHookUrls": [HOOK], "webHookType": "NEW_ORDER"}, "webHookType"),
    "lower-case type": ({"webHookUrls": [HOOK], "webHookType": "new_member"}, "webHookType"),
    "number type": ({"webHookUrls": [HOOK], "webHookType": 3}, "webHookType"),
    "number url": ({"webHookUrls": [HOOK], "url": 3}, "url"),
    "relative url": ({"webHookUrls": [HOOK], "url": "/x"}, "url"),
}


@pytest.mark.parametrize(("body", "field"), INVALID_BODIES.values(), ids=INVALID_BODIES.keys())
def test_invalid_body_names_the_field_at_fault(body: dict, field: str) -> None:
    with pytest.raises(Invalid) as caught:
        parse_webhook(body)
    assert caught.value.field == field


NOT_JSON_OBJECTS = {
    "empty": b"",
    "not JSON": b"webHookUrls=x",
    "truncated": b'{"webHookUrls": [',
    "array": b"[1, 2]",
    "string": b'"text"',
    "NaN": b'{"webHookUrls": NaN}',
    "not UTF-8": b'{"shopId": "\xff"}',
    "UTF-8 BOM": b'\xef\xbb\xbf{"webHookUrls": []}',
    "5000-digit number": b'{"shopId": ' + b"9" * 5000 + b"}",
    "deep nesting": b"[" * 100_000 + b"]" * 100_000,
}


@pytest.mark.parametrize("raw", NOT_JSON_OBJECTS.values(), ids=NOT_JSON_OBJECTS.keys())
def test_body_that_is_not_a_json_object_is_invalid(raw: bytes) -> None:
    with pytest.raises(Invalid):
        parse_json_object(raw)


def test_json_object_body_is_parsed() -> None:
    assert parse_json_object(b'{"webHookUrls": ["https://h.example.com/"]}') == {
        "webHookUrls": ["https://h.example.com/"]
    }
