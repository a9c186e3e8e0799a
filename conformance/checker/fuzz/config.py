"""Schemathesis's configuration for a run: the spec as this target needs it, the phases, checks and budget,
and the contract's edge values mixed into generation.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

import schemathesis

from conformance.checker.client import TransportError
from conformance.checker.evidence import Exchange
from conformance.checker.fuzz.checks import CHECKS, COVERS, OPERATION_GROUPS
from conformance.checker.run_state import RunState
from conformance.contract.facts import (
    CLOUD_METADATA_ADDRESS,
    DEFAULT_EVENT_TYPE,
    MAX_URL_LENGTH,
    METHODS,
    WEBHOOK_HOST,
    WEBHOOK_ORIGIN,
    absent_record_id,
    internal_hosts,
)

# The contract's edge values, which a generator that only knows the spec's pattern would hardly draw:
# Schemathesis's fuzz dictionaries mix them into generated requests (an entry the spec rejects goes into
# negative cases only). Name -> (values, where they go).
EDGE_VALUES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "contract-urls": (
        (
            f"http://{WEBHOOK_HOST}/wc/plain-http",  # VALID-09
            *(f"https://{host}/wc" for host in internal_hosts()),  # VALID-08
            f"https://{CLOUD_METADATA_ADDRESS}/latest/meta-data",
            "/wc/relative",  # VALID-02
            f"{WEBHOOK_HOST}/wc/no-scheme",
            "javascript:alert(1)",
            f"ftp://{WEBHOOK_HOST}/wc",
            "file:///etc/passwd",
            f"{WEBHOOK_ORIGIN}/" + "w" * MAX_URL_LENGTH,  # VALID-07
        ),
        ("body.webHookUrls[*]", "body.url"),
    ),
    "contract-types": (
        ("new_member", "Update_Product", "NEW-MEMBER", "UNKNOWN_EVENT"),  # VALID-03, LIST-06
        ("body.webHookType", "query.type"),
    ),
    "contract-integers": (("-1", "0", "1.5", "1e2", "ten", "101", "1000"), ("query.start", "query.limit")),
    "contract-ids": (  # READ-02: any string names no record
        ("x" * 300, "..", ".", "a/b", "%2F", "ünïcödé-ид", "' OR '1'='1"),
        ("path.webHookId",),
    ),
}
EDGE_PROBABILITY = 0.25
# Ids are never drawn from earlier answers (a list shows records that are not ours), so no operation needs
# another's answers first: all of them run side by side, where Schemathesis would otherwise test the creates
# before the operations on a record (two layers, one after the other).
UNIT_PHASE = {"extra-data-sources": {"responses": False}, "operation-ordering": "none"}
PHASES = ("examples", "coverage", "fuzzing", "stateful")  # Schemathesis's testing phases, in its order
FUZZING_FACTOR = 2  # fuzzing examples per budget example: the phase that draws the edge values


def anchor_record(state: RunState) -> tuple[str, Exchange] | None:
    """A record of this run for generated updates to work on (a PUT of a drawn id only ever meets a 404,
    which says nothing about UPDATE-01 or UPDATE-06), and its create (the first step of a reproduction that
    names it); None when the target would not create one."""
    body = {
        "shopId": state.new_shop_id(),
        "webHookType": DEFAULT_EVENT_TYPE,
        "webHookUrls": [state.mark.url("schemathesis")],
    }
    try:
        reply = state.client.create(body)
    except TransportError:
        return None
    record = reply.json_or_none()
    created = reply.status in (200, 201) and isinstance(record, dict) and isinstance(record.get("id"), str)
    return (record["id"], reply.exchange) if created else None


def engine_config(
    state: RunState, phases: Iterable[str] = PHASES, mode: str = "all", workers: int = 1, anchor: str | None = None
) -> schemathesis.Config:
    """Schemathesis's configuration for this run: target, keys, seed, budget, checks, and the `phases` to run
    (of `PHASES`).

    `anchor` is the id every generated update is sent to (see `anchor_record`).
    """
    phases = frozenset(phases)
    budget = state.budget
    pinned = [{"include-operation-id": "updateWebHook", "parameters": {"webHookId": anchor}}] if anchor else []
    return schemathesis.Config.from_dict(
        {
            "seed": state.seed,
            "base-url": state.profile.base_url,
            # Sent as explicit headers, so `ignored_auth` takes them as the real keys and probes without them.
            "headers": {
                state.profile.partner_key_header: state.profile.partner_key,
                "Authorization": state.profile.developer_key,
            },
            # Operations side by side: each is generated from the seed on its own, so the same seed sends the
            # same requests to each operation whatever the number of workers.
            "workers": workers,
            "request-timeout": state.profile.timeout,
            "continue-on-failure": True,  # a SHOULD failure must not hide a MUST failure of the same operation
            "cache": {"enabled": False},  # nothing replayed from, or written to, an earlier run's state
            "generation": {
                "mode": mode,
                "max-examples": budget.schema_examples,
                "database": "none",
                "no-shrink": budget.name == "quick",
            },
            "phases": {
                # Writes name a record only along the spec's links from this engine's own creates (`UNIT_PHASE`).
                "examples": {"enabled": "examples" in phases, **UNIT_PHASE},
                "coverage": {"enabled": "coverage" in phases, **UNIT_PHASE},
                "fuzzing": {
                    "enabled": "fuzzing" in phases,
                    **UNIT_PHASE,
                    # Fuzzing is where the contract's edge values are drawn; give it room beyond the budget.
                    "generation": {"max-examples": FUZZING_FACTOR * budget.schema_examples},
                },
                "stateful": {
                    "enabled": "stateful" in phases and not state.client.read_only,  # it starts with a create
                    "max-steps": max(2, budget.stateful_steps // 2),
                    # Shrinking a sequence replays it against the target again and again: up to 90 s of a
                    # standard run for one failed check. The lifecycle machine gives shrunk sequences.
                    "generation": {"no-shrink": True},
                    "inference": {"algorithms": []},
                },
            },
            "checks": {
                name: {"enabled": use.speaks_to is not None, **use.settings}
                for name, use in CHECKS.items()
                if name != "max_response_time"  # configured by a limit, which stays unset
            },
            "operations": pinned,
            "dictionaries": {name: {"values": list(values)} for name, (values, _) in EDGE_VALUES.items()},
            "parameters": {
                target: {"dictionary": name, "probability": EDGE_PROBABILITY}
                for name, (_, targets) in EDGE_VALUES.items()
                for target in targets
            },
        }
    )


def target_spec(state: RunState) -> dict[str, Any]:
    """The spec as this target needs it: no `servers`, its partner key header, and no sample id that a record
    could have."""
    spec = copy.deepcopy(state.spec)
    spec.pop("servers", None)  # an example for other tools: the target is the profile's base URL, always
    schemes = spec.get("components", {}).get("securitySchemes", {})
    for scheme in schemes.values():
        if scheme.get("in") == "header" and scheme.get("name", "").lower() != "authorization":
            scheme["name"] = state.profile.partner_key_header
    absent = absent_record_id(state.run_tag)
    spec = _replace_strings(spec, {sample: absent for sample in _sample_ids(spec)})
    spec["paths"] = longest_coverage_first(spec)
    return spec


def longest_coverage_first(spec: dict[str, Any]) -> dict[str, Any]:
    """The spec's paths, and the operations within each, in the order Schemathesis should begin them: the one
    with the most inputs first. Its workers take operations in the spec's order, and its coverage phase sends one
    operation's cases one after another, a case per input's boundary value: across a network the longest chain
    must begin first or it ends the run alone (an update's 65 cases after the others', in a quick run at 50 ms:
    1 to 2 s of 12 to 13). Paths stay whole: Schemathesis reads each path's operations together."""
    paths = spec.get("paths")
    if not isinstance(paths, dict):
        return paths

    def rank(item: Any) -> dict[str, int]:
        if not isinstance(item, dict):
            return {}
        shared = _listed(item.get("parameters"))
        return {
            method: len(shared) + _input_count(operation, spec)
            for method, operation in item.items()
            if method in METHODS and isinstance(operation, dict)
        }

    ranks = {path: rank(item) for path, item in paths.items()}
    ordered = sorted(paths, key=lambda path: -max(ranks[path].values(), default=0))
    return {path: _methods_longest_first(paths[path], ranks[path]) for path in ordered}


def _methods_longest_first(item: Any, rank: dict[str, int]) -> Any:
    if not isinstance(item, dict):
        return item
    methods = sorted(rank, key=lambda method: -rank[method])
    return {**{name: value for name, value in item.items() if name not in rank}, **{m: item[m] for m in methods}}


def _input_count(operation: dict[str, Any], spec: dict[str, Any]) -> int:
    """The inputs whose values Schemathesis's coverage phase enumerates: the operation's own parameters and the
    top-level properties of its JSON body (what a reference that names nothing holds counts for none:
    Schemathesis reports it)."""
    body = _resolved(operation.get("requestBody"), spec)
    schema = _resolved(_at(body, "content", "application/json", "schema"), spec)
    members = [schema, *(_resolved(member, spec) for member in _listed(_at(schema, "allOf")))]
    properties = {name for member in members for name in _keys(_at(member, "properties"))}
    return len(_listed(operation.get("parameters"))) + len(properties)


def _resolved(node: Any, spec: dict[str, Any]) -> Any:
    """`node`, or what its local `$ref` names (None where it names nothing)."""
    seen: set[str] = set()
    while isinstance(_at(node, "$ref"), str):
        ref = node["$ref"]
        if not ref.startswith("#/") or ref in seen:
            return None
        seen.add(ref)
        node = _at(spec, *(part.replace("~1", "/").replace("~0", "~") for part in ref[2:].split("/")))
    return node


def _at(node: Any, *keys: str) -> Any:
    """What `node` holds under `keys`, one level each; None where a level is not an object or lacks the key."""
    for key in keys:
        node = node.get(key) if isinstance(node, dict) else None
    return node


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _keys(value: Any) -> list[str]:
    return list(value) if isinstance(value, dict) else []


def _sample_ids(spec: dict[str, Any]) -> set[str]:
    """Record ids the spec shows as examples: its path parameters' examples and example objects' `id`s."""
    found: set[str] = set()

    def walk(node: Any, in_example: bool) -> None:
        if isinstance(node, dict):
            if node.get("in") == "path" and isinstance(node.get("example"), str):
                found.add(node["example"])
            if in_example and isinstance(node.get("id"), str):
                found.add(node["id"])
            for key, value in node.items():
                walk(value, in_example or key in ("example", "examples", "value"))
        elif isinstance(node, list):
            for item in node:
                walk(item, in_example)

    walk(spec, False)
    return found


def _replace_strings(node: Any, replacements: dict[str, str]) -> Any:
    if isinstance(node, str):
        return replacements.get(node, node)
    if isinstance(node, dict):
        return {key: _replace_strings(value, replacements) for key, value in node.items()}
    if isinstance(node, list):
        return [_replace_strings(item, replacements) for item in node]
    return node


def selected_operations(state: RunState) -> list[str] | None:
    """The operations worth running for --only/--skip; None for all of them."""
    chosen = {item for item in COVERS if state.selected((item,))}
    groups = {item.split("-")[0] for item in chosen}
    if groups & {"AUTH", "HTTP"}:
        return None
    return [operation for operation, speaks_to in OPERATION_GROUPS.items() if speaks_to & groups]
