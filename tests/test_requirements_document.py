"""docs/requirements.md is the catalogue and the spec rendered: committed, current, and linked from every report."""

from __future__ import annotations

import copy
from pathlib import Path

from conformance.contract.catalogue import catalogue, groups
from conformance.contract.document import REGENERATE, REQUIREMENTS_DOCUMENT, render
from conformance.contract.spec import load_spec

ROOT = Path(__file__).resolve().parents[1]


def test_the_committed_requirements_document_is_current() -> None:
    committed = (ROOT / REQUIREMENTS_DOCUMENT).read_text(encoding="utf-8")
    assert committed == render(), f"docs/requirements.md is stale: run `{REGENERATE}`"


def test_the_document_states_every_requirement_once_under_its_group() -> None:
    text = render()
    for item in catalogue():
        assert text.count(f"- **{item.id} {item.level}** {item.text}\n") == 1, item.id
    headings = [line for line in text.splitlines() if line.startswith("## ")]
    assert [heading.split(" - ")[0][3:] for heading in headings[1:-1]] == [group.title for group in groups()]


def test_the_document_follows_the_spec() -> None:
    spec = copy.deepcopy(load_spec())
    spec["info"]["version"] = "2.0.0"
    spec["components"]["schemas"]["PartnerWebHook"]["properties"]["secret"] = {"type": "string", "readOnly": True}
    text = render(spec)
    assert text.startswith("# Partner WebHooks API 2.0.0: requirements\n")
    assert "| `secret` | string | server |" in text


def test_the_readme_links_the_requirements_document() -> None:
    assert f"]({REQUIREMENTS_DOCUMENT})" in (ROOT / "README.md").read_text(encoding="utf-8")
