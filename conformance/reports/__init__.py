"""Conformance reports, all generated from one result model (`build_report`) so they cannot disagree."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from conformance import __version__
from conformance.checker.evidence import Redactor

if TYPE_CHECKING:
    from conformance.checker.runner import RunOutcome

REPORT_SCHEMA_VERSION = "1.0"


def build_report(outcome: RunOutcome) -> dict[str, Any]:
    """The report as plain data: the one model every format is rendered from."""
    results = outcome.results
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
                "findings": [finding.to_dict() for finding in entry.findings],
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
            "target": profile.base_url if profile else None,
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
            "options": _options(outcome),
            "notes": outcome.notes,
        },
        "requirements": requirements,
        "coverage": [
            {"operation": operation, "status": status, "requests": count}
            for (operation, status), count in sorted(outcome.coverage.items(), key=lambda kv: (kv[0][0], kv[0][1] or 0))
        ],
        "cleanup": {
            "created": outcome.cleanup.created,
            "deleted": outcome.cleanup.deleted,
            "already_gone": outcome.cleanup.already_gone,
            "left_behind": [{"id": item.id, "reason": item.reason} for item in outcome.cleanup.left_behind],
        },
    }


def _options(outcome: RunOutcome) -> dict[str, Any]:
    """The options in effect, with every key redacted."""
    profile = outcome.profile
    options = outcome.options
    shown: dict[str, Any] = {
        "budget": options.budget,
        "seed": outcome.results.seed,
        "strict": options.strict,
        "only": sorted(options.only),
        "skip": sorted(options.skip),
        "spec": str(options.spec) if options.spec else None,
    }
    if profile:
        shown |= {
            "base_url": profile.base_url,
            "partner_key": "${CONFORMANCE_PARTNER_KEY}",
            "developer_key": "${CONFORMANCE_DEVELOPER_KEY}",
            "second_developer_key": "${CONFORMANCE_SECOND_DEVELOPER_KEY}" if profile.second_developer_key else None,
            "partner_key_header": profile.partner_key_header,
            "shop_ids": list(profile.shop_ids),
            "rate_limit": profile.rate_limit,
            "timeout": profile.timeout,
        }
    return shown


def write_reports(outcome: RunOutcome, report_dir: Path) -> Path:
    """Write the reports into `report_dir` (created if needed); returns the path of report.json."""
    report_dir.mkdir(parents=True, exist_ok=True)
    path = report_dir / "report.json"
    text = json.dumps(build_report(outcome), indent=2, ensure_ascii=False)
    if outcome.profile:  # belt and braces: no key value may reach a file, whatever put it in the model
        text = Redactor(outcome.profile.secrets())(text)
    path.write_text(text + "\n", encoding="utf-8")
    return path
