"""Validation of request bodies, as pure functions (VALID-01 to VALID-09, CREATE-07, UPDATE-06).

Each function raises ``Invalid`` for the first problem it finds. ``fault`` switches off the one check that a
planted fault (see ``faults.py``) leaves out; ``None`` is the clean server.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

from conformance.contract.json_text import MAX_NESTING, TooDeep, first_value, loads_refusing_deep
from conformance.contract.spec import load_spec
from conformance.reference.errors import PlantedCrash

# The 11 event types, as the spec (the one place they are written) enumerates them.
WEBHOOK_TYPES: tuple[str, ...] = tuple(load_spec()["components"]["schemas"]["WebHookType"]["enum"])
MAX_URLS = 10
MAX_URL_LENGTH = 2048
CLIENT_FIELDS = frozenset({"url", "shopId", "webHookType", "webHookUrls"})
SERVER_FIELDS = frozenset({"id", "companyId", "created", "modified", "deleted", "updated"})

# Host names that always reach the machine itself or a cloud metadata service.
_BLOCKED_NAMES = frozenset({"localhost", "metadata.google.internal"})
# IPv6 prefixes that embed an IPv4 address in their low 32 bits (IPv4-compatible, NAT64).
_EMBEDDING_V4 = (ipaddress.IPv6Network("::/96"), ipaddress.IPv6Network("64:ff9b::/96"))
# Shorthand IPv4 forms that resolvers accept: 2130706433, 0x7f000001, 0177.0.0.1, 127.1.
_NUMERIC_HOST = re.compile(r"[0-9a-fA-Fx.]+")
# ASCII characters that no part of a URI may hold unencoded (RFC 3986 appendix A), and DEL.
_NOT_IN_URIS = frozenset('\x7f\\<>"{}|^`')
# Of those, what Go's `url.Parse` lets into a path (the `valid-url-go-parse` fault); it takes a space too.
_GO_PATH_CHARACTERS = frozenset(' <>"{}|^`')
# Characters of a host name; IDN letters included. IP literals are checked separately.
_HOST_NAME = re.compile(r"[\w.-]+")


class Invalid(ValueError):
    """The first problem found in a request: a message for the client and the field at fault."""

    def __init__(self, message: str, field: str | None = None, error_type: str = "VALIDATION") -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.error_type = error_type


@dataclass(frozen=True)
class ClientFields:
    """The client-writable fields of a PartnerWebHook, as validated."""

    shop_id: str | None
    url: str | None
    webhook_type: str | None
    webhook_urls: Any  # a list of strings, except under the `update-skips-validation` fault


def parse_json_object(raw: bytes, *, fault: str | None = None) -> dict[str, Any]:
    """The request body as a JSON object: UTF-8, valid JSON (no NaN/Infinity), an object (VALID-04)."""
    if not raw:
        raise Invalid("a JSON object body is required", error_type="INVALID_JSON")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Invalid("the body is not UTF-8", error_type="INVALID_JSON") from None
    try:
        if fault == "valid-trailing-data-ignored":
            value = first_value(text, parse_constant=_reject_constant)
        else:
            constant = None if fault == "valid-nan-accepted" else _reject_constant
            value = loads_refusing_deep(text, parse_constant=constant)
    except TooDeep:  # as RFC 8259 section 9 lets a parser refuse
        raise Invalid(f"the body is nested deeper than {MAX_NESTING} levels", error_type="INVALID_JSON") from None
    except ValueError:  # JSONDecodeError, huge integers
        raise Invalid("the body is not valid JSON", error_type="INVALID_JSON") from None
    if not isinstance(value, dict):
        raise Invalid("the body must be a JSON object", error_type="NOT_AN_OBJECT")
    return value


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def parse_webhook(body: dict[str, Any], *, fault: str | None = None) -> ClientFields:
    """The client fields of a create or update body, validated (VALID-01 to VALID-09, CREATE-07)."""
    if fault == "valid-case-insensitive-fields":
        body = _fold_field_names(body)
    if fault == "create-rejects-unknown-fields":
        unknown = sorted(set(body) - CLIENT_FIELDS - SERVER_FIELDS)
        if unknown:
            raise Invalid(f"unknown field {unknown[0]}", field=unknown[0])
    return ClientFields(
        shop_id=parse_shop_id(body, fault=fault),
        url=parse_legacy_url(body, fault=fault),
        webhook_type=parse_webhook_type(body, fault=fault),
        webhook_urls=parse_webhook_urls(body, fault=fault),
    )


def _fold_field_names(body: dict[str, Any]) -> dict[str, Any]:
    """Go's `encoding/json`: a key that matches a field but for case sets that field; the last one wins."""
    known = {name.lower(): name for name in CLIENT_FIELDS | SERVER_FIELDS}
    folded: dict[str, Any] = {}
    for key, value in body.items():
        folded[known.get(key.lower(), key)] = value
    return folded


def parse_shop_id(body: dict[str, Any], *, fault: str | None = None) -> str | None:
    """``shopId``: absent, null or a string (VALID-05)."""
    value = body.get("shopId")
    if fault == "valid-shopid-number-coerced" and isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    if value is not None and not isinstance(value, str):
        raise Invalid("shopId must be a string or null", field="shopId")
    _require_unicode(value, "shopId", fault)
    return value


def parse_webhook_type(body: dict[str, Any], *, fault: str | None = None) -> str | None:
    """``webHookType``: absent, null or one of the 11 event types (VALID-03)."""
    value = body.get("webHookType")
    if value is None:
        return None
    if not isinstance(value, str):
        raise Invalid("webHookType must be a string or null", field="webHookType")
    _require_unicode(value, "webHookType", fault)
    if fault == "valid-type-unchecked":
        return value
    if fault == "valid-type-case-insensitive" and value.upper() in WEBHOOK_TYPES:
        return value
    if value not in WEBHOOK_TYPES:
        raise Invalid(f"webHookType must be one of {', '.join(WEBHOOK_TYPES)}", field="webHookType")
    return value


def parse_legacy_url(body: dict[str, Any], *, fault: str | None = None) -> str | None:
    """The legacy ``url``: absent, null, or a string that passes the webhook URL rules (VALID-02)."""
    value = body.get("url")
    if value is None:
        return None
    if not isinstance(value, str):
        raise Invalid("url must be a string or null", field="url")
    _require_unicode(value, "url", fault)
    if fault != "valid-url-field-unchecked":
        check_webhook_url(value, "url", fault=fault)
    return value


def parse_webhook_urls(body: dict[str, Any], *, fault: str | None = None) -> list[str]:
    """``webHookUrls``: a non-empty list (VALID-01) of at most 10 distinct webhook URLs (VALID-07)."""
    value = body.get("webHookUrls")
    if value is None:
        raise Invalid("webHookUrls is required", field="webHookUrls")
    if not isinstance(value, list):
        raise Invalid("webHookUrls must be an array of URLs", field="webHookUrls")
    if not value and fault != "valid-empty-urls-accepted":
        raise Invalid("webHookUrls must contain at least one URL", field="webHookUrls")
    if len(value) > MAX_URLS and fault != "valid-no-url-limits":
        raise Invalid(f"webHookUrls may hold at most {MAX_URLS} URLs", field="webHookUrls")
    for index, item in enumerate(value):
        if not isinstance(item, str):
            raise Invalid(f"webHookUrls[{index}] must be a string", field="webHookUrls")
        _require_unicode(item, "webHookUrls", fault)
        if fault != "valid-relative-url-accepted":
            check_webhook_url(item, f"webHookUrls[{index}]", fault=fault)
    if len(set(value)) != len(value) and fault != "valid-duplicate-urls-accepted":
        raise Invalid("webHookUrls must not repeat a URL", field="webHookUrls")
    return value


def check_webhook_url(value: str, name: str, *, fault: str | None = None) -> None:
    """A callback URL: absolute http(s) with a valid host (VALID-02), at most 2048 characters (VALID-07),
    https (VALID-09), not pointing at loopback, private, link-local or metadata hosts (VALID-08)."""
    field = name.split("[", 1)[0]
    if len(value) > MAX_URL_LENGTH and fault != "valid-no-url-limits":
        raise Invalid(f"{name} is longer than {MAX_URL_LENGTH} characters", field=field)
    # Whitespace, control characters and backslashes are read differently by different URL parsers
    # (a browser reads `https://127.0.0.1\@evil.com` as host 127.0.0.1); such a URL is never valid, and
    # neither is one with a character that RFC 3986 keeps out of every URI (`<x>`, a quote, braces).
    if fault == "valid-url-whatwg-repaired":
        value = _whatwg_repaired(value)
    refused = _NOT_IN_URIS - _GO_PATH_CHARACTERS if fault == "valid-url-go-parse" else _NOT_IN_URIS | {" "}
    if any(ch < " " or ch in refused for ch in value):
        raise Invalid(f"{name} must be an absolute http or https URL", field=field)
    try:
        parts = urlsplit(value)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        raise Invalid(f"{name} must be an absolute http or https URL", field=field) from None
    no_host_ok = fault == "valid-url-go-parse" and not host
    if parts.scheme.lower() not in ("http", "https") or (not no_host_ok and (not host or not _valid_host(host))):
        raise Invalid(f"{name} must be an absolute http or https URL", field=field)
    if parts.scheme.lower() == "http" and fault != "valid-http-accepted":
        raise Invalid(f"{name} must use https", field=field)
    if fault == "valid-no-ssrf-guard" or no_host_ok:
        return
    blocked = _blocked_dotted_ipv4(host) if fault == "valid-ssrf-ipv4-only" else is_internal_host(host)
    if blocked:
        raise Invalid(f"{name} points to a loopback, private or metadata host", field=field)


def _whatwg_repaired(value: str) -> str:
    """A URL as a WHATWG parser repairs it: blanks and controls around it dropped, tabs and newlines in it
    removed, backslashes read as slashes, `https:host` and `https:/x` given their `//`, and spaces, `<>` and
    controls percent-encoded (the `valid-url-whatwg-repaired` fault)."""
    value = value.strip("".join(map(chr, range(0x21))))
    value = value.translate({ord("\t"): None, ord("\n"): None, ord("\r"): None, ord("\\"): "/"})
    scheme, colon, rest = value.partition(":")
    if colon and scheme.lower() in ("http", "https"):
        value = f"{scheme}://{rest.lstrip('/')}"
    return quote(value, safe=":/?#[]@!$&'()*+,;=%~")


def is_internal_host(host: str) -> bool:
    """True for a host that reaches the server itself, a private network or a cloud metadata service:
    localhost names, non-global IPv4/IPv6 addresses in any notation, IPv4-mapped or embedded in IPv6."""
    name = host.lower().rstrip(".")
    if name in _BLOCKED_NAMES or name.endswith(".localhost"):
        return True
    address = _ip_address(name)
    if address is None:
        return False
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and any(address in network for network in _EMBEDDING_V4):
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None and (not embedded.is_global or embedded.is_multicast):
            return True
    return not address.is_global or address.is_multicast


def _ip_address(name: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address a host literal names, including shorthand IPv4 forms; None for a DNS name."""
    try:
        return ipaddress.ip_address(name)
    except ValueError:
        pass
    if _NUMERIC_HOST.fullmatch(name):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(name))
        except OSError:
            return None
    return None


def _blocked_dotted_ipv4(host: str) -> bool:
    """The `valid-ssrf-ipv4-only` guard: dotted IPv4 loopback and RFC 1918 ranges, nothing else."""
    try:
        address = ipaddress.IPv4Address(host)
    except ValueError:
        return False
    return address.is_loopback or any(
        address in ipaddress.IPv4Network(net) for net in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")
    )


def _valid_host(host: str) -> bool:
    return _HOST_NAME.fullmatch(host) is not None or _ip_address(host) is not None


def _require_unicode(value: str | None, field: str, fault: str | None = None) -> None:
    # JSON can carry lone surrogates (`"\ud800"`), which no UTF-8 store or response can hold.
    if value is not None and any("\ud800" <= ch <= "\udfff" for ch in value):
        if fault == "http-lone-surrogate-500":
            raise PlantedCrash("UnicodeEncodeError: 'utf-8' codec can't encode character: surrogates not allowed")
        raise Invalid(f"{field} is not valid Unicode", field=field)
