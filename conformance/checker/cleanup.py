"""Delete what a run left on the target, found by its run id alone (`conformance cleanup`, in `faces.cleanup`).

For a run that died without cleaning up (SIGKILL, a CI job timeout, the OOM killer). Every record a run
writes carries its mark (`marks.RunMark`); this lists the company as each identity sees it, and the
`--shop-id` shops, and shows (dry run) or deletes (`--yes`) every live record carrying that mark. Records
without the mark are never touched. Keys and options come from the same flags, environment and config file
as `conformance run`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

from conformance.checker.client import TargetClient
from conformance.checker.ledger import GONE, Marked, delete_record, find_marked
from conformance.checker.marks import RunMark
from conformance.checker.profile import TargetProfile


class CleanupExit(IntEnum):
    """The documented exit codes of `conformance cleanup` (the same numbers as `conformance run`'s where they
    mean the same: 2 usage, 3 could not complete)."""

    NOTHING_LEFT = 0
    RECORDS_LEFT = 1
    USAGE = 2
    INCOMPLETE = 3


@dataclass
class Leftovers:
    """What `conformance cleanup` found and did."""

    found: list[Marked] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    left: list[tuple[str, str]] = field(default_factory=list)  # (id, why it is still there)
    unlisted: list[str] = field(default_factory=list)  # why a list could not be read

    @property
    def exit_code(self) -> CleanupExit:
        if self.left:
            return CleanupExit.RECORDS_LEFT
        return CleanupExit.INCOMPLETE if self.unlisted else CleanupExit.NOTHING_LEFT


def clean_up_run(profile: TargetProfile, mark: RunMark, *, delete: bool) -> Leftovers:
    """Find every live record carrying `mark` (see the module) and, with `delete`, delete each, then list again
    to be sure: a record that is still listed is left behind, whatever its DELETE answered."""
    identities = profile.identities
    shops = {identity: list(profile.shop_ids) for identity in identities}
    client = TargetClient(profile)
    try:
        outcome = Leftovers()
        outcome.found, notes = find_marked(client, mark, shops)
        outcome.unlisted += [note for note in notes if "could not list" in note]
        if not delete:
            outcome.left = [(item.id, "not deleted: a dry run (--yes deletes)") for item in outcome.found]
            return outcome
        reasons = {}
        for item in outcome.found:
            reason = delete_record(client, item.id, [item.identity, *identities])
            if reason is None or reason is GONE:
                outcome.deleted.append(item.id)
            else:
                reasons[item.id] = reason
        remaining, _ = find_marked(client, mark, shops)
        outcome.left = [(item.id, reasons.get(item.id, "still listed after its DELETE")) for item in remaining]
        return outcome
    finally:
        client.close()
