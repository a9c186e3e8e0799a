"""The hand-written OpenAPI spec of the Partner WebHooks API: where it is, what it says, which copy it is.

The spec lives at the top of the repository (`openapi/partner-webhooks.yaml`, it is the contract); an
installed wheel carries a copy inside the package (`conformance/openapi/`, see pyproject's force-include).
"""

from __future__ import annotations

import copy
import hashlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

SPEC_FILENAME = "partner-webhooks.yaml"

_PACKAGE_DIR = Path(__file__).resolve().parents[1]  # the `conformance` package


class SpecError(ValueError):
    """The spec file is missing, unreadable, not YAML, or not an OpenAPI 3 document (one-line message)."""


@dataclass(frozen=True)
class SpecInfo:
    """Which spec a run used: its file, its title and API version, and the SHA-256 of its bytes."""

    path: Path
    title: str
    version: str
    sha256: str


def spec_path() -> Path:
    """The spec file: the copy inside an installed wheel, else the one at the top of a source checkout."""
    installed = _PACKAGE_DIR / "openapi" / SPEC_FILENAME
    if installed.is_file():
        return installed
    return _PACKAGE_DIR.parent / "openapi" / SPEC_FILENAME


def load_spec(path: Path | None = None) -> dict[str, Any]:
    """The spec as a dict; ``path`` defaults to :func:`spec_path`.

    Raises :class:`SpecError` when the file cannot be read, is not YAML, or is not an OpenAPI 3 document.
    The spec is not validated further here: openapi-spec-validator is a development dependency only.
    """
    path = path or spec_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError(f"OpenAPI spec not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(f"cannot read OpenAPI spec {path}: {_one_line(exc)}") from None
    try:
        document = copy.deepcopy(parse_yaml(text))  # callers (Schemathesis) may change what they get
    except yaml.YAMLError as exc:
        raise SpecError(f"OpenAPI spec {path} is not valid YAML: {_yaml_problem(exc)}") from None
    if not isinstance(document, dict):
        raise SpecError(f"OpenAPI spec {path} is not an OpenAPI 3 document: it is not a mapping")
    openapi = document.get("openapi")
    if not isinstance(openapi, str) or not openapi.startswith("3."):
        raise SpecError(f"OpenAPI spec {path} is not an OpenAPI 3 document: `openapi` is {openapi!r}")
    info = document.get("info")
    if not isinstance(info, dict) or not isinstance(info.get("version"), str):
        raise SpecError(f"OpenAPI spec {path} is not an OpenAPI 3 document: it has no `info.version` string")
    if not isinstance(document.get("paths"), dict):
        raise SpecError(f"OpenAPI spec {path} is not an OpenAPI 3 document: it has no `paths` mapping")
    return document


@lru_cache(maxsize=4)
def parse_yaml(text: str) -> Any:
    """YAML, read with libyaml's loader when present: the pure-Python one takes most of a second for the spec (and
    30 ms for the requirement catalogue, which every command reads)."""
    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def spec_version(spec: dict[str, Any]) -> str:
    """The version of the API that the spec describes (``info.version``, e.g. ``"1.0.0"``)."""
    return str(spec["info"]["version"])


def spec_sha256(path: Path | None = None) -> str:
    """The SHA-256 of the spec file's bytes, as 64 lowercase hex digits; it names the exact copy a run used."""
    path = path or spec_path()
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError as exc:
        raise SpecError(f"cannot read OpenAPI spec {path}: {_one_line(exc)}") from None


def spec_info(path: Path | None = None) -> SpecInfo:
    """Path, title, API version and SHA-256 of the spec; ``path`` defaults to :func:`spec_path`."""
    path = path or spec_path()
    spec = load_spec(path)
    return SpecInfo(
        path=path,
        title=str(spec["info"].get("title", "")),
        version=spec_version(spec),
        sha256=spec_sha256(path),
    )


def _one_line(exc: BaseException) -> str:
    return " ".join(str(getattr(exc, "strerror", None) or exc).split())


def _yaml_problem(exc: yaml.YAMLError) -> str:
    # PyYAML's str() spans several lines with a caret drawing; keep the problem and where it is.
    problem = getattr(exc, "problem", None) or exc.__class__.__name__
    mark = getattr(exc, "problem_mark", None)
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    return " ".join(f"{problem}{where}".split())
