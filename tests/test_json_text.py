"""JSON text read without deep recursion (`conformance.contract.json_text`)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from conformance.contract.json_text import MAX_NESTING, TooDeep, first_value, loads, loads_refusing_deep, readable

ORDINARY = [
    '{"id": "a", "webHookUrls": ["https://hooks.example.com/x"], "shopId": null}',
    '{"items": [{"id": "1"}, {"id": "2"}], "total": 2}',
    '"a string with [brackets] and {braces} and an escaped quote \\" ]]"',
    '[1, -0, 1.5e3, true, false, null, "\\u005b", {}]',
    '  {"nested": {"deeper": [1, "two", null]}}  ',
    "[" * MAX_NESTING + "]" * MAX_NESTING,
]


def nested(depth: int, inner: str = "") -> str:
    return "[" * depth + inner + "]" * depth


def depth_of(value: object) -> int:
    depth = 0
    while isinstance(value, list):
        value, depth = (value[0] if value else None), depth + 1
    return depth


@pytest.mark.parametrize("text", ORDINARY)
def test_a_text_within_the_nesting_limit_reads_as_json_loads_reads_it(text: str) -> None:
    assert loads(text) == json.loads(text)
    assert loads_refusing_deep(text) == json.loads(text)


def test_what_lies_deeper_than_the_limit_reads_as_none_and_the_rest_is_kept() -> None:
    value = loads('{"id": "a", "deep": ' + nested(10_000, "1") + ', "after": [2]}')

    assert value["id"] == "a" and value["after"] == [2]
    assert depth_of(value["deep"]) == MAX_NESTING - 1  # the record is level 1
    assert loads(nested(10_000)) == loads(nested(MAX_NESTING + 1))


def test_brackets_inside_strings_count_for_nothing() -> None:
    text = nested(MAX_NESTING - 1, '"]]]]" , "[[[[" , "\\"]"')

    assert loads(text) == json.loads(text)


@pytest.mark.parametrize(
    "text",
    [
        nested(5_000, "1,"),  # a trailing comma, deep down
        nested(5_000, "NaN"),  # not JSON for a caller that refuses the constants
        nested(5_000)[:-1],  # one bracket never closed
        nested(5_000) + "]",  # one bracket too many
        "[" * 5_000 + "}" * 5_000,  # brackets that do not match
        '["' + "[" * 5_000,  # a string never closed
        nested(5_000) + " trailing",
    ],
)
def test_a_deep_text_that_is_not_json_anywhere_is_a_value_error(text: str) -> None:
    with pytest.raises(ValueError):
        loads(text, parse_constant=_refuse)
    with pytest.raises(ValueError):
        loads_refusing_deep(text, parse_constant=_refuse)


def test_a_server_may_refuse_what_is_nested_deeper_than_the_limit() -> None:
    assert loads_refusing_deep(nested(MAX_NESTING)) is not None
    with pytest.raises(TooDeep):
        loads_refusing_deep(nested(MAX_NESTING + 1))
    with pytest.raises(TooDeep):
        first_value(nested(100_000) + " trailing data")
    assert first_value('  {"a": 1} trailing data') == {"a": 1}


def test_a_megabyte_of_brackets_reads_in_one_pass() -> None:
    """A megabyte of nesting is cut in one pass, not one pass per level (which would take minutes)."""
    assert loads(nested(500_000).encode()) == loads(nested(MAX_NESTING + 1))


def test_what_another_parser_is_handed_reads_as_loads_reads_the_original() -> None:
    """Schemathesis parses answers with `json.loads`: it gets the same JSON, no deeper than the limit."""
    shallow = b'{"id": "a", "u": ["x"]}'
    deep = ('{"id": "\\u00e9t\u00e9", "wcEcho": ' + nested(10_000) + "}").encode()

    assert readable(shallow) is shallow
    assert json.loads(readable(deep)) == loads(deep)
    assert loads(deep)["id"] == "\u00e9t\u00e9" and depth_of(loads(deep)["wcEcho"]) == MAX_NESTING - 1


@pytest.mark.parametrize("deep", [nested(5_000, "1,"), nested(5_000)[:-1], "[1]" + "]" * 600])
def test_what_another_parser_is_handed_for_deep_text_that_is_not_json_is_not_json(deep: str) -> None:
    handed = readable(deep.encode())

    assert handed.count(b"[") + handed.count(b"{") <= MAX_NESTING + 1  # no deeper than the limit (and null's)
    with pytest.raises(ValueError):
        json.loads(handed)


# A thread parses deep down while another lowers the recursion limit, as Hypothesis does in Schemathesis's workers
# when a test ends: the hook, called by the parser at the NaN deep inside, makes that happen at a known moment.
LIMIT_DROPS_MID_PARSE = """
import sys
import threading

from conformance.contract.json_text import loads

sys.setrecursionlimit(3000)

def lower_the_limit_elsewhere(name):
    other = threading.Thread(target=sys.setrecursionlimit, args=(1000,))
    other.start()
    other.join()
    return 0

value = loads("[" * 1500 + "NaN, [NaN]" + "]" * 1500, parse_constant=lower_the_limit_elsewhere)
print("read", value is not None)
"""


def test_the_recursion_limit_dropping_mid_parse_does_not_abort_the_interpreter() -> None:
    """With `json.loads`, CPython 3.11 aborts here ("Cannot recover from stack overflow"): the crash of a whole
    run that this module exists for."""
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(LIMIT_DROPS_MID_PARSE)], capture_output=True, text=True, timeout=60
    )

    assert (result.returncode, result.stdout.strip()) == (0, "read True"), result.stderr[-2000:]


def _refuse(name: str) -> object:
    raise ValueError(f"{name} is not JSON")
