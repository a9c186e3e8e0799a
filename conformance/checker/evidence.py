"""Evidence of what was sent and what came back, with every secret redacted.

An `Exchange` is one HTTP request and its answer as the checker saw it. It renders as a `curl` command
that names keys by environment variable (`${CONFORMANCE_PARTNER_KEY}`), so a developer reproduces a
finding in one command with the same variables the checker reads, and no report ever holds a key.
"""

from __future__ import annotations

import base64
import gzip
import shlex
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from conformance.contract import json_text

BODY_EVIDENCE_LIMIT = 2000  # characters of a body kept as evidence; the rest is summarised
LARGE_BODY = 64 * 1024  # bytes from which a request body's size is worth naming
QUOTED_BODY_LIMIT = 20_000  # characters of a body a command quotes; a larger one it prints (`body_printer`)


class Redactor:
    """Replaces secret values in any text with `${ENV_VAR}` references."""

    def __init__(self, secrets: dict[str, str]) -> None:
        # Longest first, so a key that contains another is replaced whole.
        self._secrets = sorted(secrets.items(), key=lambda item: -len(item[0]))

    def __call__(self, text: str) -> str:
        for value, variable in self._secrets:
            text = text.replace(value, "${" + variable + "}")
        return text


def clip(text: str | None, limit: int = BODY_EVIDENCE_LIMIT) -> str | None:
    """The text cut to `limit` characters, saying how much was left out."""
    if text is None or len(text) <= limit:
        return text
    return f"{text[:limit]}... [{len(text) - limit} more characters]"


@dataclass
class Exchange:
    """One request and its answer (or the transport error instead), redacted and clipped."""

    method: str
    url: str
    request_headers: dict[str, str]
    request_body: str | None
    status: int | None = None
    response_headers: dict[str, str] = field(default_factory=dict)
    response_body: str | None = None
    error: str | None = None
    elapsed_ms: float = 0.0
    full_request_body: str | None = field(default=None, repr=False)  # unclipped, for the curl command only
    body_shell: str | None = None  # a shell command that prints a body too large to quote
    packed_body: str | None = None  # the exact bytes of a body a command cannot quote: base64 of gzip
    request_bytes: int | None = field(default=None, repr=False)  # the size of the body sent, where known

    def curl(self) -> str:
        """A copy-paste `curl` command that sends this request again (keys as environment variables)."""
        # A HEAD answer has no body to wait for: `--head` (with `-X HEAD` curl would wait for one).
        method = "--head" if self.method == "HEAD" else "-X " + shlex.quote(self.method)
        parts = ["curl -sS -i", method]
        parts += [header_arg(name, value) for name, value in self.request_headers.items()]
        if self.body_printer is not None:
            parts.append(f"--data-binary @<({self.body_printer})")
        elif self.full_request_body is not None or self.request_body is not None:
            body = self.full_request_body if self.full_request_body is not None else self.request_body
            parts.append("--data-binary " + shell_arg(body or ""))
        parts.append("--path-as-is " + shell_arg(self.url))  # dot segments as sent, not resolved
        return " ".join(parts)

    @property
    def body_printer(self) -> str | None:
        """A shell command that prints the body exactly, where a command cannot quote it."""
        if self.body_shell is not None:
            return self.body_shell
        return f"printf %s {self.packed_body} | base64 -d | gzip -dc" if self.packed_body is not None else None

    def summary(self) -> str:
        """One line: `POST /path -> 400`."""
        outcome = self.error if self.status is None else str(self.status)
        return f"{self.method} {self.url} -> {outcome}"

    def path(self) -> str:
        """The request's path and query, without the target's address."""
        parts = urlsplit(self.url)
        return parts.path + (f"?{parts.query}" if parts.query else "")

    def request_in_words(self) -> str:
        """The request and what is unusual about it: `POST /webhooks with a body of 1.0 MiB`."""
        special = []
        sent = {name.lower() for name in self.request_headers}
        if "authorization" not in sent:
            special.append("without a developer key")
        if not sent & {"x-api-key", "partner_key"}:
            special.append("without a partner key")
        content_type = next((v for k, v in self.request_headers.items() if k.lower() == "content-type"), None)
        size = self.request_bytes if self.request_bytes is not None else len(self.request_body or "")
        if size >= LARGE_BODY:
            special.append(f"with a body of {size / 1024 / 1024:.1f} MiB" if size >= 2**20 else f"with {size} bytes")
        elif self.full_request_body is not None and not _parses(self.full_request_body):
            special.append("with a body that is not JSON")
        if content_type and content_type.split(";")[0].strip().lower() != "application/json":
            special.append(f"with Content-Type {content_type}")
        elif self.request_body is not None and not content_type:
            special.append("with no Content-Type")
        return f"{self.method} {self.path()}" + (f" {', '.join(special)}" if special else "")

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "url": self.url,
            "request_headers": self.request_headers,
            "request_body": self.request_body,
            "status": self.status,
            "response_headers": self.response_headers,
            "response_body": self.response_body,
            "error": self.error,
            "elapsed_ms": round(self.elapsed_ms, 1),
            "curl": self.curl(),
        }


def body_fields(data: bytes | None, redact: Redactor) -> dict[str, Any]:
    """An Exchange's request-body fields for the bytes sent: the text (redacted, clipped), the whole text where a
    command can quote it, and else (not UTF-8, a NUL, QUOTED_BODY_LIMIT characters or more) the exact bytes packed
    (`packed_body`). A body that holds a secret is never packed: its redacted text stays the evidence."""
    if data is None:
        return {"request_body": None, "full_request_body": None, "packed_body": None}
    text = data.decode("utf-8", errors="replace")
    shown = redact(text)
    quotable = len(text) < QUOTED_BODY_LIMIT and "\0" not in text and text.encode("utf-8") == data
    packed = None if quotable or shown != text else base64.b64encode(gzip.compress(data, mtime=0)).decode()
    return {
        "request_body": clip(shown),
        "full_request_body": shown if len(text) < QUOTED_BODY_LIMIT else None,
        "packed_body": packed,
    }


def unpacked(packed: str) -> bytes:
    """The bytes of a `packed_body`."""
    return gzip.decompress(base64.b64decode(packed))


def _parses(text: str) -> bool:
    try:
        json_text.loads(text)
    except ValueError:
        return False
    return True


def header_arg(name: str, value: str) -> str:
    """curl's `-H` for one header as sent: an empty `Host` is one left out (`Host:` removes curl's own), any
    other empty value is sent empty (`Name;`)."""
    if value == "":
        return "-H " + shlex.quote(f"{name}:" if name.lower() == "host" else f"{name};")
    return "-H " + shell_arg(f"{name}: {value}")


LIVE_REFERENCES = ("${CONFORMANCE_", "${WC_")  # the variables a command or script may expand: ours


def shell_arg(text: str) -> str:
    """Quote for a POSIX shell, keeping our `${CONFORMANCE_...}` and `${WC_...}` references live (double quotes)
    and all else literal."""
    if "${" not in text:
        return shlex.quote(text)
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("`", "\\`")
    # Escape every `$` that does not start one of our references.
    out, index = [], 0
    while index < len(escaped):
        if escaped.startswith(LIVE_REFERENCES, index):
            end = escaped.index("}", index)
            out.append(escaped[index : end + 1])
            index = end + 1
        else:
            out.append("\\$" if escaped[index] == "$" else escaped[index])
            index += 1
    return '"' + "".join(out) + '"'
