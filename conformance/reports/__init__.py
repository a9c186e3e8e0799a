"""Conformance reports, all generated from one result model (`build_report`) so they cannot disagree.

Every run writes four files into the report directory: `report.json` (the model itself, following the shipped
JSON Schema `report.schema.json`), `junit.xml`, `report.md` and `report.html`, each rendered from the model
alone, so `conformance report report.json --format ...` renders the same files again from a saved report.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from conformance import __version__
from conformance.checker.evidence import Redactor
from conformance.checker.options import report_options, rerun_arguments
from conformance.checker.profile import target_words, values_of
from conformance.checker.verdict import completeness_of
from conformance.contract.document import REQUIREMENTS_DOCUMENT
from conformance.reports.html import render_html
from conformance.reports.junit import render_junit
from conformance.reports.markdown import render_markdown

if TYPE_CHECKING:
    from conformance.checker.outcome import RunOutcome

REPORT_SCHEMA_VERSION = "1.0"


def render_json(report: dict[str, Any]) -> str:
    """report.json: the model as indented JSON."""
    return json.dumps(report, indent=2, ensure_ascii=False) + "\n"


# Format name (as `conformance report --format` takes it) -> (file name in the report directory, renderer).
FORMATS: dict[str, tuple[str, Callable[[dict[str, Any]], str]]] = {
    "json": ("report.json", render_json),
    "junit": ("junit.xml", render_junit),
    "md": ("report.md", render_markdown),
    "html": ("report.html", render_html),
}


def build_report(outcome: RunOutcome) -> dict[str, Any]:
    """The report as plain data: the one model every format is rendered from."""
    results = outcome.results
    baseline = outcome.baseline
    requirements = []
    counts = {f"{level}_{status}": 0 for level in ("must", "should") for status in ("passed", "failed", "not_run")}
    for entry in results.by_id.values():
        status = entry.status
        counts[f"{entry.requirement.level.lower()}_{status.replace('-', '_')}"] += 1
        requirements.append(
            {
                "id": entry.requirement.id,
                "level": entry.requirement.level,
                "group": entry.requirement.group,
                "text": entry.requirement.text,
                "status": status,
                "checks": sorted(entry.checks),
                "exercised": entry.exercised,
                "failures": entry.failures,
                "reason": entry.not_run_reason if status == "not-run" else None,
                "findings": [
                    finding.to_dict() | {"rerun": rerun_command(outcome, entry.requirement.id, finding.seed)}
                    for finding in entry.findings
                ],
                "operations": {
                    operation: {"exercised": count, "failed": entry.failed_operations[operation]}
                    for operation, count in sorted(entry.operations.items())
                },
                "baselined": status == "failed" and baseline is not None and entry.requirement.id in baseline.accepted,
            }
        )
    profile = outcome.profile
    return {
        "schema_version": REPORT_SCHEMA_VERSION,
        "verdict": outcome.verdict,
        "exit_code": int(outcome.exit_code),
        "error": outcome.error,
        "counts": counts,
        "run": {
            "tool_version": __version__,
            "id": outcome.run_id,
            "target": profile.base_url if profile else None,
            "target_name": target_words(profile.base_url if profile else None, outcome.reference_server),
            "reference_server": outcome.reference_server,
            "spec": (
                {
                    "path": str(outcome.spec.path),
                    "title": outcome.spec.title,
                    "version": outcome.spec.version,
                    "sha256": outcome.spec.sha256,
                }
                if outcome.spec
                else None
            ),
            "seed": results.seed,
            "budget": outcome.options.budget,
            "strict": outcome.options.strict,
            "started": outcome.started.isoformat(),
            "duration_seconds": round(outcome.duration, 3),
            "requests": outcome.requests,
            "requests_by_check": outcome.requests_by_check,
            "options": _options(outcome),
            "notes": outcome.notes,
            "requirements_document": REQUIREMENTS_DOCUMENT,
        },
        "requirements": requirements,
        "coverage": [
            {"operation": operation, "status": status, "requests": count}
            for (operation, status), count in sorted(outcome.coverage.items(), key=lambda kv: (kv[0][0], kv[0][1] or 0))
        ],
        "cleanup": {
            "created": outcome.cleanup.created,
            "found_by_sweep": outcome.cleanup.found_by_sweep,
            "found": [{"id": item.marked.id, "how": item.how} for item in outcome.cleanup.found],
            "deleted": outcome.cleanup.deleted,
            "already_gone": outcome.cleanup.already_gone,
            "left_behind": [{"id": item.id, "reason": item.reason} for item in outcome.cleanup.left_behind],
        },
        "completeness": _completeness(outcome),
        "baseline": baseline.to_dict() if baseline else None,
    }


def _completeness(outcome: RunOutcome) -> dict[str, Any]:
    completeness = completeness_of(outcome.results, strict=outcome.options.strict)
    return {
        "selected": completeness.selected,
        "total": completeness.total,
        "subset": completeness.subset,
        "unchecked": completeness.unchecked,
        "summary": completeness.summary(),
    }


def _options(outcome: RunOutcome) -> dict[str, Any]:
    """The options in effect (the seed and run id the run used, drawn or given), with every key redacted."""
    return report_options(_values(outcome))


def rerun_command(outcome: RunOutcome, requirement_id: str, seed: int | None) -> str:
    """The `conformance run` command that checks one requirement again with the same seed and every option
    that changes what is sent; keys are never in it (they come from the environment), nor the bundled
    reference server's URL (that server is gone: the rerun starts its own)."""
    values = _values(outcome) | {"seed": seed}
    if outcome.reference_server:
        values.pop("base_url", None)
    return " ".join(["conformance", "run", *rerun_arguments(values), "--only", requirement_id])


def _values(outcome: RunOutcome) -> dict[str, Any]:
    return values_of(outcome.profile, replace(outcome.options, seed=outcome.results.seed, run_id=outcome.run_id))


def render(report: dict[str, Any], format_name: str) -> str:
    """One format (`json`, `junit`, `md`, `html`) of a report model, as the text of its file."""
    return FORMATS[format_name][1](report)


def redacted_report(outcome: RunOutcome) -> dict[str, Any]:
    """`build_report` with every key value replaced by its `${CONFORMANCE_*}` reference, wherever it ended up."""
    return _redacted(build_report(outcome), _redactor(outcome))


def write_reports(outcome: RunOutcome, report_dir: Path) -> Path:
    """Write all four reports into `report_dir` (created if needed); returns the path of report.json."""
    report_dir.mkdir(parents=True, exist_ok=True)
    report = redacted_report(outcome)
    redact = _redactor(outcome)
    for filename, renderer in FORMATS.values():
        (report_dir / filename).write_text(redact(renderer(report)), encoding="utf-8")  # belt and braces
    return report_dir / FORMATS["json"][0]


def _redactor(outcome: RunOutcome) -> Redactor:
    return Redactor(outcome.profile.secrets() if outcome.profile else {})


def _redacted(value: Any, redact: Redactor) -> Any:
    """The model with every string value passed through the redactor (field names are ours, never secret)."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {key: _redacted(item, redact) for key, item in value.items()}
    if isinstance(value, list):
        return [_redacted(item, redact) for item in value]
    return value
