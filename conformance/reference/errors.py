"""The two ways a request of the reference server ends without its normal answer."""

from __future__ import annotations


class ApiError(Exception):
    """A 4xx answer: its status, a message for the client, and optionally the field at fault."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        field: str | None = None,
        error_type: str = "BAD_REQUEST",
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.field = field
        self.error_type = error_type
        self.headers = headers or {}


class PlantedCrash(Exception):
    """Raised only by a planted fault that makes the server answer 500 (the clean server never does)."""


class PlantedDrop(Exception):
    """Raised only by a planted fault that closes the connection without any answer (a worker that died)."""
