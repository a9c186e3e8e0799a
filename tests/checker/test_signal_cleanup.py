"""Every record a run caused is gone after a real signal, counted in the server's own store, not via the checker.

A real `conformance run` subprocess against a reference server that already holds records of the same company
and shop (the run is given that shop with --shop-id in half the moments) and with the second developer key:
- SIGINT at a random moment: the run cleans up itself, and the store holds the records it held before,
  byte for byte (every column), and nothing else;
- SIGKILL at a random moment: nothing runs in the process any more; `conformance cleanup --run-id` then
  finds what the run left by its run id alone, and the store is as it was.

`make test` tries a few moments of a `quick` run; the `slow` tier (`make test-all`) runs the campaign:
SIGINT at 20 moments of a `standard` run, SIGKILL at 5. Each moment is drawn from a seeded generator, so a
failing one reruns the same way (its id names it).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from support import conformance_cli

from conformance.checker.marks import RunMark
from conformance.reference.app import RunningServer
from conformance.reference.keys import DEMO_DEVELOPER_KEY, DEMO_PARTNER_KEY, DEMO_SECOND_DEVELOPER_KEY

SHARED_SHOP = "shop-7"  # a shop that holds records before the run, of both companies
KEYS = {
    "CONFORMANCE_PARTNER_KEY": DEMO_PARTNER_KEY,
    "CONFORMANCE_DEVELOPER_KEY": DEMO_DEVELOPER_KEY,
    "CONFORMANCE_SECOND_DEVELOPER_KEY": DEMO_SECOND_DEVELOPER_KEY,
}
# Seconds after the start from which a moment is drawn: within a run at the concurrency the moments use (a
# standard run side by side ends in 20 to 40 s on this machine under load; a later moment finds it over).
SPAN = {"quick": (1.0, 8.0), "standard": (1.0, 45.0)}
ENDS_WITHIN = 180  # seconds from the signal to the end of the run or the cleanup: hang detection only


def moments(
    budget: str, signum: signal.Signals, count: int, *marks: pytest.MarkDecorator, concurrency: tuple[int, ...] = (1,)
) -> list:
    """`count` seeded random moments of a `budget` run, each with --shop-id or without in turn, and at each of the
    `concurrency` levels in turn (--shop-id makes any level one check at a time, so those moments pair with a
    level that runs checks side by side)."""
    low, high = SPAN[budget]
    drawn = random.Random(f"{budget}:{signum.name}")
    name = f"{budget}-{signum.name}"
    after = [round(drawn.uniform(low, high), 2) for _ in range(count)]
    return [
        pytest.param(
            budget,
            signum,
            seconds,
            index % 2 == 0,
            concurrency[(index // 2) % len(concurrency)],
            marks=marks,
            id=f"{name}-{index}-c{concurrency[(index // 2) % len(concurrency)]}",
        )
        for index, seconds in enumerate(after)
    ]


QUICK = [
    *moments("quick", signal.SIGINT, 4, concurrency=(4, 1)),
    *moments("quick", signal.SIGKILL, 1, concurrency=(4,)),
]
# The campaign: at the default concurrency and at the most a remote target is advised (README), where an
# interrupt must end every engine's threads (Schemathesis's workers, the lifecycle's lanes) as one thread.
CAMPAIGN = [
    *moments("standard", signal.SIGINT, 20, pytest.mark.slow, pytest.mark.long, concurrency=(4, 8)),
    *moments("standard", signal.SIGKILL, 5, pytest.mark.slow, pytest.mark.long, concurrency=(4, 8)),
]


@pytest.mark.parametrize(("budget", "signum", "after", "in_shared_shop", "concurrency"), [*QUICK, *CAMPAIGN])
def test_nothing_of_the_run_is_left_after_a_signal(
    start_reference,
    tmp_path: Path,
    budget: str,
    signum: signal.Signals,
    after: float,
    in_shared_shop: bool,
    concurrency: int,
) -> None:
    server = start_reference()
    before = _preexisting(server)
    run_id = f"sig{os.getpid()}x{int(after * 100)}"
    shop_args = ["--shop-id", SHARED_SHOP] if in_shared_shop else []
    process = _start_run(
        tmp_path, server, "--budget", budget, "--run-id", run_id, "--concurrency", str(concurrency), *shop_args
    )

    time.sleep(after)
    process.send_signal(signum)
    process.wait(timeout=ENDS_WITHIN)

    if signum == signal.SIGKILL:
        cleanup = conformance_cli(
            "cleanup", "--base-url", server.base_url, "--run-id", run_id, *shop_args, "--yes", cwd=tmp_path, env=KEYS
        )
        assert cleanup.returncode == 0, cleanup.stdout + cleanup.stderr
    else:
        stderr = (tmp_path / "stderr.txt").read_text()
        assert process.returncode in (0, 3), stderr  # 0: the run was over before the signal came
        assert "Traceback" not in stderr
    live = [record for record in server.api.store.records(None) if record.id not in before]
    assert [record for record in live if RunMark(run_id).carries(record.to_json())] == []
    assert live == []  # nothing else writes to this server: any other record would be the run's, unmarked
    assert {record.id: record for record in _records_of(server, before)} == before


def test_cleanup_dry_run_lists_a_killed_runs_records_and_deletes_nothing(start_reference, tmp_path: Path) -> None:
    server = start_reference()
    before = _preexisting(server)
    mark = RunMark("dry1")
    hook = {"webHookUrls": [mark.url("left")], "webHookType": "NEW_MEMBER"}
    headers = {"x-api-key": DEMO_PARTNER_KEY}
    collection = f"{server.base_url}/api/v1/partner/webHooks"
    for key, body in ((DEMO_DEVELOPER_KEY, {**hook, "shopId": mark.shop(1)}), (DEMO_SECOND_DEVELOPER_KEY, hook)):
        assert requests.post(collection, json=body, headers={**headers, "Authorization": key}, timeout=10).ok

    listed = conformance_cli("cleanup", "--base-url", server.base_url, "--run-id", "dry1", cwd=tmp_path, env=KEYS)
    assert listed.returncode == 1, listed.stderr
    assert "2 record(s) of run dry1" in listed.stdout
    assert len(server.api.store.records(None)) == len(before) + 2

    target = ("--base-url", server.base_url)
    other_run = conformance_cli("cleanup", *target, "--run-id", "dry", "--yes", cwd=tmp_path, env=KEYS)
    assert other_run.returncode == 0 and len(server.api.store.records(None)) == len(before) + 2

    deleted = conformance_cli("cleanup", *target, "--all-runs", "--yes", cwd=tmp_path, env=KEYS)
    assert deleted.returncode == 0, deleted.stderr
    assert {record.id: record for record in server.api.store.records(None)} == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "--run-id ID is required"),
        (("--run-id", "a b"), "--run-id must be"),
        (("--run-id", "r1", "--all-runs"), "exclude each other"),
    ],
)
def test_cleanup_refuses_bad_input_in_one_line(tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    result = conformance_cli("cleanup", "--base-url", "http://127.0.0.1:9", *args, cwd=tmp_path, env=KEYS)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and message in result.stderr and "Traceback" not in result.stderr


def _preexisting(server: RunningServer) -> dict[str, object]:
    """Records in the shop the run may share, of both companies, as the store holds them (every column)."""
    collection = f"{server.base_url}/api/v1/partner/webHooks"
    for key, urls in ((DEMO_DEVELOPER_KEY, 2), (DEMO_SECOND_DEVELOPER_KEY, 1)):
        for index in range(urls):
            body = {"shopId": SHARED_SHOP, "webHookUrls": [f"https://hooks.example.com/theirs/{index}"]}
            headers = {"x-api-key": DEMO_PARTNER_KEY, "Authorization": key}
            assert requests.post(collection, json=body, headers=headers, timeout=10).status_code == 200
    return {record.id: record for record in server.api.store.records(None, include_deleted=True)}


def _records_of(server: RunningServer, ids: dict[str, object]) -> list:
    return [record for record in server.api.store.records(None, include_deleted=True) if record.id in ids]


def _start_run(directory: Path, server: RunningServer, *args: str) -> subprocess.Popen[bytes]:
    """`conformance run` in a subprocess with both developer keys, its output going to files."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONFORMANCE_")} | KEYS
    with (directory / "stdout.txt").open("w") as stdout, (directory / "stderr.txt").open("w") as stderr:
        command = [sys.executable, "-m", "conformance.faces.cli", "run", "--base-url", server.base_url, *args]
        return subprocess.Popen(command, cwd=directory, env=env, stdout=stdout, stderr=stderr)
