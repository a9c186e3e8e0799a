"""The baseline: the requirements a target is known to fail, so that a CI gate fails only on a new failure.

With `--baseline FILE` a failure that FILE lists is a known failure: the report still shows it (marked
`baselined`) and the verdict still counts it, but it no longer makes the exit code 1. A listed requirement
that passes now is reported as fixed, so the baseline can be tightened. `--update-baseline` writes the run's
failures into FILE, after a run that completed; a requirement the run did not evaluate (left out by
`--only`, or not-run) keeps its entry, so a partial run never forgets a known failure.

The file is small JSON, meant to be committed and reviewed like code (sorted IDs, no timestamps):

    {
      "format": 1,
      "tool_version": "0.1.0",
      "spec": {"title": "Partner WebHooks API", "version": "1.0.0", "sha256": "..."},
      "failed": ["LIST-03", "VALID-08"]
    }

Only `failed` is read back; the rest records what produced the list. A `report.json` is accepted as a
baseline too (its failed requirements are the known ones), so a past run's report can be adopted as it is.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from conformance import __version__
from conformance.checker.options import ConfigError
from conformance.checker.results import Results
from conformance.contract.catalogue import ids
from conformance.contract.spec import SpecInfo

FORMAT = 1


@dataclass(frozen=True)
class BaselineComparison:
    """A run's failures held against a baseline."""

    path: Path
    listed: frozenset[str]  # what the file listed before the run
    accepted: frozenset[str]  # what the exit code treats as known: `listed`, or what the run wrote
    known: tuple[str, ...]  # failed, and listed
    new: tuple[str, ...]  # failed, and not listed
    fixed: tuple[str, ...]  # listed, and passed in this run
    updated: bool = False  # this run wrote the file (--update-baseline)

    def to_dict(self) -> dict[str, Any]:
        """The report's `baseline` object."""
        return {
            "path": str(self.path),
            "known": list(self.known),
            "new": list(self.new),
            "fixed": list(self.fixed),
            "updated": self.updated,
        }

    def summary(self) -> str:
        """One line for a terminal: what is known, what is new, what is fixed."""
        parts = [f"{len(self.known)} known failure(s)", f"{len(self.new)} new{_listing(self.new)}"]
        parts.append(f"{len(self.fixed)} fixed{_listing(self.fixed)}")
        action = "updated" if self.updated else "compared with"
        hint = "; a fixed one can leave the baseline (--update-baseline)" if self.fixed and not self.updated else ""
        return f"baseline {self.path} {action}: {', '.join(parts)}{hint}"


def read_baseline(path: Path, *, missing_ok: bool = False) -> frozenset[str]:
    """The requirement IDs a baseline file lists as known failures; ConfigError for a file that is not one.

    `missing_ok`: a file that does not exist lists nothing (it is about to be written)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        if missing_ok:
            return frozenset()
        raise ConfigError(f"baseline {path} not found (write it with --update-baseline)") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"cannot read the baseline {path}: {error}") from None
    try:
        listed = _failed_ids(json.loads(text))
    except ValueError:
        listed = None
    if listed is None:
        raise ConfigError(
            f"{path} is not a baseline: expected a JSON object with a `failed` list of requirement IDs, "
            "or a report.json"
        )
    unknown = sorted(set(listed) - set(ids()))
    if unknown:
        raise ConfigError(f"the baseline {path} lists IDs the catalogue does not have: {', '.join(unknown)}")
    return frozenset(listed)


def _failed_ids(data: Any) -> list[str] | None:
    """The IDs of a baseline's `failed` list, or of a report.json's failed requirements; None for neither."""
    if not isinstance(data, dict):
        return None
    failed, requirements = data.get("failed"), data.get("requirements")
    if isinstance(failed, list) and all(isinstance(item, str) for item in failed):
        return failed
    if isinstance(requirements, list) and all(isinstance(item, dict) for item in requirements):
        return [str(item.get("id")) for item in requirements if item.get("status") == "failed"]
    return None


def compare(path: Path, listed: frozenset[str], results: Results) -> BaselineComparison:
    """The run's results against the listed known failures."""
    failed = {entry.requirement.id for entry in results.failed()}
    passed = {item for item, entry in results.by_id.items() if entry.status == "passed"}
    return BaselineComparison(
        path=path,
        listed=listed,
        accepted=listed,
        known=_in_catalogue_order(failed & listed),
        new=_in_catalogue_order(failed - listed),
        fixed=_in_catalogue_order(listed & passed),
    )


def updated_baseline(listed: frozenset[str], results: Results) -> frozenset[str]:
    """The run's failures, and the listed requirements it did not evaluate (their entries stand)."""
    return frozenset(
        item
        for item, entry in results.by_id.items()
        if entry.status == "failed" or (entry.status == "not-run" and item in listed)
    )


def write_baseline(path: Path, failed: frozenset[str], spec: SpecInfo | None) -> None:
    """Write a baseline listing `failed`, with the tool and the spec version that produced it (OSError if it
    cannot)."""
    document = {
        "format": FORMAT,
        "tool_version": __version__,
        "spec": {"title": spec.title, "version": spec.version, "sha256": spec.sha256} if spec else None,
        "failed": list(_in_catalogue_order(failed)),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")


def hold_against_baseline(
    path: Path,
    listed: frozenset[str],
    results: Results,
    *,
    update: bool,
    completed: bool,
    spec: SpecInfo | None,
) -> tuple[BaselineComparison, str | None]:
    """Hold a finished run's `results` against the baseline at `path` (which listed `listed`), and, when asked
    to `update` it after a run that `completed`, write the new one. Returns the comparison, whose `accepted`
    are the IDs the exit code treats as known, and a note for the report (or None); OSError if the file cannot
    be written."""
    comparison = compare(path, listed, results)
    if not update:
        return comparison, None
    if not completed:
        return comparison, f"the baseline {path} was not updated: the run did not complete"
    accepted = updated_baseline(listed, results)
    write_baseline(path, accepted, spec)
    return replace(comparison, accepted=accepted, updated=True), None


def _in_catalogue_order(chosen: set[str] | frozenset[str]) -> tuple[str, ...]:
    return tuple(item for item in ids() if item in chosen)


def _listing(chosen: tuple[str, ...]) -> str:
    return f" ({', '.join(chosen)})" if chosen else ""
