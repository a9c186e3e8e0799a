"""Every option of the table round-trips through every place it is used: its flag of `conformance run`, its
`CONFORMANCE_*` variable and its config-file key each give the same value in TargetProfile or RunOptions; from
there the report's options and the rerun command carry it (parsed back, it is the same again), but for the
documented exclusions (keys, the run id, ...); the report schema and the pytest plugin know it; and the
generated documents (README's table, the schema's options) are current.

A generated document that is out of date is regenerated with `python tests/checker/test_option_table.py`.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from conformance.checker.options import (
    OPTIONS,
    RUN_OPTIONS,
    TARGET_OPTIONS,
    Option,
    carried_from_report,
    markdown_table,
    report_options,
    rerun_arguments,
    resolve_options,
)
from conformance.checker.profile import RunOptions, TargetProfile, make_options, make_profile, values_of
from conformance.checker.runner import error_outcome
from conformance.faces.cli import build_parser
from conformance.faces.pytest_plugin import plugin_options, pytest_addoption
from conformance.reports import _options, rerun_command
from conformance.reports.schema import SCHEMA_FILENAME, report_schema, schema_errors, with_current_options

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = ROOT / "conformance" / "reports" / SCHEMA_FILENAME
README = ROOT / "README.md"
README_START = (
    "<!-- options: generated from conformance/checker/options.py (python tests/checker/test_option_table.py) -->"
)
README_END = "<!-- /options -->"
KEYS = {"partner_key": "p-secret", "developer_key": "d-secret"}  # make_profile needs both

# One value per option, as a user types it (not the default, so that a rerun must carry it), and the value it
# gives in TargetProfile/RunOptions. A new option must be added here: `test_every_option_has_a_sample` says so.
SAMPLES: dict[str, tuple[Any, Any]] = {
    "base_url": ("http://target.example:8080/api", "http://target.example:8080/api"),
    "partner_key": ("p-secret", "p-secret"),
    "developer_key": ("d-secret", "d-secret"),
    "second_developer_key": ("d2-secret", "d2-secret"),
    "partner_key_header": ("partner_key", "partner_key"),
    "shop_id": (["shop a", "shop-b"], ("shop a", "shop-b")),
    "rate_limit": ("2.5/s", 2.5),
    "timeout": ("3", 3.0),
    "spec": ("my specs/spec.yaml", Path("my specs/spec.yaml")),
    "report_dir": ("out dir", Path("out dir")),
    "run_id": ("ci-job-42", "ci-job-42"),
    "seed": ("42", 42),
    "budget": ("deep", "deep"),
    "strict": (True, True),
    "only": ("LIST-03,AUTH-01", frozenset({"LIST-03", "AUTH-01"})),
    "skip": ("LIST-04", frozenset({"LIST-04"})),
    "baseline": ("known.json", Path("known.json")),
    "update_baseline": (True, True),
    "read_only": (True, True),
    "require_complete": (True, True),
    "concurrency": ("3", 3),
}


def _argv(option: Option, given: Any, flag: str) -> list[str]:
    if option.kind.switch:
        return [flag]
    items = given if isinstance(given, list) else [given]
    return [word for item in items for word in (flag, str(item))]


def _run_flags(argv: list[str]) -> dict[str, Any]:
    """`conformance run ARGV` parsed by the real command line, as the run face hands it on."""
    parsed = vars(build_parser().parse_args(["run", *argv]))
    return {name: value for name, value in parsed.items() if name not in ("handler", "command", "quiet")}


def _field(merged: dict[str, Any], option: Option) -> Any:
    """The option's value in the profile or run options made from merged values."""
    if option.target:
        return getattr(make_profile({"base_url": "http://t.example"} | KEYS | merged), option.field)
    return getattr(make_options({"baseline": "known.json"} | merged), option.field)


def _everything(tmp_path: Path) -> tuple[TargetProfile, RunOptions, dict[str, Any]]:
    merged = resolve_options({name: given for name, (given, _) in SAMPLES.items()}, environ={}, directory=tmp_path)
    return make_profile(merged), make_options(merged), merged


def test_every_option_has_a_sample() -> None:
    assert set(SAMPLES) == set(OPTIONS)


@pytest.mark.parametrize("name", list(OPTIONS))
def test_the_flag_the_variable_and_the_config_file_give_the_same_value(name: str, tmp_path: Path) -> None:
    option = OPTIONS[name]
    given, expected = SAMPLES[name]
    from_flag = resolve_options(_run_flags(_argv(option, given, option.flag)), environ={}, directory=tmp_path)
    text = ",".join(given) if isinstance(given, list) else "true" if given is True else given
    from_environment = resolve_options({}, environ={option.variable: text}, directory=tmp_path)
    key = option.file_keys[-1]  # the dashed spelling, as a TOML file writes it
    value = f'"{given}"' if isinstance(given, str) else str(given).lower() if given is True else repr(given)
    (tmp_path / "conformance.toml").write_text(f"{key} = {value.replace(chr(39), chr(34))}\n", encoding="utf-8")
    from_file = resolve_options({}, environ={}, directory=tmp_path)
    for merged in (from_flag, from_environment, from_file):
        assert _field(merged, option) == expected


@pytest.mark.parametrize("name", [option.name for option in plugin_options()])
def test_the_plugin_flag_gives_the_same_value(name: str, tmp_path: Path, pytestconfig: pytest.Config) -> None:
    option = OPTIONS[name]
    given, expected = SAMPLES[name]
    parser = argparse.ArgumentParser()

    class Group:  # pytest's parser.getgroup(...).addoption, onto argparse
        def getgroup(self, *names: str) -> Group:
            return self

        def addoption(self, *flags: str, **settings: Any) -> None:
            parser.add_argument(*flags, **settings)

    pytest_addoption(Group())  # type: ignore[arg-type]
    parsed = vars(parser.parse_args(_argv(option, given, option.plugin_flag or "")))
    flags = {item.name: parsed[f"conformance_{item.name}"] for item in plugin_options()}
    assert _field(resolve_options(flags, environ={}, directory=tmp_path), option) == expected
    assert pytestconfig.getoption(f"conformance_{name}", default="absent") != "absent"  # this session has it too


def test_only_selection_is_left_to_pytest() -> None:
    assert {option.name for option in OPTIONS.values() if not option.plugin_flag} == {"only", "skip"}


def test_the_report_shows_every_option_but_the_excluded_and_keys_only_as_references(tmp_path: Path) -> None:
    profile, options, _ = _everything(tmp_path)
    shown = report_options(values_of(profile, options))
    assert set(shown) == {option.field for option in OPTIONS.values() if not option.not_reported}
    assert {option.name for option in OPTIONS.values() if option.not_reported} == {"report_dir"}
    for option in OPTIONS.values():
        if option.secret:
            assert shown[option.field] == "${" + option.variable + "}"
    assert "secret" not in repr(shown)
    assert shown["read_only"] is True and shown["require_complete"] is True


def test_a_rerun_gives_every_option_again_but_the_documented_exclusions(tmp_path: Path) -> None:
    profile, options, merged = _everything(tmp_path)
    arguments = rerun_arguments(values_of(profile, options))
    again = resolve_options(_run_flags(shlex.split(" ".join(arguments))), environ={}, directory=tmp_path)
    excluded = {option.name for option in OPTIONS.values() if option.not_rerun}
    assert excluded == {
        "partner_key",
        "developer_key",
        "second_developer_key",
        "report_dir",
        "run_id",
        "only",
        "skip",
        "baseline",
        "update_baseline",
    }
    assert set(again) == set(OPTIONS) - excluded
    for name in again:
        assert again[name] == merged[name], name
    assert "--read-only" in arguments
    assert not any("secret" in argument for argument in arguments)


def test_a_rerun_leaves_out_what_is_at_its_default() -> None:
    assert rerun_arguments(values_of(make_profile({"base_url": "http://t.example"} | KEYS), RunOptions())) == [
        "--base-url",
        "http://t.example",
    ]


def test_the_report_of_a_run_replays_with_the_same_options(tmp_path: Path) -> None:
    """What `conformance replay` carries from a report: every target and run option a rerun carries."""
    profile, options, merged = _everything(tmp_path)
    shown = report_options(values_of(profile, options))
    carried = carried_from_report(shown, TARGET_OPTIONS) | carried_from_report(shown, RUN_OPTIONS)
    assert carried == {name: merged[name] for name in carried}
    assert carried["read_only"] is True and carried["shop_id"] == ("shop a", "shop-b")


@pytest.mark.parametrize("reference_server", [False, True])
def test_read_only_survives_into_the_report_and_every_rerun(reference_server: bool) -> None:
    """Issue 11: a rerun of a read-only run must not write to a target the user said must not change."""
    outcome = error_outcome("a made-up run", RunOptions(read_only=True, budget="quick"))
    outcome.profile = make_profile({"base_url": "http://t.example"} | KEYS)
    outcome.reference_server = reference_server
    assert _options(outcome)["read_only"] is True
    rerun = shlex.split(rerun_command(outcome, "LIST-03", 7))
    assert "--read-only" in rerun and rerun[-2:] == ["--only", "LIST-03"]
    assert ("--base-url" in rerun) is not reference_server  # the bundled server of the run is gone


def test_every_reported_option_is_in_the_shipped_schema_and_a_report_of_them_validates(tmp_path: Path) -> None:
    properties = report_schema()["$defs"]["run"]["properties"]["options"]["properties"]
    assert {option.field for option in OPTIONS.values() if not option.not_reported} == set(properties)
    profile, options, _ = _everything(tmp_path)
    outcome = error_outcome("a made-up run", replace(options, seed=3, run_id="ci-job-42"))
    outcome.profile = profile
    from conformance.reports import build_report

    assert schema_errors(build_report(outcome)) == []


def test_the_shipped_schema_options_are_generated_from_the_table() -> None:
    text = SCHEMA.read_text(encoding="utf-8")
    assert with_current_options(text) == text, "regenerate: python tests/checker/test_option_table.py"


def _readme_with_current_table(text: str) -> str:
    before, rest = text.split(README_START + "\n", 1)
    _, after = rest.split(README_END, 1)
    return f"{before}{README_START}\n{markdown_table()}\n{README_END}{after}"


def test_the_readme_option_table_is_generated_from_the_table() -> None:
    text = README.read_text(encoding="utf-8")
    assert _readme_with_current_table(text) == text, "regenerate: python tests/checker/test_option_table.py"
    for option in OPTIONS.values():
        assert f"| `{option.flag}" in text and f"| `{option.variable}` |" in text


if __name__ == "__main__":  # regenerate the documents generated from the option table
    SCHEMA.write_text(with_current_options(SCHEMA.read_text(encoding="utf-8")), encoding="utf-8")
    README.write_text(_readme_with_current_table(README.read_text(encoding="utf-8")), encoding="utf-8")
    sys.exit(0)
