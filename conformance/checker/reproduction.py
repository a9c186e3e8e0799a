"""A finding's self-contained reproduction: a POSIX shell script that replays, from a clean start, every request
the check sent up to the failure.

Records the check created are created again and their new ids captured (with `sed`) into `WC_ID_1`, `WC_ID_2`,
...; every later request names them by those variables, so nothing depends on records the run has since
deleted. The requests that show the failure print their answer; the script then says what was expected and
what the run saw, and deletes what it created. Keys and the target come from the environment
(`CONFORMANCE_*`), never from the script.
"""

from __future__ import annotations

import json
import shlex
from typing import Protocol
from urllib.parse import urlsplit

from conformance.checker.client import COLLECTION_PATH
from conformance.checker.evidence import Exchange, shell_arg

BASE = "${CONFORMANCE_BASE_URL}"
ID_FROM_ANSWER = r"""sed -n 's/.*"id" *: *"\([^"]*\)".*/\1/p'"""
SHOWN = r"-w '\n<<< HTTP %{http_code}\n'"  # the status after the body, on its own line


class Reproducible(Protocol):
    """What a script needs of a finding (`results.Finding`): what it is about, what it expected and saw, the
    exchanges that show it, and every request from a clean start up to them."""

    id: str
    requirement_id: str
    expected: str
    actual: str
    exchanges: list[Exchange]
    sequence: list[Exchange]


def shell_script(finding: Reproducible) -> str:
    """The script that reproduces `finding` (its `sequence` from a clean start) against $CONFORMANCE_BASE_URL."""
    steps = finding.sequence
    base = _base(steps[0].url) if steps else ""
    variables: dict[str, str] = {}  # a record id the run got -> the variable that holds the replay's id
    created: list[tuple[str, Exchange]] = []
    lines = [
        "#!/bin/sh",
        f"# Reproduces finding {finding.id or '(no id)'} of {finding.requirement_id} from a clean start: creates",
        "# the records it needs, sends the requests that showed the failure, deletes what it created.",
        "# Needs curl and sed. Keys come from the environment (CONFORMANCE_PARTNER_KEY, CONFORMANCE_DEVELOPER_KEY,",
        "# CONFORMANCE_SECOND_DEVELOPER_KEY where used); the target from CONFORMANCE_BASE_URL.",
        f': "${{CONFORMANCE_BASE_URL:={base}}}"',
    ]
    for step in steps:
        command = _curl(step, base, variables)
        shows = any(step is item for item in finding.exchanges)
        if shows:
            lines.append("echo " + shell_arg(_live(f">>> {step.method} {step.url}", base, variables)))
        made = _created_id(step)
        if made is not None and made not in variables:
            name = f"WC_ID_{len(variables) + 1}"
            lines.append(f"WC_ANSWER=$({command} {SHOWN})")
            if shows:
                lines.append('printf \'%s\\n\' "$WC_ANSWER"')
            lines.append(f'{name}=$(printf \'%s\\n\' "$WC_ANSWER" | {ID_FROM_ANSWER})')
            variables[made] = name
            created.append((name, step))
        elif shows:
            lines.append(f"{command} {SHOWN}")
        else:
            lines.append(f"{command} -o /dev/null")
    lines += [
        f"echo {shlex.quote('expected: ' + finding.expected)}",
        f"echo {shlex.quote('the run saw: ' + finding.actual)}",
    ]
    for name, step in reversed(created):
        headers = {key: value for key, value in step.request_headers.items() if key.lower() != "content-type"}
        delete = Exchange("DELETE", f"{base}{COLLECTION_PATH}/${{{name}}}", headers, None)
        lines.append(f'if [ -n "${{{name}}}" ]; then {_curl(delete, base, {})} -o /dev/null; fi')
    return "\n".join(lines) + "\n"


def _base(url: str) -> str:
    """The target's base URL as the run used it: everything before the collection path."""
    if COLLECTION_PATH in url:
        return url.split(COLLECTION_PATH)[0]
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _live(text: str, base: str, variables: dict[str, str]) -> str:
    """The text with the base URL and the ids the replay captured as variable references."""
    if base:
        text = text.replace(base + COLLECTION_PATH, BASE + COLLECTION_PATH)
    for value, name in variables.items():
        text = text.replace(value, "${" + name + "}")
    return text


def _curl(step: Exchange, base: str, variables: dict[str, str]) -> str:
    """`curl` for one step, the base URL and the ids the replay captured as variable references."""

    def live(text: str) -> str:
        return _live(text, base, variables)

    parts = ["curl -sS -X", shlex.quote(step.method)]
    parts += ["-H " + shell_arg(live(f"{name}: {value}")) for name, value in step.request_headers.items()]
    feed = ""
    if step.body_shell is not None:
        feed = f"{{ {step.body_shell}; }} | "  # the whole command's output, however many parts it prints in
        parts.append("--data-binary @-")
    elif step.full_request_body is not None or step.request_body is not None:
        body = step.full_request_body if step.full_request_body is not None else step.request_body
        parts.append("--data-binary " + shell_arg(live(body or "")))
    parts.append(shell_arg(live(step.url)))
    return feed + " ".join(parts)


def _created_id(step: Exchange) -> str | None:
    """The id of the record a create made, where the step is an accepted create that named one."""
    if step.method != "POST" or step.status is None or not 200 <= step.status < 300 or not step.response_body:
        return None
    try:
        body = json.loads(step.response_body)
    except ValueError:
        return None
    made = body.get("id") if isinstance(body, dict) else None
    return made if isinstance(made, str) and made else None
