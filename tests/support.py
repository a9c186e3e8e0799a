"""Shared by the test packages: what a reference server is asked for, a free port, and the CLI in a subprocess."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from conformance.reference.app import RunningServer


def count_methods(server: RunningServer) -> Counter[str]:
    """The HTTP methods `server` is asked for from now on (a live counter)."""
    methods: Counter[str] = Counter()
    handle: Callable[..., Any] = server.api.handle

    def counted(method: str, *rest: Any) -> Any:
        methods[method] += 1
        return handle(method, *rest)

    server.api.handle = counted  # type: ignore[method-assign]
    return methods


def free_port() -> int:
    """A port nothing listens on (bound and released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def conformance_cli(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`conformance ARGS` in a subprocess, with no CONFORMANCE_* variables but those in `env`."""
    clean = {name: value for name, value in os.environ.items() if not name.startswith("CONFORMANCE_")}
    return subprocess.run(
        [sys.executable, "-m", "conformance.faces.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**clean, **(env or {})},
        timeout=120,
    )
