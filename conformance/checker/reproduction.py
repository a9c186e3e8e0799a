"""A finding's self-contained reproduction: a POSIX shell script that replays, from a clean start, the requests
of the check that the failure needs (`needed_steps`): the requests that showed it, and before them every request
that names a record they touch (its create, its updates, its deletes) or, for a list by shop, the shop.

Records the check created are created again and their new ids captured (with `sed`) into `WC_ID_1`, `WC_ID_2`,
...; every later request names them by those variables, so nothing depends on records the run has since
deleted. The requests that show the failure print their answer; the script then says what was expected and
what the run saw, and deletes what it created (by the ids it captured, with the keys that created them). Keys
and the target come from the environment (`CONFORMANCE_*`), never from the script. A body that cannot be quoted
(not UTF-8, or very large) is printed by `base64 -d | gzip -dc`.
"""

from __future__ import annotations

import re
import shlex
from collections import defaultdict
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

from conformance.checker.evidence import Exchange, header_arg, shell_arg
from conformance.contract import json_text
from conformance.contract.facts import COLLECTION_PATH, ITEM_PATH

BASE = "${CONFORMANCE_BASE_URL}"
ID_FROM_ANSWER = r"""sed -n 's/.*"id" *: *"\([^"]*\)".*/\1/p'"""
ANSWER_ID = re.compile(r'"id" *: *"([^"]*)"')  # the ids in an answer, in order, as NTH_ID_FROM_ANSWER finds them
NTH_ID_FROM_ANSWER = r"""grep -o '"id" *: *"[^"]*"' | sed -n '{n}s/.*"\([^"]*\)"$/\1/p'"""
SHOP_IN_BODY = re.compile(r'"shopId" *: *"([^"]*)"')  # the shops a JSON text names
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
    steps = needed_steps(finding.sequence, finding.exchanges)
    base = base_of(steps[0].url) if steps else ""
    plan = captures(steps)
    variables: dict[str, str] = {}  # a record id the run got -> the variable that holds the replay's id
    created: list[tuple[str, Exchange]] = []
    lines = [
        "#!/bin/sh",
        f"# Reproduces finding {finding.id or '(no id)'} of {finding.requirement_id} from a clean start: creates",
        "# the records it needs, sends the requests that showed the failure, deletes what it created.",
        "# Needs curl, sed and grep (base64 and gzip for a body printed). Keys come from the environment",
        "# (CONFORMANCE_PARTNER_KEY, CONFORMANCE_DEVELOPER_KEY, CONFORMANCE_SECOND_DEVELOPER_KEY where used);",
        "# the target from CONFORMANCE_BASE_URL.",
        f': "${{CONFORMANCE_BASE_URL:={base}}}"',
    ]
    for index, step in enumerate(steps):
        command = _curl(step, base, variables)
        shows = any(step is item for item in finding.exchanges)
        if shows:
            lines.append("echo " + shell_arg(_live(f">>> {step.method} {step.url}", base, variables)))
        taken = plan.get(index, [])
        if taken:
            lines.append(f"WC_ANSWER=$({command} {SHOWN})")
            if shows:
                lines.append("printf '%s\\n' \"$WC_ANSWER\"")
            for record_id, position in taken:
                name = f"WC_ID_{len(variables) + 1}"
                pick = ID_FROM_ANSWER if position is None else NTH_ID_FROM_ANSWER.format(n=position + 1)
                lines.append(f"{name}=$(printf '%s\\n' \"$WC_ANSWER\" | {pick})")
                variables[record_id] = name
                if position is None:
                    created.append((name, step))
        elif shows:
            lines.append(f"{command} {SHOWN}")
        else:
            lines.append(command if step.method == "HEAD" else f"{command} -o /dev/null")
    lines += [
        f"echo {shlex.quote('expected: ' + finding.expected)}",
        f"echo {shlex.quote('the run saw: ' + finding.actual)}",
    ]
    for name, step in reversed(created):
        keys = {key: value for key, value in step.request_headers.items() if "${CONFORMANCE_" in value}
        delete = Exchange("DELETE", base + ITEM_PATH.format(webHookId=f"${{{name}}}"), keys, None)
        lines.append(f'if [ -n "${{{name}}}" ]; then {_curl(delete, base, {})} -o /dev/null; fi')
    return "\n".join(lines) + "\n"


def sequence_steps(finding: Reproducible) -> list[dict[str, Any]]:
    """The steps of the finding's reproduction as data (report.json's `sequence`): what `shell_script` sends,
    for `conformance replay` to send. A body is its exact text, or its exact bytes packed (`packed_body`)."""
    steps = needed_steps(finding.sequence, finding.exchanges)
    return [
        {
            "method": step.method,
            "url": step.url,
            "request_headers": step.request_headers,
            "request_body": None if step.packed_body is not None else _body(step),
            "packed_body": step.packed_body,
            "status": step.status,
            "response_headers": step.response_headers,
            "response_body": step.response_body,
            "shows": any(step is item for item in finding.exchanges),
        }
        for step in steps
    ]


def step_of(item: dict[str, Any]) -> Exchange:
    """A step of report.json's `sequence` as the exchange it was."""
    return Exchange(
        item["method"],
        item["url"],
        item["request_headers"],
        item["request_body"],
        status=item["status"],
        response_headers=item["response_headers"],
        response_body=item["response_body"],
        full_request_body=item["request_body"],
        packed_body=item["packed_body"],
    )


def _body(step: Exchange) -> str | None:
    """The body as sent, where the evidence holds all of it (the clipped text otherwise)."""
    return step.full_request_body if step.full_request_body is not None else step.request_body


def captures(steps: list[Exchange]) -> dict[int, list[tuple[str, int | None]]]:
    """Which record ids the script captures from which step's answer: every record a step created (position
    None: the create's own id), and every record a later step names that an earlier answer listed (its position
    among the answer's ids), so that the replay names the records of its own run, never the run's old ids."""
    plan: dict[int, list[tuple[str, int | None]]] = defaultdict(list)
    planned: set[str] = set()
    listed: dict[str, tuple[int, int]] = {}  # record id -> the last answer that listed it, and where
    for index, step in enumerate(steps):
        for record_id, (where, position) in list(listed.items()):
            if record_id not in planned and _names(step, record_id):
                plan[where].append((record_id, position))
                planned.add(record_id)
        made = created_id(step)
        if made is not None and made not in planned:
            plan[index].append((made, None))
            planned.add(made)
        for position, record_id in enumerate(ANSWER_ID.findall(step.response_body or "")):
            listed[record_id] = (index, position)
    return plan


def _names(step: Exchange, record_id: str) -> bool:
    """Whether the request names the record: as its path's last segment, or as a JSON string in its body."""
    return urlsplit(step.url).path.rsplit("/", 1)[-1] == record_id or f'"{record_id}"' in (_body(step) or "")


def needed_steps(sequence: list[Exchange], shown: list[Exchange]) -> list[Exchange]:
    """The steps of `sequence` up to the last of the `shown` ones that these need: the shown steps, and before
    them every step that names a record they touch (in its path or body, or as the record it created) or, where
    a shown step lists a shop, a step that names that shop. A shown list of every shop needs every step."""
    showing = [index for index, step in enumerate(sequence) if any(step is item for item in shown)]
    if not showing:
        return sequence
    steps = sequence[: showing[-1] + 1]
    made = {index: made for index, step in enumerate(steps) if (made := created_id(step)) is not None}
    shops: set[str] = set()
    for index in showing:
        if steps[index].method in ("GET", "HEAD") and urlsplit(steps[index].url).path.endswith(COLLECTION_PATH):
            listed = parse_qs(urlsplit(steps[index].url).query).get("shopId")
            if not listed:
                return steps
            shops.update(listed)
    shown_text = " ".join(_said(steps[index]) + (steps[index].response_body or "") for index in showing)
    touched = {made_id for made_id in made.values() if made_id in shown_text}
    touched |= {made[index] for index in made if any(shop in _said(steps[index]) for shop in shops)}
    # A record the shown requests name that an earlier answer listed (not one of the sequence's creates).
    listed = {record for step in steps for record in ANSWER_ID.findall(step.response_body or "")}
    named = {record for record in listed - touched if any(_names(steps[index], record) for index in showing)}

    def needed(index: int) -> bool:
        said = _said(steps[index])
        return (
            index in showing
            or made.get(index) in touched
            or any(record in said for record in touched | named)
            or any(shop in said for shop in shops)
            or any(record in (steps[index].response_body or "") for record in named)
        )

    return [step for index, step in enumerate(steps) if needed(index)]


def _said(step: Exchange) -> str:
    """What a request names: its URL and its body."""
    return f"{step.url} {_body(step) or ''}"


def base_of(url: str) -> str:
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

    # A HEAD answer has no body to wait for: `--head`, its headers not shown.
    method = ["--head -o /dev/null"] if step.method == "HEAD" else ["-X", shlex.quote(step.method)]
    parts = ["curl -sS", *method]
    parts += [header_arg(name, live(value)) for name, value in step.request_headers.items()]
    feed = ""
    if step.body_printer is not None:
        feed = f"{{ {step.body_printer}; }} | "  # the whole command's output, however many parts it prints in
        parts.append("--data-binary @-")
    elif _body(step) is not None:
        parts.append("--data-binary " + shell_arg(live(_body(step) or "")))
    parts.append("--path-as-is " + shell_arg(live(step.url)))  # dot segments as sent, not resolved
    return feed + " ".join(parts)


def created_id(step: Exchange) -> str | None:
    """The id of the record a create made, where the step is an accepted create that named one."""
    if step.method != "POST" or step.status is None or not 200 <= step.status < 300 or not step.response_body:
        return None
    try:
        body = json_text.loads(step.response_body)
    except ValueError:
        return None
    made = body.get("id") if isinstance(body, dict) else None
    return made if isinstance(made, str) and made else None


def unanswered_create(step: Exchange) -> bool:
    """Whether the step is a create that got no answer, or a 5xx: the target may have stored its record all the
    same, and only a list can show it (its id was never given)."""
    return step.method == "POST" and (step.status is None or step.status >= 500)
