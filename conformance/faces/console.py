"""What `conformance run` shows while it runs and when it ends.

On a terminal a live status line (phase, time, requests sent, findings so far) sits below the phase lines; when
the output is not a terminal (a CI log) each phase is one plain line. Each engine ends with one line of its own
requests and findings. `--quiet` shows no progress at all. The final summary (a table of what failed and what
was not run, the counts, and the notes that explain what the checker itself did) is read off the report model,
so it says what the reports say.
"""

from __future__ import annotations

import sys
import time
from types import TracebackType
from typing import Any, TextIO

from rich import box
from rich.console import Console, RenderableType
from rich.live import Live
from rich.spinner import Spinner
from rich.table import Table
from rich.text import Text

from conformance.checker.client import ClientStats
from conformance.checker.results import Results
from conformance.reports.digest import LEVELS, failed_rows, fails_run, not_run_by_reason, one_line, reason

PLAIN_WIDTH = 120  # columns for tables in a log, where there is no terminal to ask
NOT_RUN_IDS_SHOWN = 8
NOTE_LIMIT = 400  # characters of a note in the console; the reports keep it whole


class RunConsole:
    """The progress display and final summary of one run; use as a context manager around the run.

    `say` is the runner's phase channel and `watch` its live counters (see `runner.run`)."""

    def __init__(self, stream: TextIO | None = None, *, quiet: bool = False, live: bool | None = None) -> None:
        stream = stream or sys.stderr
        self.quiet = quiet
        self.live = stream.isatty() if live is None else live
        self.console = Console(file=stream, width=None if self.live else PLAIN_WIDTH, highlight=False)
        self.phase = "starting"
        self._started = time.monotonic()
        self._stats: ClientStats | None = None
        self._results: Results | None = None
        self._display: Live | None = None

    def __enter__(self) -> RunConsole:
        if self.live and not self.quiet:
            self._display = Live(
                console=self.console, get_renderable=self._status, transient=True, refresh_per_second=4
            )
            self._display.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if self._display is not None:
            self._display.stop()
            self._display = None

    def watch(self, stats: ClientStats, results: Results) -> None:
        """Follow the run's live counters (called by the runner once the client exists)."""
        self._stats, self._results = stats, results

    def say(self, line: str) -> None:
        """A phase starts (or an engine reports): one line, with the counters so far."""
        if self.quiet:
            return
        self.phase = line.rstrip(". ")
        stamp = f"[{time.monotonic() - self._started:5.1f} s]"
        self.console.print(Text(f"{stamp} {line}"), soft_wrap=self._display is None)

    def counters(self) -> str:
        """`412 requests, 3 findings on 2 requirements` so far."""
        requests = self._stats.requests if self._stats else 0
        failed = self._results.failed() if self._results else []
        findings = sum(len(entry.findings) for entry in failed)
        return f"{requests} requests, {findings} findings on {len(failed)} requirements"

    def _status(self) -> RenderableType:
        elapsed = time.monotonic() - self._started
        return Spinner("dots", Text(f"{self.phase} · {elapsed:.0f} s · {self.counters()}"))

    def summary(self, report: dict[str, Any]) -> None:
        """The final tables: every failed requirement with its one-line reason, the not-run ones by reason,
        and the counts by level and status."""
        if self.quiet:
            return
        strict = report["run"]["strict"]
        table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
        for column in ("Requirement", "Level", "Status", "Why"):
            table.add_column(column, overflow="fold")
        for row in failed_rows(report):  # requirements failed by one answer share a row: one cause, said once
            counts = any(fails_run(item, strict) for item in row.requirements)
            shown = "FAILED" if counts else "failed (does not fail the run)"
            levels = ", ".join(dict.fromkeys(item["level"] for item in row.requirements))
            table.add_row(", ".join(row.ids), levels, shown, reason(row.first))
        for why, ids in not_run_by_reason(report, limit=sys.maxsize).items():
            more = len(ids) - NOT_RUN_IDS_SHOWN
            listed = ", ".join(ids[:NOT_RUN_IDS_SHOWN]) + (f" and {more} more" if more > 0 else "")
            if report["error"]:  # the run's error gets its own line after the summary: say it once
                why = why.replace(" ".join(report["error"].split()), "see below")
            table.add_row(listed, "", f"not-run ({len(ids)})", one_line(why))
        if table.row_count:
            self.console.print(table)
        counts = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
        counts.add_column("")
        for column in ("passed", "failed", "not-run"):
            counts.add_column(column, justify="right")
        for level in LEVELS:
            key = level.lower()
            numbers = (report["counts"][f"{key}_{status}"] for status in ("passed", "failed", "not_run"))
            counts.add_row(level, *map(str, numbers))
        self.console.print(counts)
        for note in report["run"]["notes"]:
            self.console.print(Text(f"note: {one_line(note, NOTE_LIMIT)}"), soft_wrap=True)
