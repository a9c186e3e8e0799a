"""Checks that hold for every answer, whichever suite asked: HTTP-01, -02, -03, -04 and -06.

The response schemas and documented status codes come from the spec, the one place they are written.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from conformance.checker import attribution
from conformance.checker.client import Reply
from conformance.checker.results import Results

if TYPE_CHECKING:
    from conformance.checker.run_state import RunState

# What these checks verify. They judge every answer, those to reads too, so a read-only run exercises them.
COVERS = ("HTTP-01", "HTTP-02", "HTTP-03", "HTTP-04", "HTTP-06")

# Answers whose documented JSON body the contract lets a target leave out (DELETE-01: "a 200 body, if any").
BODY_OPTIONAL = frozenset({("deleteWebHook", 200)})

# Signs that an error body shows the server's insides (HTTP-04).
LEAK_PATTERNS = (
    re.compile(r"Traceback \(most recent call last\)"),
    re.compile(r"\bat [\w$.]+\([\w$]+\.java:\d+\)"),
    re.compile(r"(?:^|[\s\"'(])/(?:usr|home|opt|var|srv|app|root|tmp)/[\w./-]+"),
    re.compile(r"[A-Za-z]:\\[\w\\.-]+"),
    re.compile(r"\b(?:SELECT|INSERT INTO|UPDATE|DELETE FROM)\b.+\b(?:FROM|WHERE|SET|VALUES)\b", re.I | re.S),
    re.compile(r"\b(?:sqlite3|psycopg2?|java\.lang|System\.)\.?\w*(?:Error|Exception)\b"),
    re.compile(r"\b[A-Z]\w*(?:Error|Exception)\b(?=:|\s*\()"),
    re.compile(r"File \"[^\"]+\", line \d+"),
)


class ResponseSpec:
    """The documented status codes and 2xx body schemas of each operation, read from the spec."""

    def __init__(self, spec: dict[str, Any]) -> None:
        resource = Resource.from_contents(spec, default_specification=DRAFT202012)
        self._registry = Registry().with_resource("", resource)
        self._components = spec.get("components", {})
        self.statuses: dict[str, set[int]] = {}
        self._schemas: dict[tuple[str, int], Any] = {}
        self._validators: dict[tuple[str, int], Draft202012Validator] = {}
        for path_item in spec.get("paths", {}).values():
            for operation in path_item.values():
                if not isinstance(operation, dict) or "operationId" not in operation:
                    continue
                op_id = operation["operationId"]
                self.statuses[op_id] = set()
                for code, response in operation.get("responses", {}).items():
                    if not str(code).isdigit():
                        continue
                    self.statuses[op_id].add(int(code))
                    response = self._resolve(spec, response)
                    schema = response.get("content", {}).get("application/json", {}).get("schema")
                    if schema is not None:
                        self._schemas[(op_id, int(code))] = schema

    @staticmethod
    def _resolve(spec: dict[str, Any], node: Any) -> Any:
        while isinstance(node, dict) and "$ref" in node:
            target: Any = spec
            for part in node["$ref"].lstrip("#/").split("/"):
                target = target[part]
            node = target
        return node

    def documented(self, operation: str, status: int) -> bool:
        return status in self.statuses.get(operation, set())

    def body_due(self, operation: str, status: int) -> bool:
        """Whether this answer must carry the JSON body the spec documents for it (an empty one breaks HTTP-02)."""
        return (operation, status) in self._schemas and (operation, status) not in BODY_OPTIONAL

    def schema_errors(self, operation: str, status: int, body: Any) -> list[str]:
        """Why a body does not match the documented schema for this status (empty when it does)."""
        key = (operation, status)
        if key not in self._schemas:
            return []
        if key not in self._validators:
            # A root schema's `#/...` refs resolve against the root itself (it shadows the registry's ""
            # resource), so the root carries the spec's components for `#/components/...` to find (a
            # recursive ref, which `inlined` leaves as it is, is resolved there).
            root = {**inlined(self._schemas[key], {"components": self._components}), "components": self._components}
            self._validators[key] = Draft202012Validator(root, registry=self._registry)
        errors = sorted(self._validators[key].iter_errors(body), key=lambda e: list(e.absolute_path))
        return [f"{'/'.join(map(str, e.absolute_path)) or '(body)'}: {e.message[:200]}" for e in errors[:5]]


def inlined(schema: Any, document: dict[str, Any], resolving: tuple[str, ...] = ()) -> Any:
    """`schema` with each local `$ref` (`#/...` in `document`) replaced by the schema it names; a `$ref` with
    other keywords beside it becomes an `allOf` of both, as JSON Schema 2020-12 reads it. A ref met again inside
    itself (a recursive schema) stays a ref. The same verdicts, 2 to 4 times faster: jsonschema resolves a ref
    anew at every use, and every answer of a run is validated (about 8 % of a quick run's CPU went there)."""
    if isinstance(schema, list):
        return [inlined(item, document, resolving) for item in schema]
    if not isinstance(schema, dict):
        return schema
    ref = schema.get("$ref")
    if not isinstance(ref, str) or not ref.startswith("#/") or ref in resolving:
        return {name: inlined(value, document, resolving) for name, value in schema.items()}
    target: Any = document
    for part in ref[2:].split("/"):
        target = target[part.replace("~1", "/").replace("~0", "~")]
    resolved = inlined(target, document, (*resolving, ref))
    beside = {name: inlined(value, document, resolving) for name, value in schema.items() if name != "$ref"}
    return {"allOf": [resolved, beside]} if beside else resolved


class ResponseObserver:
    """Applies the every-answer checks to each reply the client receives."""

    check = "every-response"

    def __init__(self, spec: ResponseSpec, results: Results, state: RunState | None = None) -> None:
        self.spec = spec
        self.results = results
        self.state = state  # where the request came from, for the finding's reproduction (when known)

    def __call__(self, reply: Reply) -> None:
        deferred = attribution.DEFERRED.get()
        if deferred is not None:  # judged when its check takes it in order, as if sent one after another
            deferred.append(lambda: self.judge(reply))
        else:
            self.judge(reply)

    def judge(self, reply: Reply) -> None:
        """The every-answer checks of one answer."""
        if reply.status == 429:  # always allowed; the client has already waited and retried
            return
        self._expect("HTTP-01", reply.status < 500, "no 5xx for any request", f"status {reply.status}", reply)
        if not reply.api_call:
            return  # invalid HTTP or a path outside the API: any 4xx with any body (CONTRACT.md after HTTP-06)
        if reply.exchange.method != "HEAD":  # a HEAD answer never has a body (RFC 9110 9.3.2)
            self._check_body(reply)
        if reply.operation is not None:
            self._expect(
                "HTTP-06",
                self.spec.documented(reply.operation, reply.status),
                f"a status code the spec documents for {reply.operation}: "
                f"{sorted(self.spec.statuses.get(reply.operation, ()))}",
                f"status {reply.status}",
                reply,
            )

    def _check_body(self, reply: Reply) -> None:
        has_body = bool(reply.body.strip())
        if not has_body and 200 <= reply.status < 300 and reply.operation:
            self._expect(
                "HTTP-02",
                not self.spec.body_due(reply.operation, reply.status),
                f"the JSON body the spec documents for a {reply.status} answer to {reply.operation}",
                "an empty body",
                reply,
            )
        if has_body:
            body = reply.json_or_none()
            is_json = reply.content_type == "application/json" or reply.content_type.endswith("+json")
            shape = "JSON" if body is not None else "that does not parse as JSON"
            self._expect(
                "HTTP-02",
                is_json and body is not None,
                "a JSON body with Content-Type application/json",
                f"Content-Type {reply.content_type or '(none)'}, body {shape}",
                reply,
            )
        if 200 <= reply.status < 300 and reply.operation and has_body:
            body = reply.json_or_none()
            if body is not None:
                errors = self.spec.schema_errors(reply.operation, reply.status, body)
                self._expect(
                    "HTTP-02",
                    not errors,
                    f"the {reply.status} body matches the spec's schema for {reply.operation}",
                    "; ".join(errors),
                    reply,
                    about=_listed_records(errors, body),
                )
        if 400 <= reply.status < 500:
            body = reply.json_or_none()
            self._expect(
                "HTTP-03",
                isinstance(body, dict) and isinstance(body.get("message"), str),
                "an Error body: a JSON object with a string `message`",
                _describe(body, reply),
                reply,
            )
            leak = next((p.pattern for p in LEAK_PATTERNS if p.search(reply.text)), None)
            self._expect(
                "HTTP-04",
                leak is None,
                "an error body that shows no stack trace, file path, SQL or exception class",
                f"the body matches {leak!r}",
                reply,
            )

    def _expect(
        self, requirement_id: str, ok: bool, expected: str, actual: str, reply: Reply, about: tuple[str, ...] = ()
    ) -> None:
        """One assertion about this answer; a finding names the request it answered (these checks see every
        answer, so the request is the only context a reader gets). `about`: ids of the records the failure is
        about, which its reproduction must create (they may lie beyond the evidence's clipped body)."""
        if ok:
            self.results.check(requirement_id, self.check, True, expected, actual, operation=reply.operation)
            return
        evidence = [reply.exchange]
        origin = self.state.current_check if self.state is not None else None
        self.results.check(
            requirement_id,
            self.check,
            False,
            expected,
            actual,
            evidence,
            operation=reply.operation,
            sequence=self.state.sequence(origin, evidence, about) if self.state is not None and origin else None,
            origin=origin,
            answering=reply.exchange.request_in_words(),
        )


def _listed_records(errors: list[str], body: Any) -> tuple[str, ...]:
    """The ids and shops of the listed records that schema errors (`values/3/webHookType: ...`) are about: what
    the finding's reproduction must make exist (a record's shop finds a create that stored it but never
    answered)."""
    values = body.get("values") if isinstance(body, dict) else None
    if not isinstance(values, list):
        return ()
    at = {int(match[1]) for error in errors if (match := re.match(r"values/(\d+)", error))}
    records = [values[index] for index in sorted(at) if index < len(values) and isinstance(values[index], dict)]
    named = [record.get(field) for record in records for field in ("id", "shopId")]
    return tuple(item for item in named if isinstance(item, str))


def _describe(body: Any, reply: Reply) -> str:
    if body is None:
        return f"a body that is not JSON: {reply.text[:120]!r}"
    if not isinstance(body, dict):
        return f"JSON {type(body).__name__}, not an object"
    return f"an object with keys {sorted(body)[:10]}"
