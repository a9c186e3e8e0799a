"""The contract's rules for a request, in the words the spec gives them (`RequestRules`): what a request breaks,
MUST before SHOULD. Schemathesis reads the spec more strictly than the contract; these rules decide whom a
failed check blames (`checks`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv6Address, ip_address, ip_network
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from requests.structures import CaseInsensitiveDict

from conformance.catalogue import requirement
from conformance.checker.profile import TargetProfile
from conformance.spec import SpecError

if TYPE_CHECKING:
    from conformance.checker.fuzz.hook import Sent

MAX_URLS, MAX_URL_LENGTH = 10, 2048
MAX_LIMIT = 100  # a larger list limit is clamped to it (LIST-08)
# VALID-08's list: loopback, private, link-local (which holds the cloud metadata address).
INTERNAL_NETWORKS = tuple(
    ip_network(net)
    for net in ("127.0.0.0/8", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16", "::1/128")
)
QUERY_INTEGER = re.compile(r"[+-]?[0-9]+")
VALIDATION_STATUSES = frozenset({400, 413, 415})  # answers that say "your input is invalid"


@dataclass(frozen=True)
class Break:
    """A contract rule that a request breaks: the requirement and what about the request breaks it."""

    requirement_id: str
    reason: str

    @property
    def is_must(self) -> bool:
        return requirement(self.requirement_id).level == "MUST"


@dataclass(frozen=True)
class RequestRules:
    """The contract's rules for a request, in the words the spec gives them: the event types, and which
    record fields a client writes and which the server owns (`readOnly` in the spec)."""

    profile: TargetProfile
    event_types: frozenset[str]
    client_fields: frozenset[str]
    server_fields: frozenset[str]

    @classmethod
    def of(cls, profile: TargetProfile, spec: dict[str, Any]) -> RequestRules:
        try:
            schemas = spec["components"]["schemas"]
            fields = schemas["PartnerWebHook"]["properties"]
            event_types = frozenset(schemas["WebHookType"]["enum"])
        except (KeyError, TypeError) as error:
            raise SpecError(f"the spec lacks {error}, which the Schemathesis engine reads") from None
        server = frozenset(name for name, schema in fields.items() if schema.get("readOnly"))
        return cls(profile, event_types, frozenset(fields) - server, server)

    def breaks(self, sent: Sent) -> list[Break]:
        """Every rule the request breaks, MUST before SHOULD (empty: the contract calls it valid)."""
        breaks = self.key_breaks(sent.headers)
        if sent.operation == "createWebHook":
            breaks += self.body_breaks(sent.body)
        elif sent.operation == "updateWebHook":
            breaks += [as_update(item) for item in self.body_breaks(sent.body)]
        elif sent.operation == "listWebHooks":
            breaks += self.query_breaks(urlsplit(sent.url).query)
        return sorted(breaks, key=lambda item: not item.is_must)

    def key_breaks(self, headers: CaseInsensitiveDict) -> list[Break]:
        """AUTH-01 for a key left out, AUTH-02 for a key that is not the profile's."""
        profile = self.profile
        known = {
            profile.partner_key_header: {profile.partner_key},
            "Authorization": {profile.developer_key, profile.second_developer_key or profile.developer_key},
        }
        breaks = []
        for header, keys in known.items():
            sent = headers.get(header)
            if sent is None:
                breaks.append(Break("AUTH-01", f"no `{header}` header"))
            elif sent not in keys:
                breaks.append(Break("AUTH-02", f"an unknown key in `{header}`"))
        return breaks

    def body_breaks(self, raw: bytes | None) -> list[Break]:
        """The rules of VALID-01 to VALID-05 and VALID-07 to VALID-09 that a create body breaks."""
        body, problem = _json_object(raw)
        if problem:
            return [Break("VALID-04", problem)]
        assert body is not None
        breaks = _urls_breaks(body)
        if body.get("url") is not None:
            breaks += [Break(item.requirement_id, f"url: {item.reason}") for item in url_breaks(body["url"])]
        kind = body.get("webHookType")
        if kind is not None and not isinstance(kind, str):
            breaks.append(Break("VALID-05", f"webHookType is a JSON {_json_type(kind)}"))
        elif kind is not None and kind not in self.event_types:
            breaks.append(Break("VALID-03", f"webHookType {_short(kind)} is not an event type"))
        shop = body.get("shopId")
        if shop is not None and not isinstance(shop, str):
            breaks.append(Break("VALID-05", f"shopId is a JSON {_json_type(shop)}"))
        return breaks

    def query_breaks(self, query: str) -> list[Break]:
        """The LIST-06 rules a list query breaks. A repeated or empty parameter is left alone: the contract
        does not say whether `start=` or `start=1&start=2` is an error or the default."""
        params = parse_qs(query, keep_blank_values=True)
        breaks = []
        for name, lowest in (("start", 0), ("limit", 1)):
            values = params.get(name, [])
            if len(values) != 1 or values[0] == "":
                continue
            if not QUERY_INTEGER.fullmatch(values[0]):
                breaks.append(Break("LIST-06", f"{name}={_short(values[0])} is not an integer"))
            elif int(values[0]) < lowest:
                breaks.append(Break("LIST-06", f"{name}={values[0]} is below {lowest}"))
        kinds = params.get("type", [])
        if len(kinds) == 1 and kinds[0] and kinds[0] not in self.event_types:
            breaks.append(Break("LIST-06", f"type={_short(kinds[0])} is not an event type"))
        return breaks

    def unknown_fields(self, body: dict[str, Any] | None) -> list[str]:
        """The body's fields that are neither a client's nor the server's."""
        return sorted(set(body or {}) - self.client_fields - self.server_fields)


def _urls_breaks(body: dict[str, Any]) -> list[Break]:
    urls = body.get("webHookUrls")
    if urls is None or urls == []:
        return [Break("VALID-01", "webHookUrls is missing, null or empty")]
    if not isinstance(urls, list):
        return [Break("VALID-05", f"webHookUrls is a JSON {_json_type(urls)}, not an array")]
    breaks = [
        Break(item.requirement_id, f"webHookUrls[{index}]: {item.reason}")
        for index, url in enumerate(urls)
        for item in url_breaks(url)
    ]
    if len(urls) > MAX_URLS:
        breaks.append(Break("VALID-07", f"webHookUrls has {len(urls)} items, more than {MAX_URLS}"))
    if all(isinstance(item, str) for item in urls) and len(set(urls)) != len(urls):
        breaks.append(Break("VALID-07", "webHookUrls repeats a URL"))
    return breaks


def url_breaks(value: Any) -> list[Break]:
    """VALID-02 for what is not an absolute http(s) URL; else VALID-07, -09 or -08 for the SHOULD it breaks.

    Only what is plainly not an absolute http(s) URL counts against the MUST (no scheme or another one, no
    host); odd but parseable URLs are left alone, since the contract does not say more.
    """
    if not isinstance(value, str):
        return [Break("VALID-02", f"a JSON {_json_type(value)}, not a URL")]
    try:
        parts = urlsplit(value)
        host = parts.hostname
    except ValueError:
        return [Break("VALID-02", f"{_short(value)} does not parse as a URL")]
    if parts.scheme.lower() not in ("http", "https") or not host:
        return [Break("VALID-02", f"{_short(value)} is not an absolute http or https URL")]
    breaks = []
    if len(value) > MAX_URL_LENGTH:
        breaks.append(Break("VALID-07", f"a URL of {len(value)} characters, more than {MAX_URL_LENGTH}"))
    if parts.scheme.lower() == "http":
        breaks.append(Break("VALID-09", f"{_short(value)} is plain http"))
    if _is_internal(host):
        breaks.append(Break("VALID-08", f"{_short(value)} points to a loopback, private or link-local host"))
    return breaks


def _is_internal(host: str) -> bool:
    if host.lower().rstrip(".") == "localhost":
        return True
    try:
        address: IPv4Address | IPv6Address = ip_address(host)
    except ValueError:
        return False
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in network for network in INTERNAL_NETWORKS if network.version == address.version)


def query_integers(query: str, name: str) -> list[int]:
    """The integer values of one query parameter."""
    return [int(value) for value in parse_qs(query).get(name, []) if QUERY_INTEGER.fullmatch(value)]


def as_update(item: Break) -> Break:
    """On an update, VALID-01 to VALID-05 are UPDATE-06 (the SHOULDs keep their own IDs)."""
    if item.requirement_id in ("VALID-01", "VALID-02", "VALID-03", "VALID-04", "VALID-05"):
        return Break("UPDATE-06", f"{item.reason} ({item.requirement_id})")
    return item


def _json_object(raw: bytes | None) -> tuple[dict[str, Any] | None, str | None]:
    """The body as a JSON object, or why it is not one."""
    if not raw:
        return None, "no body"
    try:
        value = json.loads(raw.decode("utf-8"), parse_constant=_not_json)
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None, "a body that is not JSON"
    if not isinstance(value, dict):
        return None, f"a JSON {_json_type(value)}, not an object"
    return value, None


def _not_json(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _json_type(value: Any) -> str:
    names = {bool: "boolean", int: "number", float: "number", str: "string", list: "array", dict: "object"}
    return "null" if value is None else names.get(type(value), type(value).__name__)


def _short(value: str, limit: int = 60) -> str:
    return repr(value if len(value) <= limit else value[:limit] + "...")
