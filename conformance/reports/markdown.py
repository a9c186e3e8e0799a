"""report.md: a compact summary for a pull request comment or a CI step summary (`$GITHUB_STEP_SUMMARY`).

A verdict line, the counts, a table of failed requirements with one-line reasons (requirements failed by one
answer share a row), and collapsed sections with the reproductions and the requirements not run. Every value
from the target is escaped: it is shown, never interpreted as Markdown or HTML.
"""

from __future__ import annotations

import re
from typing import Any

from conformance.contract.document import REQUIREMENTS_LINK
from conformance.reports.digest import (
    KNOWN_FAILURE,
    LEVELS,
    FailedRow,
    also_fails,
    failed_rows,
    fails_run,
    headline,
    incomplete_line,
    not_run_by_reason,
    reason,
    same_answer,
    target_name,
)

VERDICT_MARKS = {"conformant": "✅", "nonconformant": "❌", "incomplete": "⚠️", "error": "⚠️"}
COMMAND_LIMIT = 3000  # characters of one curl command shown; a longer one is left to report.html/report.json
SCRIPT_LIMIT = 12000  # characters of a reproduction script shown


def render_markdown(report: dict[str, Any]) -> str:
    """The Markdown text of a report model."""
    run = report["run"]
    strict = run["strict"]
    lines = [f"## {VERDICT_MARKS[report['verdict']]} Partner WebHooks API conformance: {report['verdict'].upper()}"]
    lines += ["", _text(headline(report))]
    if report["error"]:
        lines += ["", f"**The run could not complete:** {_text(report['error'])}"]
    if incomplete_line(report):
        lines += ["", f"**{_text(incomplete_line(report))}**"]
    lines += ["", _run_line(report), "", f"What each requirement means: {REQUIREMENTS_LINK}."]
    lines += ["", *_counts_table(report)]
    rows = failed_rows(report)
    if rows:
        lines += ["", "### Failed requirements", "", "| Requirement | Level | Reason |", "|---|---|---|"]
        for row in rows:
            mark = "" if any(fails_run(item, strict) for item in row.requirements) else " ⚠️"
            why = f"{KNOWN_FAILURE}: {reason(row.first)}" if row.first.get("baselined") else reason(row.first)
            names = ", ".join(f"**{item['id']}**" for item in row.requirements)
            levels = ", ".join(dict.fromkeys(item["level"] for item in row.requirements))
            lines.append(f"| {names} | {levels}{mark} | {_text(why)} |")
        if any(not fails_run(item, strict) for row in rows for item in row.requirements):
            lines += ["", "⚠️ does not fail the run: a SHOULD (a failure only with `--strict`) or a known failure."]
        lines += ["", *_reproductions(rows, same_answer(report))]
    not_run = not_run_by_reason(report)
    if not_run:
        count = sum(len(ids) for ids in not_run.values())
        lines += ["", f"<details><summary>Not run ({count})</summary>", ""]
        lines += ["| Reason | Requirements |", "|---|---|"]
        lines += [f"| {_text(why)} | {', '.join(ids)} |" for why, ids in not_run.items()]
        lines += ["", "</details>"]
    found = report["cleanup"].get("found", [])
    if found:
        lines += ["", f"**The cleanup's sweep found {len(found)} record(s) that no answer named:**", ""]
        lines += [f"- `{_code(item['id'])}`: {_text(item['how'])}" for item in found]
    if run["notes"]:  # what the checker itself did (its filters, its staging guard) and what it saw of the target
        lines += ["", "### Notes", "", *(f"- {_text(note)}" for note in run["notes"])]
    left = report["cleanup"]["left_behind"]
    if left:
        lines += ["", f"**{len(left)} record(s) could not be deleted:**", ""]
        lines += [f"- `{_code(item['id'])}`: {_text(item['reason'])}" for item in left]
    return "\n".join(lines) + "\n"


def _run_line(report: dict[str, Any]) -> str:
    run = report["run"]
    spec = run["spec"]
    parts = [f"Target {_text(target_name(report))}"]
    if spec:
        parts.append(f"spec {_text(spec['title'])} {_text(spec['version'])} (sha256 `{spec['sha256'][:12]}`)")
    if run["seed"] is not None:
        parts.append(f"seed `{run['seed']}`")
    if run.get("id"):
        parts.append(f"run id `{_code(run['id'])}`")
    parts += [
        f"budget {run['budget']}{' (strict)' if run['strict'] else ''}",
        f"{run['requests']} requests",
        f"{run['duration_seconds']:.1f} s",
        f"webhook-conformance {_text(run['tool_version'])}",
    ]
    return " · ".join(parts)


def _counts_table(report: dict[str, Any]) -> list[str]:
    counts = report["counts"]
    rows = ["| | passed | failed | not run |", "|---|---:|---:|---:|"]
    for level in LEVELS:
        key = level.lower()
        rows.append(f"| {level} | {counts[f'{key}_passed']} | {counts[f'{key}_failed']} | {counts[f'{key}_not_run']} |")
    return rows


def _reproductions(rows: list[FailedRow], grouped: dict[str, list[dict[str, Any]]]) -> list[str]:
    lines = [f"<details><summary>Reproductions ({len(rows)})</summary>", ""]
    for row in rows:
        heading = ", ".join(f"{item['id']} ({item['level']})" for item in row.requirements)
        lines += [f"#### {heading}", ""]
        lines += [f"- {item['id']}: {_requirement_text(item['text'])}" for item in row.requirements] + [""]
        findings = [finding for item in row.requirements for finding in item["findings"]]
        for finding in findings[:1]:  # the first finding; report.html and report.json have them all
            also = also_fails(finding, grouped)
            lines += [f"- expected: {_text(finding['expected'])}", f"- actual: {_text(finding['actual'])}"]
            lines += [f"- this answer also fails {', '.join(also)}"] if also else []
            commands = [_shown_command(command) for command in finding["reproduction"]]
            lines += ["", *_fenced("sh", "\n".join(commands)), ""]
            if finding.get("script"):
                lines += ["From a clean start (creates what it needs, deletes it after; curl and sed):", ""]
                lines += [*_fenced("sh", _shown_command(finding["script"], SCRIPT_LIMIT)), ""]
                lines += [f"Does it still show? `conformance replay report.json --finding {finding['id']}`", ""]
            lines += ["Rerun this check:", "", *_fenced("sh", finding["rerun"]), ""]
        if len(findings) > 1:
            lines += [f"({len(findings) - 1} more finding(s) in report.html)", ""]
    lines.append("</details>")
    return lines


def _shown_command(command: str, limit: int = COMMAND_LIMIT) -> str:
    if len(command) <= limit:
        return command
    return f"# a command of {len(command)} characters: see report.html or report.json"


def _fenced(language: str, text: str) -> list[str]:
    """A fenced code block that no run of backticks inside the text can close."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return [f"{fence}{language}", text, fence]


def _text(text: str) -> str:
    """Plain text in Markdown: HTML and Markdown syntax characters escaped, on one line."""
    return _escaped(" ".join(str(text).split()))


def _escaped(text: str) -> str:
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return re.sub(r"([\\`*_\[\]|~])", r"\\\1", text)


def _requirement_text(text: str) -> str:
    """A requirement's text: plain text, but its code spans (`total`) stay code."""
    pieces = re.split(r"(`[^`]+`)", " ".join(str(text).split()))
    return "".join(piece if piece.startswith("`") and piece.endswith("`") else _escaped(piece) for piece in pieces)


def _code(text: str) -> str:
    return str(text).replace("`", "'")
