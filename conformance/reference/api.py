"""The reference server's request handling, free of sockets: route, method, keys, operation, answer.

``WebHooksApi.handle`` turns one parsed HTTP request into one ``Reply``. Every failure becomes a JSON Error
body with a 4xx status; a 5xx comes only from a planted fault. The HTTP plumbing (framing, keep-alive) is
in ``app.py``.
"""

from __future__ import annotations

import json
import logging
import posixpath
import re
import threading
import traceback
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.message import Message
from html import escape
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, quote, unquote, unquote_to_bytes, urlsplit

from conformance.reference import service as service_module
from conformance.reference import store as store_module
from conformance.reference.errors import ApiError, PlantedCrash, PlantedDrop
from conformance.reference.faults import fault as find_fault
from conformance.reference.keys import Keys
from conformance.reference.service import WebHookService
from conformance.reference.store import WebHookStore
from conformance.reference.validation import Invalid, parse_json_object

COLLECTION_PATH = "/api/v1/partner/webHooks"
MAX_BODY_BYTES = 1024 * 1024  # VALID-10
# Even the `valid-no-body-limit` fault keeps a bound, so a test cannot exhaust the machine's memory.
FAULTY_MAX_BODY_BYTES = 64 * MAX_BODY_BYTES
LIST_PARAMETERS = ("start", "limit", "shopId", "type")
JSON_CONTENT_TYPE = "application/json; charset=utf-8"
_log = logging.getLogger("conformance.reference")
_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")  # a `%` that does not start a percent-escape


@dataclass(frozen=True)
class Reply:
    """One HTTP answer: status, body bytes and their Content-Type (None for no body), extra headers."""

    status: int
    body: bytes = b""
    content_type: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, status: int, value: Any, headers: Mapping[str, str] | None = None) -> Reply:
        """A JSON answer (UTF-8)."""
        body = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        return cls(status, body, JSON_CONTENT_TYPE, headers or {})


@dataclass(frozen=True)
class Route:
    """A path of the API: the collection (``webhook_id`` None) or one record."""

    webhook_id: str | None

    @property
    def allowed(self) -> tuple[str, ...]:
        """The methods this path defines, for 405 and ``Allow`` (HTTP-05). HEAD is not among them: the API
        defines no HEAD, so it gets 405 like any other undefined method."""
        return ("GET", "POST") if self.webhook_id is None else ("GET", "PUT", "DELETE")


def route_of(path: str) -> Route | None:
    """The route of a raw (still percent-encoded) request path; None for a path outside the API.

    The id is the percent-decoded remainder after the collection path, so it may hold ``/`` (from ``%2F``),
    ``..`` or any Unicode; a trailing slash gives the empty id, which names no record.
    """
    if path == COLLECTION_PATH:
        return Route(None)
    if path.startswith(COLLECTION_PATH + "/"):
        # The request line arrives as Latin-1 text; the id's bytes (raw or %-encoded) are UTF-8.
        raw_id = path[len(COLLECTION_PATH) + 1 :].encode("latin-1")
        return Route(unquote_to_bytes(raw_id).decode("utf-8", errors="replace"))
    return None


class WebHooksApi:
    """The reference server's behaviour: CONTRACT.md, or with ``fault`` one planted defect of ``faults.py``."""

    def __init__(
        self,
        *,
        db: str = ":memory:",
        keys: Keys | None = None,
        fault: str | None = None,
        partner_key_header: str = "x-api-key",
    ) -> None:
        if fault is not None:
            try:
                find_fault(fault)
            except KeyError as error:
                raise ValueError(error.args[0]) from None
        self.keys = keys or Keys.demo()
        self.fault = fault
        self.partner_key_header = partner_key_header
        self.store = WebHookStore(db)
        self.service = WebHookService(self.store, fault=fault)
        self.unexpected_errors: list[str] = []  # tracebacks of bugs; the clean server's tests expect none
        self._errors_lock = threading.Lock()

    def body_limit(self, method: str) -> int:
        """The largest request body of this method that is read (VALID-10); beyond it the answer is 413."""
        lenient = self.fault in ("valid-no-body-limit", "valid-padding-not-counted")
        if lenient or (self.fault == "valid-oversize-update-processed" and method == "PUT"):
            return FAULTY_MAX_BODY_BYTES
        return MAX_BODY_BYTES

    def close(self) -> None:
        """Close the database."""
        self.store.close()

    def handle(self, method: str, target: str, headers: Message, body: bytes) -> Reply:
        """The answer to one request; never a 5xx unless a planted fault crashes, and never raises unless a planted
        fault drops the connection (`PlantedDrop`)."""
        try:
            return self._handle(method, target, headers, body)
        except ApiError as error:
            return self.error_reply(error)
        except PlantedCrash:
            return Reply.json(500, {"message": "Internal Server Error"})
        except PlantedDrop:
            raise  # the HTTP layer closes the connection without an answer
        except Exception:  # a bug: log it for the operator, tell the client nothing about it
            with self._errors_lock:
                self.unexpected_errors.append(traceback.format_exc())
            _log.exception("unexpected error answering %s", method)
            return self.error_reply(ApiError(400, "the request could not be processed"))

    def _handle(self, method: str, target: str, headers: Message, body: bytes) -> Reply:
        try:
            parts = urlsplit(target)
        except ValueError:  # e.g. an unbalanced `[` in an absolute-form target
            raise ApiError(404, "no such resource", error_type="NOT_FOUND") from None
        redirect = self._framework_redirect(parts.path)
        if redirect is not None:
            return redirect
        route = route_of(parts.path)
        if route is None:
            raise ApiError(404, "no such resource", error_type="NOT_FOUND")
        if self.fault == "valid-padding-not-counted" and len(body.rstrip(b" \t\r\n")) > MAX_BODY_BYTES:
            raise ApiError(413, f"request body exceeds {MAX_BODY_BYTES} bytes", error_type="PAYLOAD_TOO_LARGE")
        automatic = self._framework_answer(method, route)
        if automatic is not None:
            return automatic
        if method not in route.allowed:
            raise self._not_allowed(route)  # before the keys: a 405 reveals nothing
        if self.fault == "auth-body-parsed-first" and body:
            self._json_body(headers, body)  # the bug: a bad body is refused before the keys are looked at
        company = self._authenticate(method, route, headers)

        if route.webhook_id is None:
            if method == "GET":
                return Reply.json(200, self.service.search(company, self._list_query(parts.query)))
            return Reply.json(200, self.service.create(_known(company), self._json_body(headers, body)))

        webhook_id, company = route.webhook_id, _known(company)
        if method == "GET":
            if self.fault == "read-dotdot-lists" and ".." in webhook_id.split("/"):
                return Reply.json(200, self.service.search(company, self._list_query(parts.query)))
            return Reply.json(200, self.service.read(company, webhook_id))
        if method == "PUT":
            return Reply.json(200, self.service.update(company, webhook_id, self._json_body(headers, body)))
        self.service.delete(company, webhook_id)
        if self.fault == "delete-text-body":
            return Reply(200, b"OK", "text/plain; charset=utf-8")
        return Reply(204)

    # -- keys ---------------------------------------------------------------------------------------------

    def _authenticate(self, method: str, route: Route, headers: Message) -> str | None:
        """The company of the caller's developer key, if both keys are known (AUTH-01, AUTH-02); else 401,
        before anything acts (AUTH-03)."""
        partner_key = _single_header(headers, self.partner_key_header)
        developer_key = _single_header(headers, "Authorization")
        company = self.keys.company_of(developer_key)
        if company is None and developer_key is not None and self.fault == "auth-unknown-developer-key":
            company = next(iter(self.keys.developer_keys.values()))
        if company is not None and self._partner_key_accepted(partner_key):
            return company
        if self.fault == "auth-list-unauthenticated" and route.webhook_id is None and method == "GET":
            return company  # None when no developer key came: the list is then empty
        if self.fault == "auth-delete-before-check" and method == "DELETE" and route.webhook_id is not None:
            self.service.delete_without_keys(route.webhook_id)
        raise ApiError(401, "missing or unknown API key", error_type="UNAUTHORIZED")

    def _partner_key_accepted(self, key: str | None) -> bool:
        if key is None:
            return self.fault == "auth-partner-key-optional"
        if key in self.keys.partner_keys:
            return True
        return self.fault == "auth-bearer-prefix-any" and any(key.startswith(k) for k in self.keys.partner_keys)

    # -- bodies -------------------------------------------------------------------------------------------

    def _json_body(self, headers: Message, body: bytes) -> dict[str, Any]:
        """The body of a create or update: JSON by Content-Type (else 415), a JSON object (else 400)."""
        media_type, _, parameters = headers.get("Content-Type", "").partition(";")
        media_type = media_type.strip().lower()
        if media_type != "application/json" and not (
            media_type.startswith("application/") and media_type.endswith("+json")
        ):
            raise ApiError(415, "Content-Type must be application/json", error_type="UNSUPPORTED_MEDIA_TYPE")
        for parameter in parameters.split(";"):
            name, _, value = parameter.partition("=")
            if name.strip().lower() == "charset" and value.strip().strip('"').lower() not in ("utf-8", "utf8"):
                raise ApiError(415, "the body must be UTF-8 JSON", error_type="UNSUPPORTED_MEDIA_TYPE")
        try:
            return parse_json_object(body, fault=self.fault)
        except Invalid as problem:
            if self.fault == "valid-malformed-json-500" and problem.error_type == "INVALID_JSON":
                raise PlantedCrash("JSONDecodeError") from None
            if self.fault == "valid-non-object-json-crash" and problem.error_type == "NOT_AN_OBJECT":
                raise PlantedCrash("AttributeError: 'list' object has no attribute 'get'") from None
            raise ApiError(400, problem.message, error_type=problem.error_type) from None

    # -- what frameworks answer before the handler (planted faults) --------------------------------------

    def _framework_redirect(self, path: str) -> Reply | None:
        """The redirect faults: a trailing slash dropped, or the decoded path cleaned (Go's ServeMux)."""
        if self.fault == "read-trailing-slash-redirect" and path.startswith(COLLECTION_PATH) and path.endswith("/"):
            return Reply(307, headers={"Location": path.rstrip("/")})
        if self.fault == "read-path-cleaning-redirect":
            decoded = unquote(path)
            cleaned = posixpath.normpath(decoded).replace("//", "/") + ("/" if decoded.endswith("/") else "")
            if cleaned != decoded:
                return Reply(301, headers={"Location": quote(cleaned)})
        return None

    def _framework_answer(self, method: str, route: Route) -> Reply | None:
        """The automatic OPTIONS and HEAD answers of the planted faults."""
        if self.fault == "http-automatic-options" and method == "OPTIONS":
            allowed = ",".join(route.allowed)
            return Reply(200, allowed.encode(), "text/plain; charset=utf-8", {"Allow": allowed})
        if self.fault == "http-head-skips-keys" and method == "HEAD":
            return Reply(200)
        return None

    def _list_query(self, query: str) -> dict[str, str]:
        """The list's query parameters (`list_query`), as the planted query faults read them."""
        if self.fault == "list-unparsable-query-ignored" and (";" in query or _BAD_ESCAPE.search(query)):
            return {}
        parsed = list_query(query)
        if self.fault == "list-bracket-param-crash" and any(name.startswith(("start[", "limit[")) for name in parsed):
            raise PlantedCrash("TypeError: Cannot convert object to primitive value")
        return parsed

    # -- answers ------------------------------------------------------------------------------------------

    def _not_allowed(self, route: Route) -> ApiError:
        if self.fault == "http-no-405":
            return ApiError(404, "no such resource", error_type="NOT_FOUND")
        allowed = route.allowed[:1] if self.fault == "http-allow-one-method" else route.allowed
        headers = {} if self.fault == "http-405-without-allow" else {"Allow": ", ".join(allowed)}
        return ApiError(405, "method not allowed on this path", error_type="METHOD_NOT_ALLOWED", headers=headers)

    def error_reply(self, error: ApiError) -> Reply:
        """The Error body of a 4xx (HTTP-03): message, status, reason phrase, errorType, field if any."""
        if self.fault == "http-413-text-plain" and error.status == 413:
            return Reply(413, b"413 Request Entity Too Large", "text/plain; charset=utf-8")
        body: dict[str, Any] = {
            "message": error.message,
            "status": error.status,
            "error": HTTPStatus(error.status).phrase,
            "errorType": error.error_type,
        }
        if error.field is not None:
            body["field"] = error.field
        if self.fault == "http-leaks-internals":
            body["message"] += f" (sqlite3.OperationalError in {store_module.__file__}: {store_module.SELECT_BY_ID})"
            body["trace"] = (
                f'Traceback (most recent call last):\n  File "{service_module.__file__}", line 1, in handle\n'
                f"conformance.reference.errors.ApiError: {error.message}"
            )
        if self.fault == "http-error-without-message":
            del body["message"]
        if self.fault == "http-errors-html":
            page = f"<html><body><h1>{error.status} {body['error']}</h1><p>{escape(error.message)}</p></body></html>"
            return Reply(error.status, page.encode("utf-8"), "text/html; charset=utf-8", error.headers)
        return Reply.json(error.status, body, error.headers)


def _single_header(headers: Message, name: str) -> str | None:
    """A header's value without surrounding blanks; None when it is missing or sent more than once (two
    different keys in one call are ambiguous, so neither counts)."""
    values = headers.get_all(name) or []
    return values[0].strip(" \t") if len(values) == 1 else None


def list_query(query: str) -> dict[str, str]:
    """The list's query parameters; unknown ones are ignored, a known one given twice is ambiguous (400)."""
    parsed = parse_qs(query, keep_blank_values=True)
    for name in LIST_PARAMETERS:
        if len(parsed.get(name, ())) > 1:
            raise ApiError(400, f"{name} is given more than once", field=name, error_type="VALIDATION")
    return {name: values[0] for name, values in parsed.items()}


def _known(company: str | None) -> str:
    # Only the list may run without a company (the `auth-list-unauthenticated` fault).
    assert company is not None
    return company
