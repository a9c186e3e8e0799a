"""What a reference server under test is asked for: a test helper shared by the checker and plugin tests."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
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
