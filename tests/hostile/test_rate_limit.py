"""--rate-limit holds for the whole run, as the target counts: every engine's requests (Schemathesis's start-up
probes, retries and the cleanup included) share one limit, and no second ever sees more than it."""

from __future__ import annotations

import re

from hostile.server import Request

RATE = 30  # requests a second: well below what the run sends unlimited (about 45 a second, in bursts of more)
WINDOW = 1.0  # seconds


def busiest_second(requests: list[Request]) -> int:
    """The most requests that arrived within any one second (a sliding window)."""
    times = sorted(request.arrived for request in requests)
    counts = (sum(1 for later in times[index:] if later - start < WINDOW) for index, start in enumerate(times))
    return max(counts, default=0)


def test_busiest_second_counts_a_sliding_window() -> None:
    arrivals = [Request(number, "GET", "/", {}, b"", at) for number, at in enumerate((0.0, 0.5, 0.9, 1.4, 3.0), 1)]
    assert busiest_second(arrivals) == 3  # 0.5, 0.9 and 1.4 share a second that 0.0 and 3.0 are not in


def test_no_second_at_the_target_sees_more_requests_than_the_rate_limit_across_engines(hostile, checker) -> None:
    proxy = hostile(lambda request: None)  # forwards every request to a clean reference server, counting them

    # DELETE-03 is checked by a scenario, by the lifecycle machine and by Schemathesis: every engine sends.
    run = checker(proxy.base_url, "--rate-limit", f"{RATE}/s", "--only", "DELETE-03")

    assert run.returncode in (0, 3), run.stderr[-3000:]  # one requirement of many: conformant or incomplete
    sent = {name: int(count) for name, count in re.findall(r"\] ([\w ]+?): (\d+) requests", run.stderr)}
    assert {"targeted scenarios", "lifecycle", "schemathesis"} <= {name for name, count in sent.items() if count}
    assert any("X-Schemathesis-Probe" in request.headers for request in proxy.requests)  # sent around the transport
    assert len(proxy.requests) > 3 * RATE
    assert busiest_second(proxy.requests) <= RATE
