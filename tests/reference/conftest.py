"""Fixtures for the requirement tests: the OpenAPI document as an oracle, raw HTTP, unique shop ids.

Every test in ``test_requirements_*.py`` names the CONTRACT.md requirement(s) it pins with
``@pytest.mark.requirement("LIST-03", ...)``; ``test_requirements_coverage.py`` fails the suite when a
catalogue requirement has no test.
"""

from __future__ import annotations

import http.client
import json
import re
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from email.message import Message
from typing import Any
from urllib.parse import urlsplit

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from conformance.contract.spec import load_spec
from conformance.reference.app import RunningServer, start_server
from conformance.reference.keys import DEMO_DEVELOPER_KEY, DEMO_PARTNER_KEY

SPEC_URI = "urn:partner-webhooks"
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "requirement(*ids): the CONTRACT.md requirement IDs a test pins, e.g. LIST-03")


def _pointer_token(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


class OpenApiSpec:
    """``openapi/partner-webhooks.yaml`` as the oracle for paths, methods, statuses and body shapes."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        resource = Resource.from_contents(document, default_specification=DRAFT202012)
        self._registry = Registry().with_resource(SPEC_URI, resource)

    def template_of(self, path: str) -> str | None:
        """The path template (``/api/v1/partner/webHooks/{webHookId}``) a concrete path matches, if any."""
        for template in self.document["paths"]:
            pattern = "^" + re.sub(r"\\\{[^/]+\\\}", "[^/]+", re.escape(template)) + "$"
            if re.match(pattern, path):
                return template
        return None

    def methods(self, template: str) -> set[str]:
        """The HTTP methods the spec defines on a path template, upper case."""
        return {method.upper() for method in self.document["paths"][template] if method in HTTP_METHODS}

    def _response(self, method: str, template: str, status: int) -> tuple[str, dict[str, Any]] | None:
        """The JSON pointer and object of the documented response, following a ``$ref``."""
        responses = self.document["paths"][template][method.lower()]["responses"]
        for key in (str(status), f"{status // 100}XX", "default"):
            if key in responses:
                pointer = "/".join(["", "paths", _pointer_token(template), method.lower(), "responses", key])
                response = responses[key]
                if "$ref" in response:
                    pointer = response["$ref"].removeprefix("#")
                    response = self._resolve(pointer)
                return pointer, response
        return None

    def _resolve(self, pointer: str) -> Any:
        node: Any = self.document
        for token in pointer.strip("/").split("/"):
            node = node[token.replace("~1", "/").replace("~0", "~")]
        return node

    def documents(self, method: str, template: str, status: int) -> bool:
        """Whether the spec documents this status for this operation."""
        return self._response(method, template, status) is not None

    def schema_errors(self, method: str, template: str, status: int, body: Any) -> list[str]:
        """Where ``body`` breaks the JSON schema documented for this response (empty: it matches)."""
        found = self._response(method, template, status)
        assert found is not None, f"{method} {template} {status} is not documented"
        pointer, response = found
        media = response.get("content", {}).get("application/json")
        assert media is not None, f"{method} {template} {status} documents no JSON body"
        schema_ref = f"{SPEC_URI}#{pointer}/content/application~1json/schema"
        validator = Draft202012Validator({"$ref": schema_ref}, registry=self._registry)
        return [f"{list(error.absolute_path)}: {error.message}" for error in validator.iter_errors(body)]


@pytest.fixture(scope="session")
def spec() -> OpenApiSpec:
    """The project's OpenAPI document (``openapi/partner-webhooks.yaml``)."""
    return OpenApiSpec(load_spec())


@dataclass(frozen=True)
class RawResponse:
    """A response read with ``http.client``; the attribute names are those of ``requests.Response``."""

    status_code: int
    headers: Message
    content: bytes

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")

    def json(self) -> Any:
        return json.loads(self.content)


SendRaw = Callable[..., RawResponse]


def _raw_sender(base_url: str) -> SendRaw:
    parts = urlsplit(base_url)

    def send(
        method: str,
        target: str,
        *,
        headers: Mapping[str, str | bytes] | None = None,
        body: bytes | None = None,
        keys: bool = True,
    ) -> RawResponse:
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        try:
            connection.putrequest(method, target, skip_accept_encoding=True)
            all_headers: dict[str, str | bytes] = {}
            if keys:
                all_headers |= {"x-api-key": DEMO_PARTNER_KEY, "Authorization": DEMO_DEVELOPER_KEY}
            all_headers |= dict(headers or {})
            framed = {name.lower() for name in all_headers} & {"content-length", "transfer-encoding"}
            if body is not None and not framed:
                all_headers["Content-Length"] = str(len(body))
            for name, value in all_headers.items():
                connection.putheader(name, value)
            connection.endheaders(body)
            response = connection.getresponse()
            return RawResponse(response.status, response.msg, response.read())
        finally:
            connection.close()

    return send


@pytest.fixture(scope="session")
def raw_sender() -> Callable[[str], SendRaw]:
    """``raw_sender(base_url)`` is a ``send_raw`` (below) for the server at ``base_url``."""
    return _raw_sender


@pytest.fixture
def send_raw(reference_server: RunningServer) -> SendRaw:
    """Send exactly these bytes: ``send_raw(method, target, headers=None, body=None, keys=True)``.

    ``target`` (ASCII) goes on the request line untouched (``..``, ``%2F``, bad escapes), which
    ``requests`` would normalise. ``keys=True`` adds the demo keys of company ``acme``; ``headers`` values
    may be bytes. Content-Length is added for a body unless ``headers`` frame it themselves.
    """
    return _raw_sender(reference_server.base_url)


@pytest.fixture(scope="module")
def module_reference_server() -> Iterator[RunningServer]:
    """A clean reference server shared by the tests of one module; each test keeps to its own records.

    Like ``reference_server``, its teardown asserts that it hit no unexpected exception.
    """
    server = start_server()
    yield server
    server.stop()
    assert not server.unexpected_errors, server.unexpected_errors


@pytest.fixture
def shop_id() -> str:
    """A shop id no other test uses, so a test's list filters see only its own records."""
    return f"shop-{uuid.uuid4()}"
