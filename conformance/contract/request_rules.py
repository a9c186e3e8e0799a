"""The contract's rules for a request: which requirement a request breaks, if any, judged the way CONTRACT.md
words it rather than the way the spec's schemas (stricter, to describe what a server meeting every MUST and
SHOULD accepts) would.

A request the spec calls invalid is judged again by these rules before a server that accepts it is blamed:
for the MUST it breaks, else the SHOULD, else (only the spec forbids it) not at all. Every engine that needs
to know whether the contract promises to accept a request asks here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv6Address, ip_address
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

from requests.structures import CaseInsensitiveDict

from conformance.contract import json_text
from conformance.contract.catalogue import requirement
from conformance.contract.facts import INTERNAL_HOST_NAMES, INTERNAL_NETWORKS, MAX_URL_LENGTH, MAX_URLS, ContractFacts

QUERY_INTEGER = re.compile(r"[+-]?[0-9]+")  # what LIST-06 calls an integer (a sign and ASCII digits)


class Keys(Protocol):
    """The target's keys, as a target profile holds them."""

    partner_key_header: str
    partner_key: str
    developer_key: str
    second_developer_key: str | None


class Request(Protocol):
    """A request as it was sent: the operation it reached (None outside the spec), its URL, headers, body."""

    operation: str | None
    url: str
    headers: CaseInsensitiveDict
    body: bytes | None


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

    profile: Keys
    event_types: frozenset[str]
    client_fields: frozenset[str]
    server_fields: frozenset[str]

    @classmethod
    def of(cls, profile: Keys, spec: dict[str, Any]) -> RequestRules:
        """The rules of ``spec`` (the run's) for a target with ``profile``'s keys; SpecError when it lacks one."""
        facts = ContractFacts.of(spec)
        server = frozenset(facts.server_fields)
        return cls(profile, frozenset(facts.event_types), frozenset(facts.record_fields) - server, server)

    def breaks(self, sent: Request) -> list[Break]:
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
        body, problem = json_object(raw)
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
    if host.lower().rstrip(".") in INTERNAL_HOST_NAMES:
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


def json_object(raw: bytes | None) -> tuple[dict[str, Any] | None, str | None]:
    """The body as an RFC 8259 JSON object (no `NaN`), or why it is not one (VALID-04)."""
    if not raw:
        return None, "no body"
    try:
        value = json_text.loads(raw.decode("utf-8"), parse_constant=_not_json)
    except ValueError:  # UnicodeDecodeError too
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

