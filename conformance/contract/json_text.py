"""JSON text read without deep recursion: the one way the checker and the reference server parse JSON they did not
write themselves.

Python's parser recurses once per nesting level, against the interpreter's recursion limit, which is one number
for every thread. Hypothesis raises it while a test runs (to its depth + 2000) and puts it back when the test ends,
and Schemathesis runs Hypothesis in several threads at once. A thread that is parsing 1,500 levels deep when the
limit drops back to 1,000 does not get a RecursionError: CPython 3.11 aborts the whole process ("Cannot recover
from stack overflow"). The checker sends bodies nested 10,000 deep on purpose, and a target may answer anything,
so neither side ever hands the parser more than `MAX_NESTING` levels at a time:

- `loads` reads any depth: what lies deeper than `MAX_NESTING` is checked to be JSON in pieces of at most that
  depth, and reads as None. No check looks that deep (the contract's deepest field is three levels down), and no
  value the checker holds is deep enough to make a comparison or a copy recurse that far.
- `loads_refusing_deep` raises `TooDeep` instead, as a server that limits nesting does (RFC 8259 section 9).
- `readable` gives another parser (Schemathesis's, inside a run) the text that `loads` reads, as JSON text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

MAX_NESTING = 512  # levels; with a thread's own frames, well below the default recursion limit of 1,000

NOT_JSON_DEEPER_DOWN = b" (not JSON deeper down)"  # ends what `readable` gives for a deep body that is not JSON

# A string (escapes included) or a bracket; anything else in between is skipped.
_STRING_OR_BRACKET = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]', re.DOTALL)


class TooDeep(ValueError):
    """A JSON text nested deeper than `MAX_NESTING` levels."""


def loads(text: str | bytes, *, parse_constant: Callable[[str], Any] | None = None) -> Any:
    """The JSON value of ``text``, as ``json.loads`` reads it, except that every array or object deeper than
    `MAX_NESTING` levels reads as None. ValueError when the text is not JSON, at any depth."""
    return _json_loads(_checked_cut(_text(text), parse_constant), parse_constant)


def loads_refusing_deep(text: str | bytes, *, parse_constant: Callable[[str], Any] | None = None) -> Any:
    """The JSON value of ``text``; `TooDeep` when it is nested deeper than `MAX_NESTING` levels, ValueError when
    it is not JSON."""
    return _json_loads(_refusing_deep(_text(text)), parse_constant)


def first_value(text: str, *, parse_constant: Callable[[str], Any] | None = None) -> Any:
    """The first JSON value in ``text`` (after any whitespace), ignoring what follows it, as ``raw_decode`` does;
    `TooDeep` when the text is nested deeper than `MAX_NESTING` levels."""
    try:
        return json.JSONDecoder(parse_constant=parse_constant).raw_decode(_refusing_deep(text.lstrip()))[0]
    except RecursionError:  # the calling thread was already deep: not JSON it can read
        raise TooDeep("JSON nested too deep for this thread") from None


def readable(body: bytes) -> bytes:
    """``body`` as another parser may read it without deep recursion: itself when it is nested at most
    `MAX_NESTING` levels deep (most bodies: no scan), else the same JSON with every deeper array or object
    replaced by ``null``, as `loads` reads it. A deep body that is not JSON gives a short one that is not JSON
    either."""
    text = body.decode("latin-1")  # byte for byte: every byte that JSON's structure uses is ASCII
    if not _may_be_too_deep(text):
        return body
    try:
        return _checked_cut(text, None).encode("latin-1")
    except ValueError:
        return body[:MAX_NESTING] + NOT_JSON_DEEPER_DOWN


def _checked_cut(text: str, parse_constant: Callable[[str], Any] | None) -> str:
    """``text`` with what lies deeper than `MAX_NESTING` levels as ``null``, each piece cut out checked to be JSON
    (ValueError if one is not)."""
    shallow, deeper = _cut_below(text, MAX_NESTING)
    for piece in deeper:  # each a JSON text of its own, at most MAX_NESTING deep
        _json_loads(piece, parse_constant)
    return shallow


def _refusing_deep(text: str) -> str:
    shallow, deeper = _cut_below(text, MAX_NESTING)
    if deeper:
        raise TooDeep(f"JSON nested deeper than {MAX_NESTING} levels")
    return shallow


def _cut_below(text: str, depth: int) -> tuple[str, list[str]]:
    """``text`` with every array or object that opens at level ``depth`` + 1 replaced by ``null``, and the texts
    replaced, cut the same way in turn (at levels 2 ``depth`` + 1, 3 ``depth`` + 1, ...): no piece is nested
    deeper than ``depth``. One pass; strings are skipped whole, so a bracket inside one counts for nothing.
    ValueError for brackets that cannot match (the text is not JSON: said before any parser recurses)."""
    if not _may_be_too_deep(text, depth):
        return text, []
    cut: list[str] = []
    open_pieces: list[list[str]] = [[]]  # the kept fragments of each piece not yet closed; [0] is the text's own
    fragment_starts = [0]
    level = 0
    for token in _STRING_OR_BRACKET.finditer(text):
        bracket = token.group()
        if bracket in "[{":
            level += 1
            if level > depth and (level - 1) % depth == 0:  # opens a piece of its own
                open_pieces[-1] += [text[fragment_starts[-1] : token.start()], "null"]
                open_pieces.append([])
                fragment_starts.append(token.start())
        elif bracket in "]}":
            if level > depth and (level - 1) % depth == 0:  # closes one
                cut.append("".join(open_pieces.pop()) + text[fragment_starts.pop() : token.end()])
                fragment_starts[-1] = token.end()
            level -= 1
            if level < 0:
                raise ValueError("not JSON: a closing bracket that closes nothing")
    if len(open_pieces) > 1:
        raise ValueError("not JSON: an array or object that never closes")
    return "".join(open_pieces[0]) + text[fragment_starts[0] :], cut


def _may_be_too_deep(text: str, depth: int = MAX_NESTING) -> bool:
    """False when the text has too few brackets to be nested deeper than ``depth`` (most texts: no scan)."""
    return text.count("[") + text.count("{") > depth


def _json_loads(text: str, parse_constant: Callable[[str], Any] | None) -> Any:
    try:
        return json.loads(text, parse_constant=parse_constant)
    except RecursionError:  # the calling thread was already deep: not JSON it can read
        raise TooDeep("JSON nested too deep for this thread") from None


def _text(text: str | bytes) -> str:
    if isinstance(text, bytes):
        return text.decode(json.detect_encoding(text), "surrogatepass")
    return text
