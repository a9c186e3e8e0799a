"""report.html in a real browser: Debian's chromium, driven by Playwright (the browser is never downloaded).

The page renders its verdict, filtering hides rows, every curl command has a working copy button, markup from
the target stays text, and the page requests nothing but itself and logs no error.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect, sync_playwright
from written_reports import WrittenRun

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@dataclass
class OpenedReport:
    """A report page as loaded, with every console error, page error and request it caused."""

    page: Any
    url: str
    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def visible_rows(self) -> list[str]:
        return self.page.eval_on_selector_all(
            "#requirements-table tbody tr", "rows => rows.filter(row => !row.hidden).map(row => row.id.slice(4))"
        )


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail("/usr/bin/chromium is missing: .ci/run installs Debian's chromium before the tests")
        pytest.skip("needs Debian's chromium (apt-get install chromium)")

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def open_report(browser: Any) -> Iterator[Any]:
    """`open_report(run)`: that run's report.html in a fresh page that may use the clipboard."""
    contexts = []

    def open_page(written: WrittenRun) -> OpenedReport:
        context = browser.new_context(permissions=["clipboard-read", "clipboard-write"])
        contexts.append(context)
        page = context.new_page()
        url = (written.directory / "report.html").as_uri()
        opened = OpenedReport(page, url)
        page.on("console", lambda message: opened.errors.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error: opened.errors.append(str(error)))
        page.on("request", lambda request: opened.requests.append(request.url))
        page.goto(url)
        return opened

    yield open_page
    for context in contexts:
        context.close()


@pytest.mark.parametrize(
    ("run_name", "title"),
    [("clean_run", "Conformant"), ("fault_run", "Nonconformant"), ("error_run", "Run incomplete")],
)
def test_banner_shows_the_verdict(request: pytest.FixtureRequest, open_report: Any, run_name: str, title: str) -> None:
    written: WrittenRun = request.getfixturevalue(run_name)
    opened = open_report(written)
    banner = opened.page.locator("#banner")
    assert opened.page.locator("#verdict").inner_text() == title
    assert written.report["verdict"] in (banner.get_attribute("class") or "").split()
    assert banner.is_visible()
    assert opened.errors == []


def test_typing_in_the_filter_hides_the_other_rows(fault_run: WrittenRun, open_report: Any) -> None:
    opened = open_report(fault_run)
    everything = [item["id"] for item in fault_run.report["requirements"]]
    assert opened.visible_rows() == everything
    opened.page.fill("#filter", "list-03")
    assert opened.visible_rows() == ["LIST-03"]
    assert opened.page.inner_text("#shown-count") == f"1 of {len(everything)} shown"
    opened.page.fill("#filter", "")
    assert opened.visible_rows() == everything


def test_choosing_a_status_or_a_tile_hides_rows(fault_run: WrittenRun, open_report: Any) -> None:
    opened = open_report(fault_run)
    requirements = fault_run.report["requirements"]
    opened.page.select_option("#status-filter", "passed")
    assert opened.visible_rows() == [item["id"] for item in requirements if item["status"] == "passed"]
    opened.page.click('button.tile[data-level="MUST"][data-status="failed"]')
    assert opened.visible_rows() == ["LIST-03"]
    assert opened.page.input_value("#status-filter") == "failed"


def test_every_curl_command_has_a_copy_button_that_copies_it(fault_run: WrittenRun, open_report: Any) -> None:
    opened = open_report(fault_run)
    findings = [finding for item in fault_run.report["requirements"] for finding in item["findings"]]
    commands = [command for finding in findings for command in [*finding["reproduction"], finding["rerun"]]]
    blocks = opened.page.locator("#findings .command")
    assert blocks.count() == len(commands) > 0
    assert opened.page.locator("#findings .command button.copy").count() == len(commands)
    assert blocks.first.locator("code").inner_text() == commands[0]
    blocks.first.locator("button.copy").click()
    # The button says so once the clipboard's promise settles, which is not yet when click() returns.
    expect(blocks.first.locator("button.copy")).to_have_text("Copied")
    assert opened.page.evaluate("navigator.clipboard.readText()") == commands[0]


def test_the_matrix_marks_the_failed_operation(fault_run: WrittenRun, open_report: Any) -> None:
    opened = open_report(fault_run)
    failed_rows = opened.page.locator("#matrix tbody tr", has=opened.page.locator("td.failed"))
    assert failed_rows.count() == 1
    assert failed_rows.first.locator("td").first.inner_text() == "LIST-03"


def test_the_page_requests_nothing_but_itself_and_logs_no_error(fault_run: WrittenRun, open_report: Any) -> None:
    opened = open_report(fault_run)
    opened.page.fill("#filter", "list")
    opened.page.select_option("#level-filter", "MUST")
    opened.page.locator("#findings details").first.click()
    opened.page.locator("#findings button.copy").first.click()
    opened.page.wait_for_timeout(100)
    assert opened.requests == [opened.url]
    assert opened.errors == []


def test_markup_from_the_target_stays_text(hostile_run: WrittenRun, open_report: Any) -> None:
    opened = open_report(hostile_run)
    opened.page.locator("#findings details").first.click()
    shown = opened.page.locator("#findings details pre").nth(1).inner_text()
    assert "<script>window.__pwned = true;</script>" in shown
    assert opened.page.evaluate("typeof window.__pwned") == "undefined"
    assert opened.page.locator("#findings img, #findings script").count() == 0
    assert opened.requests == [opened.url]
    assert opened.errors == []


def test_first_screen_shows_the_verdict_and_the_first_failed_requirement_with_its_reason(
    crash_run: WrittenRun, open_report: Any
) -> None:
    opened = open_report(crash_run)
    page = opened.page
    page.set_viewport_size({"width": 1280, "height": 800})
    first = next(item for item in crash_run.report["requirements"] if item["status"] == "failed")
    article = page.locator("#findings article.failed").first
    assert article.get_attribute("id") == f"finding-{first['id']}"
    for shown in (page.locator("#verdict"), article.locator("h3"), article.locator("p.why")):
        box = shown.bounding_box()
        assert box is not None and shown.is_visible() and box["y"] + box["height"] <= 800, shown
    assert page.locator("#verdict").inner_text() == "Nonconformant"
    assert first["id"] in article.locator("h3").inner_text()
    said = " ".join(first["findings"][0]["actual"].split())
    assert article.locator("p.why").inner_text().startswith(said[:150])
    assert opened.errors == []


def test_nothing_is_wider_than_a_1280_pixel_window(crash_run: WrittenRun, open_report: Any) -> None:
    opened = open_report(crash_run)
    page = opened.page
    page.set_viewport_size({"width": 1280, "height": 800})
    page.eval_on_selector_all("details", "all => all.forEach(item => { item.open = true; })")
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    requirement_cell = page.locator("#req-LIST-02 td").nth(3)
    assert requirement_cell.bounding_box()["width"] >= 200  # the requirement column is not squeezed


def test_passed_requirements_are_collapsed_and_code_in_their_text_is_code(
    crash_run: WrittenRun, open_report: Any
) -> None:
    opened = open_report(crash_run)
    page = opened.page
    assert page.locator("#req-LIST-02").is_hidden()  # passed, in the collapsed list
    page.click("#requirements-list summary")
    assert page.locator("#req-LIST-02").is_visible()
    assert page.locator("#req-LIST-02 td code").first.inner_text() == "total"
    assert "`" not in page.locator("#req-LIST-02").inner_text()


def test_one_answer_that_fails_several_requirements_is_shown_once(crash_run: WrittenRun, open_report: Any) -> None:
    findings = [finding for item in crash_run.report["requirements"] for finding in item["findings"]]
    by_answer: dict[str, list[dict[str, Any]]] = {}
    for finding in findings:
        by_answer.setdefault(json.dumps(finding["exchanges"][0], sort_keys=True), []).append(finding)
    shared = next(group for group in by_answer.values() if len({item["requirement"] for item in group}) > 1)
    first, others = shared[0], [item for item in shared[1:] if item["requirement"] != shared[0]["requirement"]]
    page = open_report(crash_run).page
    also = page.locator(f"#f-{first['id']} p.also").inner_text()
    assert all(item["requirement"] in also for item in others)
    assert all(page.locator(f"#f-{item['id']}").count() == 0 for item in others)  # not shown a second time
    statuses = {item["id"]: item["status"] for item in crash_run.report["requirements"]}
    assert all(statuses[item["requirement"]] == "failed" for item in shared)  # each still fails
