"""Shared fixtures: reference servers started in-process, and a small client that calls them with keys.

    def test_create_answers_the_record(api):
        record = api.create(shopId="shop-1")          # POSTs a valid body, asserts 200, returns the JSON
        assert api.get(record["id"]).json() == record

    def test_other_company_gets_404(api):
        record = api.create()
        assert api.as_second().get(record["id"]).status_code == 404

    def test_fault_changes_behaviour(start_reference, client_for):
        faulty = client_for(start_reference(fault="list-off-by-one"))

Fixtures:
- ``start_reference(fault=None, **kw)``: starts a reference server (any ``start_server`` keyword) and
  stops it when the test ends; returns the ``RunningServer``.
- ``reference_server``: one clean server (in-memory database) for this test.
- ``api``: an ``ApiClient`` on ``reference_server`` with the demo keys of company ``acme``.
- ``client_for(server, **keys)``: an ``ApiClient`` on any server (``ApiClient`` keywords pass through).

A clean server's teardown also asserts that it hit no unexpected exception.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote

import pytest
import requests

from conformance.reference.app import RunningServer, start_server
from conformance.reference.keys import DEMO_DEVELOPER_KEY, DEMO_PARTNER_KEY, DEMO_SECOND_DEVELOPER_KEY

BASE_PATH = "/api/v1/partner/webHooks"

pytest_plugins = ["worker_stderr"]  # a crashed test worker's last words in the report


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The tests marked `long` first, the order otherwise kept: pytest-xdist hands out tests in collection
    order, and a long test handed out last keeps one worker going while the other has nothing left."""
    items.sort(key=lambda item: item.get_closest_marker("long") is None)


_KEEP = object()  # "leave this key as it is" in ApiClient.with_keys


class ApiClient:
    """Calls to one server with one set of keys, over a keep-alive ``requests.Session``.

    Every method returns the ``requests.Response`` (no status checks), except ``create`` which asserts
    success and returns the record. Ids are percent-encoded into the path, so any string can be sent.
    """

    def __init__(
        self,
        base_url: str,
        *,
        partner_key: str | None = DEMO_PARTNER_KEY,
        developer_key: str | None = DEMO_DEVELOPER_KEY,
        partner_key_header: str = "x-api-key",
        session: requests.Session | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.partner_key = partner_key
        self.developer_key = developer_key
        self.partner_key_header = partner_key_header
        self.session = session or requests.Session()

    # -- other identities ---------------------------------------------------------------------------------

    def as_second(self) -> ApiClient:
        """The same server, as the developer key of the second company (``globex``)."""
        return self.with_keys(developer_key=DEMO_SECOND_DEVELOPER_KEY)

    def with_keys(self, *, partner_key: Any = _KEEP, developer_key: Any = _KEEP) -> ApiClient:
        """The same server with other keys; ``None`` leaves that header out of every request."""
        return ApiClient(
            self.base_url,
            partner_key=self.partner_key if partner_key is _KEEP else partner_key,
            developer_key=self.developer_key if developer_key is _KEEP else developer_key,
            partner_key_header=self.partner_key_header,
            session=self.session,
        )

    def without_keys(self) -> ApiClient:
        """The same server with neither key sent."""
        return self.with_keys(partner_key=None, developer_key=None)

    # -- requests ---------------------------------------------------------------------------------------

    @staticmethod
    def body(**fields: Any) -> dict[str, Any]:
        """A valid create body (one public https URL), with ``fields`` added or replaced."""
        return {"webHookUrls": ["https://hooks.example.com/partner/orders"], **fields}

    def key_headers(self) -> dict[str, str]:
        """The key headers this client sends (a key that is None is left out)."""
        headers = {}
        if self.partner_key is not None:
            headers[self.partner_key_header] = self.partner_key
        if self.developer_key is not None:
            headers["Authorization"] = self.developer_key
        return headers

    def item_path(self, webhook_id: str) -> str:
        """The path of one record, with the id percent-encoded (``/`` too)."""
        # Dots are encoded too: requests would resolve a literal `..` segment before sending it.
        return f"{BASE_PATH}/{quote(webhook_id, safe='').replace('.', '%2E')}"

    def raw(
        self,
        method: str,
        path: str = BASE_PATH,
        *,
        headers: dict[str, str | None] | None = None,
        **kwargs: Any,
    ) -> requests.Response:
        """Any request: ``path`` is appended to the base URL; ``headers`` override the key headers
        (a header set to None is not sent); other keywords (``json``, ``data``, ``params``) go to requests."""
        merged: dict[str, str | None] = {**self.key_headers(), **(headers or {})}
        return self.session.request(method, self.base_url + path, headers=merged, timeout=10, **kwargs)

    def post(self, json: Any = None, **kwargs: Any) -> requests.Response:
        """POST to the collection (a create)."""
        return self.raw("POST", BASE_PATH, json=json, **kwargs)

    def create(self, **fields: Any) -> dict[str, Any]:
        """Create a valid record (``body(**fields)``), assert 200 and return it."""
        response = self.post(self.body(**fields))
        assert response.status_code == 200, response.text
        return response.json()

    def get(self, webhook_id: str, **kwargs: Any) -> requests.Response:
        """GET one record."""
        return self.raw("GET", self.item_path(webhook_id), **kwargs)

    def put(self, webhook_id: str, json: Any = None, **kwargs: Any) -> requests.Response:
        """PUT (replace) one record."""
        return self.raw("PUT", self.item_path(webhook_id), json=json, **kwargs)

    def delete(self, webhook_id: str, **kwargs: Any) -> requests.Response:
        """DELETE one record."""
        return self.raw("DELETE", self.item_path(webhook_id), **kwargs)

    def list(self, **params: Any) -> requests.Response:
        """GET the collection with these query parameters (``start``, ``limit``, ``shopId``, ``type``)."""
        return self.raw("GET", BASE_PATH, params=params)


@pytest.fixture
def start_reference() -> Iterator[Callable[..., RunningServer]]:
    """A factory: ``start_reference(fault=None, **kw)`` starts a server and stops it after the test."""
    servers: list[RunningServer] = []

    def start(fault: str | None = None, **kwargs: Any) -> RunningServer:
        server = start_server(fault=fault, **kwargs)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()
    for server in servers:
        if server.fault is None:
            assert not server.unexpected_errors, server.unexpected_errors


@pytest.fixture
def reference_server(start_reference: Callable[..., RunningServer]) -> RunningServer:
    """A clean reference server with an empty in-memory database and the demo keys."""
    return start_reference()


@pytest.fixture
def api(reference_server: RunningServer) -> Iterator[ApiClient]:
    """An ``ApiClient`` on ``reference_server`` with the demo keys of company ``acme``."""
    client = ApiClient(reference_server.base_url)
    yield client
    client.session.close()


@pytest.fixture
def client_for() -> Iterator[Callable[..., ApiClient]]:
    """A factory: ``client_for(server, **kw)`` is an ``ApiClient`` on that server (demo keys by default)."""
    clients: list[ApiClient] = []

    def make(server: RunningServer, **kwargs: Any) -> ApiClient:
        client = ApiClient(server.base_url, **kwargs)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.session.close()
