"""The cleanup behind the engines: once only one engine is still running, the records of the finished ones are
deleted and the shops only they wrote to are swept (`Ledger.clean_up_behind`); the cleanup at the end does the
rest and lists none of those shops again. Nothing is left, no false alarm comes of it, and a record stored
despite an error is still found, early or at the end.
"""

from __future__ import annotations

import contextvars
from typing import Any

import pytest

from conformance.checker import attribution, ledger
from conformance.checker.evidence import Exchange
from conformance.checker.fuzz.engine import ENGINE as SCHEMATHESIS
from conformance.checker.ledger import Ledger
from conformance.checker.marks import RunMark
from conformance.checker.profile import Credentials
from conformance.checker.scenarios import SCENARIOS_ENGINE
from conformance.checker.verdict import ExitCode

# Two engines side by side: the scenarios end first, Schemathesis's chains go on.
TWO_ENGINES = (SCENARIOS_ENGINE, SCHEMATHESIS.name)


@pytest.fixture
def sweeps(monkeypatch) -> list[dict[str, Any]]:
    """Every sweep's lists, in order: whether it listed the company as a whole, and the (identity, shop) pairs."""
    calls: list[dict[str, Any]] = []
    real = ledger.find_marked

    def spied(client, mark, shops, skip=frozenset(), workers=1, company=True):  # type: ignore[no-untyped-def]
        listed = {(identity, shop) for identity, shop_ids in shops.items() for shop in shop_ids}
        calls.append({"company": company, "listed": listed})
        return real(client, mark, shops, skip, workers, company)

    monkeypatch.setattr(ledger, "find_marked", spied)
    return calls


def test_the_finished_engines_shops_are_swept_behind_them_and_not_again(check_reference, sweeps) -> None:
    outcome = check_reference()

    assert outcome.exit_code == ExitCode.CONFORMANT and outcome.results.findings() == []
    behind, final = sweeps
    assert not behind["company"] and behind["listed"], "no shop was swept while the last engine ran"
    assert final["company"] and not behind["listed"] & final["listed"]
    assert outcome.cleanup.left_behind == [] and outcome.cleanup.found == []
    assert check_reference.servers[-1].api.store.records(None) == []


def test_one_engine_at_a_time_sweeps_only_at_the_end(check_reference, sweeps) -> None:
    check_reference(concurrency=1, engines=TWO_ENGINES)

    assert [call["company"] for call in sweeps] == [True]


def test_a_record_stored_despite_an_error_is_found_by_the_sweep_behind(check_reference, sweeps) -> None:
    """A create that stored its record and answered 500, in a scenario's shop: swept once the scenarios end (a
    shop that cannot go in a query string waits for the company-wide list at the end)."""
    outcome = check_reference(fault="create-stores-then-500", engines=TWO_ENGINES)

    behind, _final = sweeps
    found = {(item.marked.identity, item.marked.record.get("shopId")) for item in outcome.cleanup.found}
    assert found & behind["listed"]
    assert outcome.cleanup.left_behind == [] and check_reference.servers[-1].api.store.records(None) == []


def test_a_shop_where_a_write_got_no_answer_is_swept_at_the_end(check_reference, sweeps) -> None:
    """A create whose connection dropped may yet land: its shop waits for the sweep at the end."""
    outcome = check_reference(fault="create-stores-then-drops", engines=TWO_ENGINES)

    behind, final = sweeps
    found = {(item.marked.identity, item.marked.record.get("shopId")) for item in outcome.cleanup.found}
    assert found and not found & behind["listed"] and found <= final["listed"]
    assert outcome.cleanup.left_behind == [] and check_reference.servers[-1].api.store.records(None) == []


def test_a_shop_first_written_as_the_sweep_behind_begins_is_not_swept(monkeypatch) -> None:
    """The engine still running writes into a shop of its own for the first time while the cleanup behind deletes
    the finished engines' records: that shop is left to the cleanup at the end. (Swept behind, the records a
    running check had just made were deleted under it: a clean reference server failed LIST-02, LIST-03 and
    LIST-05 in a standard run at 50 ms, its pages short of four records.)"""
    book = Ledger(RunMark("0123456789ab"))
    done_shop, running_shop = book.mark.shop("done.1"), book.mark.shop("running.1")
    _write(book, SCENARIOS_ENGINE, done_shop)
    swept: list[str] = []

    def deleting(client: Any, records: list[Any], workers: int) -> list[Any]:
        _write(book, SCHEMATHESIS.name, running_shop)  # meanwhile, beside the cleanup
        return [None] * len(records)

    def listing(client: Any, mark: Any, shops: Any, skip: Any = frozenset(), workers: int = 1, company: bool = True):  # type: ignore[no-untyped-def]
        swept.extend(shop for shop_ids in shops.values() for shop in shop_ids)
        return [], []

    monkeypatch.setattr(ledger, "delete_records", deleting)
    monkeypatch.setattr(ledger, "find_marked", listing)
    book.clean_up_behind(None, [WRITER], lambda engine: engine != SCHEMATHESIS.name)  # type: ignore[arg-type]

    assert swept == [done_shop]


WRITER = Credentials("partner", "developer")


def _write(book: Ledger, engine: str, shop: str) -> None:
    """A create into `shop` by `engine`, answered."""

    def write() -> None:
        attribution.ENGINE.set(engine)
        exchange = Exchange("POST", "http://target/api/v1/partner/webHooks", {}, None, status=201)
        book.intend("createWebHook", {"shopId": shop}, WRITER, exchange)

    contextvars.copy_context().run(write)
