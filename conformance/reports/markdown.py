"""report.md: a compact summary for a pull request comment or a CI step summary (`$GITHUB_STEP_SUMMARY`).

A verdict line, the counts, a table of failed requirements with one-line reasons, and collapsed sections with
the reproductions and the requirements not run. Every value from the target is escaped: it is shown, never
interpreted as Markdown or HTML.
"""

from __future__ import annotations

import re
from typing import Any

from conformance.reports.digest import (
    KNOWN_FAILURE,
    LEVELS,
    fails_run,
    headline,
    incomplete_line,
    not_run_by_reason,
    reason,
    target_name,
)

VERDICT_MARKS = {"conformant": "✅", "nonconformant": "❌", "incomplete": "⚠️", "error": "⚠️"}
COMMAND_LIMIT = 3000  # characters of one curl command shown; a longer one is left to report.html/report.json


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
    lines += ["", _run_line(report), "", *_counts_table(report)]
    failed = [item for item in report["requirements"] if item["status"] == "failed"]
    if failed:
        lines += ["", "### Failed requirements", "", "| Requirement | Level | Reason |", "|---|---|---|"]
        for item in failed:
            mark = "" if fails_run(item, strict) else " ⚠️"
            why = f"{KNOWN_FAILURE}: {reason(item)}" if item.get("baselined") else reason(item)
            lines.append(f"| **{item['id']}** | {item['level']}{mark} | {_text(why)} |")
        if any(not fails_run(item, strict) for item in failed):
            lines += ["", "⚠️ does not fail the run: a SHOULD (a failure only with `--strict`) or a known failure."]
        lines += ["", *_reproductions(failed)]
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


def _reproductions(failed: list[dict[str, Any]]) -> list[str]:
    lines = [f"<details><summary>Reproductions ({len(failed)})</summary>", ""]
    for item in failed:
        lines += [f"#### {item['id']} ({item['level']}): {_text(item['text'])}", ""]
        for finding in item["findings"][:1]:  # the first finding; report.html and report.json have them all
            lines += [f"- expected: {_text(finding['expected'])}", f"- actual: {_text(finding['actual'])}", ""]
            commands = [_shown_command(command) for command in finding["reproduction"]]
            lines += [*_fenced("sh", "\n".join(commands)), ""]
            lines += ["Rerun this check:", "", *_fenced("sh", finding["rerun"]), ""]
        if len(item["findings"]) > 1:
            lines += [f"({len(item['findings']) - 1} more finding(s) in report.html)", ""]
    lines.append("</details>")
    return lines


def _shown_command(command: str) -> str:
    if len(command) <= COMMAND_LIMIT:
        return command
    return f"# a command of {len(command)} characters: see report.html or report.json"


def _fenced(language: str, text: str) -> list[str]:
    """A fenced code block that no run of backticks inside the text can close."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return [f"{fence}{language}", text, fence]


def _text(text: str) -> str:
    """Plain text in Markdown: HTML and Markdown syntax characters escaped, on one line."""
    flat = " ".join(str(text).split())
    flat = flat.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return re.sub(r"([\\`*_\[\]|~])", r"\\\1", flat)


def _code(text: str) -> str:
    return str(text).replace("`", "'")
