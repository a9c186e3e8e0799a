"""report.html: one self-contained page a vendor can open anywhere (no network, no external assets).

It leads with what failed: a verdict banner, then each failed requirement (findings from one answer shown
once, naming every requirement they fail) with its findings inline and copyable reproductions, then what was
not run and why, then every requirement in a filterable table (collapsed when something failed), a requirement
x operation matrix, coverage, cleanup and the run metadata with its notes. Nothing is wider than the window.

Every value is HTML-escaped (a target's body may hold `<script>`), and a Content-Security-Policy admits only
this page's own style and script by hash, and no request anywhere.
"""

from __future__ import annotations

import base64
import hashlib
import re
from html import escape
from typing import Any

from conformance.contract.document import REQUIREMENTS_LINK
from conformance.reports.digest import (
    KNOWN_FAILURE,
    LEVELS,
    STATUSES,
    FailedRow,
    also_fails,
    failed_rows,
    fails_run,
    headline,
    incomplete_line,
    not_run_by_reason,
    one_line,
    operations,
    reason,
    same_answer,
    shown_first,
    target_name,
)

VERDICT_TITLES = {
    "conformant": "Conformant",
    "nonconformant": "Nonconformant",
    "incomplete": "Incomplete",
    "error": "Run incomplete",
}

STYLE = """
:root { --ok: #1a7f37; --bad: #cf222e; --warn: #9a6700; --none: #6e7781; --ink: #1f2328; --muted: #59636e;
  --line: #d1d9e0; --soft: #f6f8fa; --ok-bg: #dafbe1; --bad-bg: #ffebe9; --warn-bg: #fff8c5; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--ink); background: #fff; line-height: 1.45; overflow-wrap: anywhere;
  font: 15px/1.45 -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
code, pre, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace;
  font-size: 13px; }
header.banner { padding: 18px 40px 16px; color: #fff; }
.banner.conformant { background: linear-gradient(135deg, #1a7f37, #2da44e); }
.banner.nonconformant { background: linear-gradient(135deg, #a40e26, #cf222e); }
.banner.error, .banner.incomplete { background: linear-gradient(135deg, #7d4e00, #bf8700); }
.banner .product { margin: 0; font-size: 13px; letter-spacing: .08em; text-transform: uppercase; opacity: .85; }
.banner h1 { margin: 2px 0 4px; font-size: 30px; }
.banner .headline { margin: 0 0 4px; font-size: 16px; }
.banner .target { margin: 0; opacity: .9; word-break: break-all; }
.banner .run-error { margin: 10px 0 0; padding: 8px 12px; background: rgba(0,0,0,.2); border-radius: 6px; }
.tiles { display: flex; flex-wrap: wrap; gap: 8px; margin-top: 12px; }
.tile { min-width: 110px; padding: 4px 12px; border: 0; border-radius: 8px; background: rgba(255,255,255,.16);
  color: #fff; text-align: left; cursor: pointer; font: inherit; }
.tile:hover, .tile:focus { background: rgba(255,255,255,.28); outline: none; }
.tile b { display: block; font-size: 20px; }
nav { position: sticky; top: 0; z-index: 2; padding: 10px 40px; background: var(--soft);
  border-bottom: 1px solid var(--line); }
nav a { margin-right: 18px; color: var(--ink); text-decoration: none; font-weight: 600; }
nav a:hover { text-decoration: underline; }
main { padding: 8px 40px 40px; max-width: 1500px; }
section, article, tr { scroll-margin-top: 56px; }
h2 { margin: 32px 0 12px; padding-bottom: 6px; border-bottom: 1px solid var(--line); font-size: 22px; }
h3 { margin: 22px 0 6px; font-size: 17px; }
table { border-collapse: collapse; width: 100%; }
table.requirements { table-layout: fixed; }
table.requirements col.id { width: 100px; } table.requirements col.level { width: 80px; }
table.requirements col.status { width: 150px; } table.requirements col.checks { width: 210px; }
table.requirements col.count { width: 100px; } table.requirements col.why { width: 28%; }
.wide { overflow-x: auto; }
article.failed { margin: 14px 0 26px; padding: 12px 16px; border: 1px solid var(--line);
  border-left: 5px solid var(--bad); border-radius: 6px; }
article.failed.soft { border-left-color: var(--warn); }
article.failed h3 { margin-top: 0; }
p.why { margin: 6px 0; font-weight: 600; }
p.also { margin: 4px 0; color: var(--bad); }
th, td { padding: 6px 10px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
th { background: var(--soft); font-size: 13px; color: var(--muted); }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.filters { display: flex; flex-wrap: wrap; gap: 10px; align-items: center; margin-bottom: 10px; }
.filters input, .filters select { padding: 6px 10px; border: 1px solid var(--line); border-radius: 6px; font: inherit; }
.filters input { flex: 1 1 320px; }
#shown-count { color: var(--muted); }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; font-weight: 600;
  white-space: nowrap; }
.badge.passed { background: var(--ok-bg); color: var(--ok); }
.badge.failed { background: var(--bad-bg); color: var(--bad); }
.badge.not-run { background: var(--soft); color: var(--none); }
.badge.warning { background: var(--warn-bg); color: var(--warn); }
.badge.level { background: var(--soft); color: var(--ink); }
.reason { color: var(--muted); }
td.id { white-space: nowrap; }
tr[data-status="failed"] td.id { border-left: 4px solid var(--bad); }
.matrix td.cell { text-align: center; white-space: nowrap; }
.matrix td.passed { background: var(--ok-bg); color: var(--ok); }
.matrix td.failed { background: var(--bad-bg); color: var(--bad); font-weight: 700; }
.matrix th.op { writing-mode: horizontal-tb; white-space: nowrap; }
section.finding { margin: 10px 0 0; padding-top: 8px; border-top: 1px dashed var(--line); }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 4px 14px; margin: 8px 0; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; word-break: break-word; }
details { margin: 6px 0; }
summary { cursor: pointer; }
ul.notes li { margin: 4px 0; }
pre { margin: 6px 0; padding: 10px 12px; background: var(--soft); border: 1px solid var(--line); border-radius: 6px;
  white-space: pre-wrap; word-break: break-all; max-height: 320px; overflow: auto; }
.command, .script { position: relative; }
.command pre, .script pre { padding-right: 84px; }
button.copy { position: absolute; top: 6px; right: 6px; padding: 3px 10px; border: 1px solid var(--line);
  border-radius: 6px; background: #fff; cursor: pointer; font: inherit; font-size: 12px; }
button.copy:hover { background: var(--soft); }
.muted { color: var(--muted); }
footer { padding: 18px 40px; color: var(--muted); border-top: 1px solid var(--line); font-size: 13px; }
"""

SCRIPT = """
(function () {
  "use strict";
  var text = document.getElementById("filter");
  var status = document.getElementById("status-filter");
  var level = document.getElementById("level-filter");
  var shown = document.getElementById("shown-count");
  var rows = Array.prototype.slice.call(document.querySelectorAll("#requirements-table tbody tr"));
  var list = document.getElementById("requirements-list");
  function reveal() { list.open = true; }
  function apply() {
    var words = text.value.toLowerCase().trim();
    var count = 0;
    rows.forEach(function (row) {
      var visible = (!status.value || row.getAttribute("data-status") === status.value) &&
        (!level.value || row.getAttribute("data-level") === level.value) &&
        (!words || row.textContent.toLowerCase().indexOf(words) !== -1);
      row.hidden = !visible;
      if (visible) { count += 1; }
    });
    shown.textContent = count + " of " + rows.length + " shown";
  }
  [text, status, level].forEach(function (control) {
    control.addEventListener(control === text ? "input" : "change", function () { reveal(); apply(); });
  });
  Array.prototype.forEach.call(document.querySelectorAll("button.tile"), function (tile) {
    tile.addEventListener("click", function () {
      status.value = tile.getAttribute("data-status");
      level.value = tile.getAttribute("data-level");
      text.value = "";
      reveal();
      apply();
      document.getElementById("requirements").scrollIntoView();
    });
  });
  function fallbackCopy(value) {
    var area = document.createElement("textarea");
    area.value = value;
    document.body.appendChild(area);
    area.select();
    var done = false;
    try { done = document.execCommand("copy"); } catch (ignored) { done = false; }
    document.body.removeChild(area);
    return done;
  }
  Array.prototype.forEach.call(document.querySelectorAll("button.copy"), function (button) {
    button.addEventListener("click", function () {
      var value = button.parentNode.querySelector("code").textContent;
      function said(ok) { button.textContent = ok ? "Copied" : "Select to copy"; }
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(value).then(function () { said(true); },
          function () { said(fallbackCopy(value)); });
      } else {
        said(fallbackCopy(value));
      }
    });
  });
  apply();
}());
"""


def _csp_hash(source: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(source.encode("utf-8")).digest()).decode("ascii") + "'"


# Only this page's own style and script run; nothing is fetched (img-src data: for the empty favicon).
CONTENT_SECURITY_POLICY = (
    f"default-src 'none'; style-src {_csp_hash(STYLE)}; script-src {_csp_hash(SCRIPT)}; img-src data:; "
    "base-uri 'none'; form-action 'none'"
)


def render_html(report: dict[str, Any]) -> str:
    """The HTML page of a report model."""
    verdict = report["verdict"]
    title = f"{VERDICT_TITLES[verdict]}: Partner WebHooks API conformance of {target_name(report)}"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{CONTENT_SECURITY_POLICY}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<link rel="icon" href="data:,">',
        f"<title>{_e(title)}</title>",
        f"<style>{STYLE}</style>",
        "</head>",
        "<body>",
        _banner(report),
        '<nav><a href="#findings">What failed</a><a href="#not-run">Not run</a><a href="#requirements">All '
        'requirements</a><a href="#matrix">Matrix</a><a href="#coverage">Coverage</a><a href="#cleanup">Cleanup</a>'
        '<a href="#run">Run and notes</a></nav>',
        "<main>",
        _findings(report),
        _not_run(report),
        _requirements(report),
        _matrix(report),
        _coverage(report),
        _cleanup(report),
        _run(report),
        "</main>",
        f"<footer>webhook-conformance {_e(report['run']['tool_version'])} · report schema "
        f"{_e(report['schema_version'])} · the same results as report.json, junit.xml and report.md</footer>",
        f"<script>{SCRIPT}</script>",
        "</body>",
        "</html>",
    ]
    return "\n".join(parts) + "\n"


def _e(value: Any) -> str:
    return escape(str(value), quote=True)


def _banner(report: dict[str, Any]) -> str:
    run, counts = report["run"], report["counts"]
    spec = run["spec"]
    facts = [target_name(report)]
    if spec:
        facts.append(f"{spec['title']} {spec['version']}")
    if run["seed"] is not None:
        facts.append(f"seed {run['seed']}")
    facts += [f"budget {run['budget']}{' (strict)' if run['strict'] else ''}", f"{run['requests']} requests"]
    facts.append(f"{run['duration_seconds']:.1f} s")
    tiles = []
    for level in LEVELS:
        for status in STATUSES:
            count = counts[f"{level.lower()}_{status.replace('-', '_')}"]
            tiles.append(
                f'<button type="button" class="tile" data-level="{level}" data-status="{status}">'
                f"<b>{count}</b>{level} {status}</button>"
            )
    error = f'<p class="run-error">The run could not complete: {_e(report["error"])}</p>' if report["error"] else ""
    if incomplete_line(report):
        error += f'<p class="run-error" id="incomplete">{_e(incomplete_line(report))}</p>'
    return (
        f'<header class="banner {_e(report["verdict"])}" id="banner">'
        '<p class="product">Partner WebHooks API conformance report</p>'
        f'<h1 id="verdict">{_e(VERDICT_TITLES[report["verdict"]])}</h1>'
        f'<p class="headline">{_e(headline(report))}</p>'
        f'<p class="target">{_e(" · ".join(facts))}</p>{error}'
        f'<div class="tiles">{"".join(tiles)}</div></header>'
    )


def _requirements(report: dict[str, Any]) -> str:
    strict = report["run"]["strict"]
    options = "".join(f'<option value="{status}">{status}</option>' for status in STATUSES)
    levels = "".join(f'<option value="{level}">{level}</option>' for level in LEVELS)
    rows = []
    for item in report["requirements"]:
        rows.append(
            f'<tr id="req-{_e(item["id"])}" data-status="{_e(item["status"])}" data-level="{_e(item["level"])}">'
            f'<td class="mono id"><b>{_e(item["id"])}</b></td>'
            f'<td><span class="badge level">{_e(item["level"])}</span></td>'
            f"<td>{_status_badges(item, strict)}</td>"
            f"<td>{_rich(item['text'])}</td>"
            f'<td class="mono">{"<br>".join(_e(check) for check in item["checks"])}</td>'
            f'<td class="num">{item["exercised"]}</td>'
            f'<td class="reason">{_reason_cell(item)}</td></tr>'
        )
    return (
        '<section id="requirements"><h2>All requirements</h2>'
        '<div class="filters">'
        '<input id="filter" type="search" placeholder="Filter by ID, text, check or reason" '
        'aria-label="Filter requirements">'
        f'<select id="status-filter" aria-label="Status"><option value="">all statuses</option>{options}</select>'
        f'<select id="level-filter" aria-label="Level"><option value="">all levels</option>{levels}</select>'
        '<span id="shown-count"></span></div>'
        f'<details id="requirements-list"{"" if _any_failed(report) else " open"}>'
        f"<summary>{_e(_list_summary(report))}</summary>"
        '<table id="requirements-table" class="requirements"><colgroup><col class="id"><col class="level">'
        '<col class="status"><col><col class="checks"><col class="count"><col class="why"></colgroup>'
        "<thead><tr><th>ID</th><th>Level</th><th>Status</th><th>Requirement</th>"
        '<th>Checks</th><th class="num">Assertions</th><th>Why not passed</th></tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></details></section>"
    )


def _any_failed(report: dict[str, Any]) -> bool:
    return any(item["status"] == "failed" for item in report["requirements"])


def _list_summary(report: dict[str, Any]) -> str:
    counts = {status: sum(1 for item in report["requirements"] if item["status"] == status) for status in STATUSES}
    shown = ", ".join(f"{count} {status}" for status, count in counts.items() if count)
    return f"Every requirement ({shown}): show the list"


def _status_badges(item: dict[str, Any], strict: bool) -> str:
    badge = f'<span class="badge {_e(item["status"])}">{_e(item["status"])}</span>'
    if item.get("baselined"):
        badge += f' <span class="badge warning">{KNOWN_FAILURE}</span>'
    elif item["status"] == "failed" and not fails_run(item, strict):
        badge += ' <span class="badge warning">warning: fails only with --strict</span>'
    return badge


def _reason_cell(item: dict[str, Any]) -> str:
    if item["status"] == "passed":
        return ""
    text = _e(reason(item))
    if item["status"] == "failed":
        return f'<a href="#finding-{_e(item["id"])}">{text}</a>'
    return text


def _matrix(report: dict[str, Any]) -> str:
    columns = operations(report)
    head = "".join(f'<th class="op mono">{_e(operation)}</th>' for operation in columns)
    rows = []
    for item in report["requirements"]:
        cells = []
        for operation in columns:
            tally = item["operations"].get(operation)
            if not tally:
                cells.append('<td class="cell"></td>')
            elif tally["failed"]:
                cells.append(
                    f'<td class="cell failed" title="{tally["failed"]} of {tally["exercised"]} assertions failed">'
                    f"✗ {tally['failed']}/{tally['exercised']}</td>"
                )
            else:
                passed = tally["exercised"]
                cells.append(f'<td class="cell passed" title="{passed} assertions passed">✓ {passed}</td>')
        rows.append(
            f'<tr><td class="mono id"><a href="#req-{_e(item["id"])}">{_e(item["id"])}</a></td>'
            f'<td><span class="badge {_e(item["status"])}">{_e(item["status"])}</span></td>{"".join(cells)}</tr>'
        )
    return (
        '<section id="matrix"><h2>Requirement &times; operation</h2>'
        '<p class="muted">Assertions about requests to each operation: ✓ all passed, ✗ failed/evaluated. '
        "Checks that span several requests count under the operation of the request they were about; "
        "assertions whose request is not tied to one operation are not shown here.</p>"
        f'<div class="wide"><table class="matrix"><thead><tr><th>Requirement</th><th>Status</th>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div></section>"
    )


def _findings(report: dict[str, Any]) -> str:
    """What failed, first: one article per cause (requirements whose findings come from one answer share one),
    each requirement's text once, the reason, then every finding inline."""
    rows = failed_rows(report)
    if not rows:
        return '<section id="findings"><h2>What failed</h2><p>No requirement failed.</p></section>'
    grouped = same_answer(report)
    articles = [_failed_article(row, report["run"]["strict"], grouped) for row in rows]
    return f'<section id="findings"><h2>What failed</h2>{"".join(articles)}</section>'


def _failed_article(row: FailedRow, strict: bool, grouped: dict[str, list[dict[str, Any]]]) -> str:
    soft = "" if any(fails_run(item, strict) for item in row.requirements) else " soft"
    anchors = "".join(f'<span id="finding-{_e(item["id"])}"></span>' for item in row.requirements[1:])
    title = ", ".join(
        f"{_e(item['id'])} ({_e(item['level'])}) {_status_badges(item, strict)}" for item in row.requirements
    )
    texts = "".join(f"<p><b>{_e(item['id'])}</b>: {_rich(item['text'])}</p>" for item in row.requirements)
    counts = "; ".join(
        f"{item['id']}: {item['failures']} failed assertion(s) of {item['exercised']}" for item in row.requirements
    )
    parts = [
        f'<article class="failed{soft}" id="finding-{_e(row.first["id"])}">{anchors}<h3>{title}</h3>',
        f'<p class="why">{_e(reason(row.first))}</p>{texts}<p class="muted">{_e(counts)}.</p>',
    ]
    shown: set[str] = set()
    for item in row.requirements:
        for finding in item["findings"]:
            first = shown_first(finding, grouped)
            if first["requirement"] == finding["requirement"]:
                shown.add(finding.get("id", ""))
                parts.append(_finding(finding, also_fails(finding, grouped) if first is finding else []))
            elif first.get("id") not in shown:  # shown under another cause's article: point there
                parts.append(
                    f'<p class="muted">{_e(item["id"])}: the same answer as finding '
                    f'<a href="#f-{_e(first.get("id", ""))}">{_e(first.get("id", ""))}</a> '
                    f"({_e(first['requirement'])}).</p>"
                )
            # else: the same answer, already shown above with every requirement it fails
    parts.append("</article>")
    return "".join(parts)


def _finding(finding: dict[str, Any], also: list[str]) -> str:
    facts = [("Check", finding["check"]), ("Expected", finding["expected"]), ("Actual", finding["actual"])]
    if finding["operation"]:
        facts.append(("Operation", finding["operation"]))
    listed = "".join(f"<dt>{_e(name)}</dt><dd>{_e(value)}</dd>" for name, value in facts)
    exchanges = "".join(_exchange(exchange) for exchange in finding["exchanges"])
    commands = "".join(_command(command) for command in finding["reproduction"])
    also_line = f'<p class="also">This answer also fails {_e(", ".join(also))}.</p>' if also else ""
    return (
        f'<section class="finding" id="f-{_e(finding.get("id", ""))}">'
        f'<h4>Finding {_e(finding.get("id", ""))}</h4>{also_line}<dl class="facts">{listed}</dl>'
        f"{exchanges}"
        f"<p><b>Reproduce</b> (keys from the environment):</p>{commands}"
        f"{_script(finding)}"
        f"<p><b>Rerun this check</b> with the same seed:</p>{_command(finding['rerun'])}</section>"
    )


def _script(finding: dict[str, Any]) -> str:
    """The self-contained reproduction, collapsed (it can be long), and the replay command."""
    if not finding.get("script"):
        return ""
    copy = '<button type="button" class="copy">Copy</button>'
    replay = f"conformance replay report.json --finding {finding.get('id', '')}"
    return (
        "<details><summary><b>From a clean start</b>: a shell script that creates what it needs, shows the "
        "failure and deletes what it created (curl and sed; keys and CONFORMANCE_BASE_URL from the environment)"
        f'</summary><div class="script"><pre><code>{_e(finding["script"])}</code></pre>{copy}</div></details>'
        f'<p>Does it still show? <code class="mono">{_e(replay)}</code> (exit 1: yes, 0: fixed)</p>'
    )


def _not_run(report: dict[str, Any]) -> str:
    grouped = not_run_by_reason(report)
    if not grouped:
        return '<section id="not-run"><h2>Not run</h2><p>Every requirement was checked.</p></section>'
    rows = "".join(
        f'<tr><td class="mono">{_e(", ".join(ids))}</td><td>{_e(why)}</td></tr>' for why, ids in grouped.items()
    )
    count = sum(len(ids) for ids in grouped.values())
    return (
        f'<section id="not-run"><h2>Not run ({count})</h2>'
        f"<table><thead><tr><th>Requirements</th><th>Why</th></tr></thead><tbody>{rows}</tbody></table></section>"
    )


def _rich(text: str) -> str:
    """A requirement's text: escaped, with its Markdown code spans (`total`) as <code>."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", _e(text))


def _exchange(exchange: dict[str, Any]) -> str:
    outcome = exchange["error"] if exchange["status"] is None else exchange["status"]
    request = "\n".join(f"{name}: {value}" for name, value in exchange["request_headers"].items())
    response = "\n".join(f"{name}: {value}" for name, value in exchange["response_headers"].items())
    return (
        f'<details><summary class="mono">{_e(exchange["method"])} {_e(exchange["url"])} → {_e(outcome)} '
        f'<span class="muted">({exchange["elapsed_ms"]:.0f} ms)</span></summary>'
        f"<p>Request</p><pre>{_e(request)}{_body(exchange['request_body'])}</pre>"
        f"<p>Response</p><pre>{_e(response)}{_body(exchange['response_body'])}</pre></details>"
    )


def _body(body: str | None) -> str:
    return "" if body is None else "\n\n" + _e(body)


def _command(command: str) -> str:
    copy = '<button type="button" class="copy">Copy</button>'
    return f'<div class="command"><pre><code>{_e(command)}</code></pre>{copy}</div>'


def _coverage(report: dict[str, Any]) -> str:
    statuses = sorted({item["status"] for item in report["coverage"]}, key=lambda status: (status is None, status or 0))
    by_operation: dict[str, dict[int | None, int]] = {}
    for item in report["coverage"]:
        by_operation.setdefault(item["operation"], {})[item["status"]] = item["requests"]
    head = "".join(f'<th class="num">{"no answer" if status is None else status}</th>' for status in statuses)
    rows = []
    for operation, counts in by_operation.items():
        cells = "".join(f'<td class="num">{counts.get(status, "")}</td>' for status in statuses)
        rows.append(
            f'<tr><td class="mono">{_e(operation)}</td>{cells}<td class="num"><b>{sum(counts.values())}</b></td></tr>'
        )
    if not rows:
        return '<section id="coverage"><h2>Coverage</h2><p>No request reached the target.</p></section>'
    return (
        '<section id="coverage"><h2>Coverage</h2><p class="muted">Requests by operation and the status code that '
        'came back (<span class="mono">other</span>: requests outside the spec, e.g. undefined methods).</p>'
        f'<table><thead><tr><th>Operation</th>{head}<th class="num">all</th></tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></section>"
    )


def _cleanup(report: dict[str, Any]) -> str:
    cleanup = report["cleanup"]
    facts = [
        ("Records created (as the answers named them)", cleanup["created"]),
        ("Found by the sweep (no answer named them)", cleanup.get("found_by_sweep", 0)),
        ("Deleted by the cleanup", cleanup["deleted"]),
        ("Already gone (deleted during the run)", cleanup["already_gone"]),
        ("Left behind", len(cleanup["left_behind"])),
    ]
    listed = "".join(f"<dt>{_e(name)}</dt><dd>{value}</dd>" for name, value in facts)
    left = ""
    if cleanup["left_behind"]:
        rows = "".join(
            f'<tr><td class="mono">{_e(item["id"])}</td><td>{_e(item["reason"])}</td></tr>'
            for item in cleanup["left_behind"]
        )
        head = "<thead><tr><th>Record</th><th>Why it is still there</th></tr></thead>"
        left = f"<table>{head}<tbody>{rows}</tbody></table>"
    if cleanup.get("found"):
        rows = "".join(
            f'<tr><td class="mono">{_e(item["id"])}</td><td>{_e(item["how"])}</td></tr>' for item in cleanup["found"]
        )
        left += f"<table><thead><tr><th>Found by the sweep</th><th>How</th></tr></thead><tbody>{rows}</tbody></table>"
    return f'<section id="cleanup"><h2>Cleanup</h2><dl class="facts">{listed}</dl>{left}</section>'


def _run(report: dict[str, Any]) -> str:
    run = report["run"]
    spec = run["spec"]
    facts = [
        ("Verdict", f"{report['verdict']} (exit code {report['exit_code']})"),
        ("Target", target_name(report)),
        ("Tool version", run["tool_version"]),
        ("Spec", f"{spec['title']} {spec['version']} ({spec['path']})" if spec else "not read"),
        ("Spec sha256", spec["sha256"] if spec else ""),
        ("Seed", "" if run["seed"] is None else run["seed"]),
        ("Run id", run.get("id") or ""),
        ("Budget", run["budget"]),
        ("Strict", "yes" if run["strict"] else "no"),
        ("Started", run["started"]),
        ("Duration", f"{run['duration_seconds']:.3f} s"),
        ("HTTP requests", run["requests"]),
        ("Requirements", REQUIREMENTS_LINK),
    ]
    if report["error"]:
        facts.append(("Error", report["error"]))
    listed = "".join(f"<dt>{_e(name)}</dt><dd>{_e(value)}</dd>" for name, value in facts)
    options = "".join(
        f'<tr><td class="mono">{_e(name)}</td><td class="mono">{_e(_shown(value))}</td></tr>'
        for name, value in run["options"].items()
    )
    notes = "".join(f"<li>{_e(one_line(note, 1000))}</li>" for note in run["notes"])
    return (
        f'<section id="run"><h2>Run</h2><dl class="facts">{listed}</dl>'
        "<h3>Options in effect</h3>"
        f"<table><thead><tr><th>Option</th><th>Value</th></tr></thead><tbody>{options}</tbody></table>"
        + (f'<h3>Notes</h3><ul class="notes">{notes}</ul>' if notes else "")
        + "</section>"
    )


def _shown(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, list):
        return ", ".join(map(str, value)) or "—"
    return str(value)
