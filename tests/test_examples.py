"""The CI examples and the README's commands: valid YAML, and every command they run is a real one."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

from conformance.faces.cli import build_parser
from conformance.faces.pytest_plugin import plugin_options

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


def _shell_lines(job: dict[str, Any]) -> list[str]:
    """The shell lines a GitHub Actions job (its steps' `run`) or a GitLab CI job (`script`s) runs."""
    lines = [step["run"] for step in job.get("steps", []) if "run" in step]
    lines += job.get("before_script", []) + job.get("script", []) + job.get("after_script", [])
    return [line for text in lines for line in text.splitlines()]


def _jobs() -> list[dict[str, Any]]:
    github = yaml.safe_load((EXAMPLES / "github-actions.yml").read_text(encoding="utf-8"))
    gitlab = yaml.safe_load((EXAMPLES / "gitlab-ci.yml").read_text(encoding="utf-8"))
    return [*github["jobs"].values(), gitlab["conformance"]]


def _conformance_commands(lines: list[str]) -> list[list[str]]:
    return [shlex.split(line)[1:] for line in lines if re.match(r"(\.venv/bin/)?conformance run\b", line.strip())]


def test_each_example_runs_the_checker_with_real_flags() -> None:
    for job in _jobs():
        commands = _conformance_commands(_shell_lines(job))
        assert commands, job
        for argv in commands:
            build_parser().parse_args(argv)  # exits (SystemExit) on a flag the CLI does not have


@pytest.mark.parametrize("name", ["github-actions.yml", "gitlab-ci.yml"])
def test_the_baseline_commands_each_example_suggests_are_real(name: str) -> None:
    comments = [line.lstrip("# ") for line in (EXAMPLES / name).read_text(encoding="utf-8").splitlines()]
    commands = _conformance_commands([line.split("  (")[0] for line in comments if line.startswith("conformance")])
    assert [argv for argv in commands if "--baseline" in argv and "--update-baseline" in argv]
    for argv in commands:
        build_parser().parse_args(argv)


def test_each_example_keeps_the_reports_whatever_the_verdict() -> None:
    github, gitlab = _jobs()
    upload = next(step for step in github["steps"] if step.get("uses", "").startswith("actions/upload-artifact"))
    assert upload["if"] == "always()" and upload["with"]["path"] == "reports/"
    assert gitlab["artifacts"]["when"] == "always" and "reports/" in gitlab["artifacts"]["paths"]


def test_the_github_example_writes_the_markdown_report_into_the_step_summary() -> None:
    github, _ = _jobs()
    summary = [line for line in _shell_lines(github) if "GITHUB_STEP_SUMMARY" in line]
    assert summary and "reports/report.md" in summary[0]


def test_the_readme_commands_are_real() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Use it", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"`((?:pytest|conformance) [^`]+)`", section)
    plugin_flags = {option.plugin_flag for option in plugin_options()}
    assert any(command.startswith("pytest --pyargs conformance.suite") for command in commands)
    for command in commands:
        argv = shlex.split(command)
        if argv[0] == "conformance":
            build_parser().parse_args(argv[1:])
        else:
            assert {flag for flag in argv if flag.startswith("--conformance-")} <= plugin_flags


@pytest.mark.parametrize("name", ["github-actions.yml", "gitlab-ci.yml"])
def test_the_readme_links_each_example(name: str) -> None:
    assert f"(examples/{name})" in (ROOT / "README.md").read_text(encoding="utf-8")
