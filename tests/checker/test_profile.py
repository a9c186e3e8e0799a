"""Options come from flags, then the environment, then a config file; bad values are one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.checker.options import (
    AUTO,
    MAX_AUTO_CONCURRENCY,
    MS_PER_PLACE,
    NEAR_TARGET_MS,
    NETWORK_CONCURRENCY,
    ConfigError,
    auto_concurrency,
    resolve_options,
)
from conformance.checker.profile import make_options, make_profile


def test_flags_win_over_environment_and_file(tmp_path: Path) -> None:
    (tmp_path / "conformance.toml").write_text('budget = "deep"\nbase_url = "http://file.example"\n')
    merged = resolve_options(
        {"budget": "quick"}, environ={"CONFORMANCE_BASE_URL": "http://env.example"}, directory=tmp_path
    )
    assert merged["budget"] == "quick"
    assert merged["base_url"] == "http://env.example"


def test_pyproject_table_is_read(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.conformance]\nseed = 7\nshop-ids = ["a", "b"]\n')
    merged = resolve_options({}, environ={}, directory=tmp_path)
    assert merged["seed"] == 7
    assert merged["shop_id"] == ("a", "b")


def test_unknown_option_in_config_file_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "conformance.toml").write_text("bugdet = 'quick'\n")
    with pytest.raises(ConfigError, match="bugdet"):
        resolve_options({}, environ={}, directory=tmp_path)


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        ({"budget": "huge"}, "--budget"),
        ({"rate_limit": "fast"}, "--rate-limit"),
        ({"timeout": "0"}, "--timeout"),
        ({"seed": "x"}, "--seed"),
        ({"only": "NOPE-01"}, "NOPE-01"),
    ],
)
def test_bad_option_values_are_config_errors(tmp_path: Path, flags: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        resolve_options(flags, environ={}, directory=tmp_path)


def test_only_accepts_groups_and_ids(tmp_path: Path) -> None:
    merged = resolve_options({"only": "list, AUTH-01"}, environ={}, directory=tmp_path)
    assert "LIST-03" in merged["only"]
    assert "AUTH-01" in merged["only"]
    assert "AUTH-02" not in merged["only"]


def test_rate_limit_reads_per_second(tmp_path: Path) -> None:
    assert resolve_options({"rate_limit": "2.5/s"}, environ={}, directory=tmp_path)["rate_limit"] == 2.5


@pytest.mark.parametrize("url", ["ftp://example.com", "example.com", "http://", "http://h/?q=1"])
def test_base_url_must_be_absolute_http(url: str) -> None:
    with pytest.raises(ConfigError, match="--base-url"):
        make_profile({"base_url": url, "partner_key": "p", "developer_key": "d"})


def test_keys_are_required_with_a_base_url() -> None:
    with pytest.raises(ConfigError, match="CONFORMANCE_PARTNER_KEY"):
        make_profile({"base_url": "https://staging.example.com", "developer_key": "d"})


def test_second_key_must_differ_from_the_first() -> None:
    with pytest.raises(ConfigError, match="another company"):
        make_profile(
            {"base_url": "https://x.example", "partner_key": "p", "developer_key": "d", "second_developer_key": "d"}
        )


def test_profile_names_each_secret_by_its_variable() -> None:
    profile = make_profile(
        {"base_url": "https://x.example/", "partner_key": "p1", "developer_key": "d1", "second_developer_key": "d2"}
    )
    assert profile.base_url == "https://x.example"
    assert profile.secrets() == {
        "p1": "CONFORMANCE_PARTNER_KEY",
        "d1": "CONFORMANCE_DEVELOPER_KEY",
        "d2": "CONFORMANCE_SECOND_DEVELOPER_KEY",
    }


def test_default_options() -> None:
    options = make_options({})
    assert options.budget == "standard"
    assert options.report_dir == Path("reports")
    assert not options.strict


def test_concurrency_is_auto_by_default_or_a_whole_number(tmp_path: Path) -> None:
    assert make_options(resolve_options({}, environ={}, directory=tmp_path)).concurrency == AUTO
    assert resolve_options({"concurrency": "Auto"}, environ={}, directory=tmp_path)["concurrency"] == AUTO
    assert resolve_options({"concurrency": "3"}, environ={}, directory=tmp_path)["concurrency"] == 3
    with pytest.raises(ConfigError, match="must be auto or a whole number from 1 to 32, not '0'"):
        resolve_options({"concurrency": "0"}, environ={}, directory=tmp_path)


def test_auto_concurrency_is_one_for_a_near_target_and_grows_with_the_round_trip_across_a_network() -> None:
    """The fastest answer decides (the first of a connection also waits for the connect); none: a network. Across
    a network, one request in flight per 4 ms of it: 8 at least, 16 at most."""
    assert auto_concurrency([3.4, 0.9, 1.2])[0] == 1
    assert auto_concurrency([NEAR_TARGET_MS + 0.1, 52.0])[0] == NETWORK_CONCURRENCY
    assert [auto_concurrency([ms])[0] for ms in (10.0, 35.9, 52.3, 60.0, 64.0, 250.0)] == [8, 8, 13, 15, 16, 16]
    assert MS_PER_PLACE * MAX_AUTO_CONCURRENCY == 64.0
    assert "answered in 52.3 ms at best: requests go side by side, one in flight per 4 ms" in (
        auto_concurrency([52.3, 80.0])[1]
    )
    level, why = auto_concurrency([])
    assert (level, why) == (NETWORK_CONCURRENCY, "no answer time measured")
    assert "answered in 0.9 ms" in auto_concurrency([0.94])[1]


def test_auto_runs_the_bundled_reference_server_one_request_at_a_time(tmp_path: Path, monkeypatch) -> None:
    """It runs in the checker's own process: no network to wait on. Its answers, sharing the interpreter with the
    run, took 1.5 to 2.5 ms on a slower host, and `make run` went at 8 now and then, twice as long."""
    from conformance.checker import runner

    monkeypatch.setattr(runner, "auto_concurrency", lambda answered: (NETWORK_CONCURRENCY, "as if it were slow"))
    merged = resolve_options({"budget": "quick", "only": "LIST-05"}, environ={}, directory=tmp_path)

    outcome = runner.run(make_options(merged), merged)

    assert outcome.reference_server and outcome.error is None
    assert "--concurrency auto: 1 (the bundled reference server runs in this process: one request at a time)" in (
        outcome.notes
    )
