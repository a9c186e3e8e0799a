"""Evidence never holds a key, and its curl command reproduces the request with the env variables."""

from __future__ import annotations

import os
import shlex
import subprocess

from conformance.checker.evidence import Exchange, Redactor, clip


def test_redactor_replaces_keys_with_variable_references() -> None:
    redact = Redactor({"s3cret": "CONFORMANCE_PARTNER_KEY", "s3cret-long": "CONFORMANCE_DEVELOPER_KEY"})
    assert redact("a s3cret-long and s3cret") == "a ${CONFORMANCE_DEVELOPER_KEY} and ${CONFORMANCE_PARTNER_KEY}"


def test_clip_says_how_much_was_left_out() -> None:
    assert clip("x" * 10, 4) == "xxxx... [6 more characters]"
    assert clip("short", 10) == "short"


def test_curl_command_expands_keys_from_the_environment_and_keeps_the_body_literal() -> None:
    exchange = Exchange(
        "POST",
        "http://127.0.0.1:9/api/v1/partner/webHooks?x=1&y=2",
        {"x-api-key": "${CONFORMANCE_PARTNER_KEY}x", "Content-Type": "application/json"},
        '{"a": "it\'s $HOME `id`"}',
    )
    command = exchange.curl()
    # Let a shell parse it (echo instead of curl) with the variable set: keys expand, the body does not.
    echoed = subprocess.run(
        ["bash", "-c", "printf '%s\\n' " + command.removeprefix("curl ")],
        capture_output=True,
        text=True,
        env={**os.environ, "CONFORMANCE_PARTNER_KEY": "KEY"},
        check=True,
    ).stdout.splitlines()
    assert "x-api-key: KEYx" in echoed
    assert '{"a": "it\'s $HOME `id`"}' in echoed
    assert echoed[-1] == "http://127.0.0.1:9/api/v1/partner/webHooks?x=1&y=2"
    assert shlex.split(command)[0] == "curl"
