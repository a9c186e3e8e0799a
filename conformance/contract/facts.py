"""The contract's facts that the checker's engines share: one module, each fact read from the spec where the
spec states it, the rest written here once.

From the spec (`openapi/partner-webhooks.yaml`): the event types (`WebHookType`), the record's fields and
which of them the server owns (`readOnly`), the URL limits (`WebHookUrls.maxItems`, `WebHookUrl.maxLength`),
the list limit (`SearchResult.limit.maximum`, the `limit` parameter's default), and the operations with their
methods and paths. From CONTRACT.md, where the spec has no machine-readable form: VALID-08's internal
networks (the spec's URL pattern only approximates them) and VALID-10's body limit. And the test data every
engine sends: the webhook host, the default event type, the id that names no record.

The module-level names describe the bundled spec, the API this checker is for. An engine that judges by the
run's own spec (`--spec`) reads the same facts from it with :meth:`ContractFacts.of`. The reference server
and the tests' own oracle keep independent copies on purpose: an oracle must not share code with what it
judges.
"""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Network, IPv6Network, ip_network
from typing import Any
from urllib.parse import quote

from conformance.contract.spec import SpecError, load_spec

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")  # OpenAPI's operation keys


@dataclass(frozen=True)
class Operation:
    """One operation of the spec: its operationId, its HTTP method and its path template."""

    id: str
    method: str
    path: str

    @property
    def on_a_record(self) -> bool:
        """Whether the path names one record (it has a `{webHookId}`)."""
        return "{" in self.path

    def path_for(self, webhook_id: str) -> str:
        """The path that reaches this operation: for a record's, ``webhook_id`` percent-encoded in it."""
        return item_path(webhook_id) if self.on_a_record else self.path


@dataclass(frozen=True)
class ContractFacts:
    """What one spec says that the engines need: types, fields, limits, operations."""

    event_types: tuple[str, ...]  # VALID-03: exactly these `webHookType` values
    record_fields: tuple[str, ...]  # a PartnerWebHook's fields, as the spec orders them
    client_fields: tuple[str, ...]  # the fields a client writes (a create body's), as CREATE-02 lists them
    server_fields: tuple[str, ...]  # the fields the server owns (`readOnly`), ignored in a body
    max_urls: int  # VALID-07: items in `webHookUrls`
    max_url_length: int  # VALID-07: characters in one URL
    max_list_limit: int  # LIST-08: a larger `limit` is clamped to it
    default_list_limit: int  # LIST-01: the `limit` without one
    operations: tuple[Operation, ...]

    @classmethod
    def of(cls, spec: dict[str, Any]) -> ContractFacts:
        """The facts of ``spec``; :class:`SpecError` (one line) naming what it lacks."""
        schemas = _at(spec, "components", "schemas")
        record = _at(schemas, "PartnerWebHook", "properties", where="components.schemas")
        server = tuple(name for name, schema in record.items() if isinstance(schema, dict) and schema.get("readOnly"))
        event_types = tuple(_at(schemas, "WebHookType", "enum", where="components.schemas"))
        if not event_types or not all(isinstance(value, str) for value in event_types):
            raise SpecError("the spec's components.schemas.WebHookType.enum is not a list of strings")
        found = {
            operation["operationId"]: (method.upper(), path, operation)
            for path, item in _at(spec, "paths").items()
            if isinstance(item, dict)
            for method, operation in item.items()
            if method in METHODS and isinstance(operation, dict) and "operationId" in operation
        }
        return cls(
            event_types=event_types,
            record_fields=tuple(record),
            client_fields=tuple(_at(schemas, "WebHookCreate", "properties", where="components.schemas")),
            server_fields=server,
            max_urls=_integer(schemas, "WebHookUrls", "maxItems"),
            max_url_length=_integer(schemas, "WebHookUrl", "maxLength"),
            max_list_limit=_integer(schemas, "SearchResult", "properties", "limit", "maximum"),
            default_list_limit=_query_default(found, "listWebHooks", "limit"),
            operations=tuple(Operation(op_id, method, path) for op_id, (method, path, _) in found.items()),
        )

    def operation(self, operation_id: str) -> Operation:
        """The operation with this operationId; ``KeyError`` for one the spec does not have."""
        for operation in self.operations:
            if operation.id == operation_id:
                return operation
        raise KeyError(f"no operation {operation_id!r} in the spec")

    def operation_on(self, method: str, template: str) -> Operation:
        """The operation a path template defines for a method; ``KeyError`` when it defines none."""
        for operation in self.operations:
            if operation.method == method.upper() and operation.path == template:
                return operation
        raise KeyError(f"the spec defines no {method} on {template}")

    def operation_at(self, method: str, path: str) -> str | None:
        """The operationId a request reaches (``path`` without the base URL, ``/...``), None outside the spec.

        An item path's id is one segment: anything but `/` and not empty (an encoded `/` stays in it).
        """
        for operation in self.operations:
            if operation.method == method.upper() and _matches(operation.path, path):
                return operation.id
        return None

    def path_methods(self) -> dict[str, frozenset[str]]:
        """The methods each path template defines; any other method gets 405 there (HTTP-05)."""
        methods: dict[str, set[str]] = {}
        for operation in self.operations:
            methods.setdefault(operation.path, set()).add(operation.method)
        return {path: frozenset(names) for path, names in methods.items()}


def _at(node: Any, *keys: str, where: str = "") -> Any:
    path = where
    for key in keys:
        path = f"{path}.{key}" if path else key
        if not isinstance(node, dict) or key not in node:
            raise SpecError(f"the spec has no {path}, which the checker reads")
        node = node[key]
    return node


def _integer(schemas: dict[str, Any], *keys: str) -> int:
    value = _at(schemas, *keys, where="components.schemas")
    if not isinstance(value, int) or isinstance(value, bool):
        raise SpecError(f"the spec's components.schemas.{'.'.join(keys)} is not an integer")
    return value


def _query_default(found: dict[str, tuple[str, str, dict[str, Any]]], operation_id: str, name: str) -> int:
    if operation_id not in found:
        raise SpecError(f"the spec has no operation {operation_id}, which the checker reads")
    for parameter in found[operation_id][2].get("parameters", []):
        if isinstance(parameter, dict) and parameter.get("name") == name and parameter.get("in") == "query":
            default = _at(parameter, "schema", "default", where=f"{operation_id}'s `{name}` parameter")
            if isinstance(default, int) and not isinstance(default, bool):
                return default
    raise SpecError(f"the spec's {operation_id} has no integer default for its `{name}` query parameter")


def _matches(template: str, path: str) -> bool:
    if "{" not in template:
        return path == template
    prefix = template.split("{", 1)[0]
    rest = path[len(prefix) :]
    return path.startswith(prefix) and rest != "" and "/" not in rest


# -- the bundled spec's facts ---------------------------------------------------------------------------------

CONTRACT = ContractFacts.of(load_spec())
EVENT_TYPES = CONTRACT.event_types
RECORD_FIELDS = CONTRACT.record_fields
CLIENT_FIELDS = CONTRACT.client_fields
SERVER_FIELDS = CONTRACT.server_fields
MAX_URLS = CONTRACT.max_urls
MAX_URL_LENGTH = CONTRACT.max_url_length
MAX_LIST_LIMIT = CONTRACT.max_list_limit
DEFAULT_LIST_LIMIT = CONTRACT.default_list_limit
COLLECTION_PATH = CONTRACT.operation("createWebHook").path  # /api/v1/partner/webHooks
ITEM_PATH = CONTRACT.operation("getWebHook").path  # /api/v1/partner/webHooks/{webHookId}
PATH_METHODS = CONTRACT.path_methods()


def item_path(webhook_id: str) -> str:
    """The item path for an id, every reserved character percent-encoded (dot-only ids too: a client
    library would otherwise resolve `..` away before sending)."""
    encoded = quote(webhook_id, safe="")
    if set(webhook_id) <= {"."}:
        encoded = encoded.replace(".", "%2E")
    return ITEM_PATH.split("{", 1)[0] + encoded


def webhook_types(spec: dict[str, Any]) -> tuple[str, ...]:
    """The valid `webHookType` values of the run's spec (VALID-03), as its `WebHookType` enum lists them."""
    return ContractFacts.of(spec).event_types


# -- what CONTRACT.md states and the spec cannot say in a machine-readable way ---------------------------------

# LIST-06 (the spec's `start` and `limit`): a value beyond 64 bits may be accepted or rejected.
INT64_MAX = 2**63 - 1
# The statuses that say "your input is invalid": 400, 413 for a body over the limit (VALID-10), 415 for a
# body that is not sent as JSON (VALID-04).
VALIDATION_STATUSES = frozenset({400, 413, 415})
# VALID-10: a request body over 1 MiB gets 413 (400 also accepted); AUTH-01 names the same limit.
MAX_REQUEST_BODY_BYTES = 1024 * 1024
# VALID-08: the hosts a webhook URL must not name, exactly as CONTRACT.md lists them: the name `localhost`
# and loopback (127.0.0.0/8, ::1), private (10/8, 172.16/12, 192.168/16) and link-local (169.254/16, which
# holds the cloud metadata address) networks. The spec's URL pattern leaves out every IP literal, so it
# cannot say this; a server may block more (other special-use names), never less.
INTERNAL_HOST_NAMES = frozenset({"localhost"})
INTERNAL_NETWORKS: tuple[IPv4Network | IPv6Network, ...] = tuple(
    ip_network(net)
    for net in ("127.0.0.0/8", "::1/128", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16")
)
CLOUD_METADATA_ADDRESS = "169.254.169.254"  # the link-local address where cloud machines read their secrets


def internal_hosts() -> tuple[str, ...]:
    """Hosts of VALID-08 for a probe, as they go in a URL: each name, the first and last address of each
    network (a guard that blocks one address, or one range too narrow, lets an edge through), and the cloud
    metadata address."""
    hosts = sorted(INTERNAL_HOST_NAMES)
    for network in INTERNAL_NETWORKS:
        edges = (network.network_address + 1, network.broadcast_address - 1)
        if network.num_addresses == 1:
            edges = (network.network_address,)
        hosts += [f"[{address}]" if address.version == 6 else str(address) for address in edges]
    return (*hosts, CLOUD_METADATA_ADDRESS)


# -- the test data every engine sends -----------------------------------------------------------------------

# The host of every webhook URL the checker writes: a name reserved for examples (RFC 2606), public-looking
# (VALID-08 allows it) and never anyone's real endpoint.
WEBHOOK_HOST = "hooks.example.com"
WEBHOOK_ORIGIN = f"https://{WEBHOOK_HOST}"
DEFAULT_EVENT_TYPE = EVENT_TYPES[0]  # NEW_CONSUMER_ORDER: the type of a body that does not choose one


def absent_record_id(run_tag: str) -> str:
    """An id that names no record: the run's tag keeps it from naming one by chance, on any target."""
    return f"wc-{run_tag}-no-such-record"
