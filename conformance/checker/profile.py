"""The target profile: everything about how to reach the target, in one place, and the run's other options.

Both are made from the merged option values (`options.resolve_options`: flags, then `CONFORMANCE_*`
environment variables, then a config file); each field, its default and how it is given is one row of the
option table (`options.OPTIONS`). Nothing about the target is hard-wired anywhere else.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from conformance.checker.options import OPTIONS, RUN_OPTIONS, TARGET_OPTIONS, ConfigError, default_of


@dataclass(frozen=True)
class Credentials:
    """The two key values one identity sends; None means the header is left out."""

    partner_key: str | None
    developer_key: str | None


@dataclass(frozen=True)
class TargetProfile:
    """How to reach the target and who to be there."""

    base_url: str
    partner_key: str
    developer_key: str
    second_developer_key: str | None = default_of("second_developer_key")
    partner_key_header: str = default_of("partner_key_header")
    shop_ids: tuple[str, ...] = default_of("shop_id")
    rate_limit: float | None = default_of("rate_limit")  # requests per second, None for no limit
    timeout: float = default_of("timeout")  # seconds per request

    @property
    def primary(self) -> Credentials:
        return Credentials(self.partner_key, self.developer_key)

    @property
    def second(self) -> Credentials | None:
        if self.second_developer_key is None:
            return None
        return Credentials(self.partner_key, self.second_developer_key)

    @property
    def identities(self) -> list[Credentials]:
        """Who the run is: the developer key's identity, and the second developer key's where there is one."""
        return [who for who in (self.primary, self.second) if who is not None]

    def secrets(self) -> dict[str, str]:
        """Each secret value and the environment variable a reproduction names instead of it."""
        named = {getattr(self, option.field): option.variable for option in TARGET_OPTIONS if option.secret}
        return {value: name for value, name in named.items() if value}


@dataclass(frozen=True)
class RunOptions:
    """How to run: everything that is not about the target."""

    spec: Path | None = default_of("spec")
    report_dir: Path = default_of("report_dir")
    seed: int | None = default_of("seed")
    budget: str = default_of("budget")
    strict: bool = default_of("strict")
    only: frozenset[str] = default_of("only")
    skip: frozenset[str] = default_of("skip")
    quiet: bool = False
    engines: tuple[str, ...] = ()  # run only the engines with these names (library use; empty: all)
    baseline: Path | None = default_of("baseline")  # the known failures: only one not listed fails the run
    update_baseline: bool = default_of("update_baseline")  # write this run's failures into `baseline`
    read_only: bool = default_of("read_only")  # send no request that writes: the checks that write are not-run
    require_complete: bool = default_of("require_complete")  # an `incomplete` verdict exits 3, not 0
    run_id: str | None = default_of("run_id")  # marks every record the run writes (`marks`); None: a fresh one
    checks: frozenset[str] = frozenset()  # run only the scenarios with these names (library use: replay)
    machine_steps: tuple[dict[str, Any], ...] = ()  # the lifecycle takes these steps of one example (replay)
    concurrency: int | str = default_of("concurrency")  # requests in flight at most (`side_by_side`), or "auto"


def target_words(base_url: str | None, reference_server: bool) -> str:
    """The target as a reader knows it: the bundled reference server (and where it ran), or the URL."""
    if reference_server:
        return f"the bundled reference server ({base_url})" if base_url else "the bundled reference server"
    return base_url or "(no target reached)"


def check_base_url(url: str) -> str:
    """The base URL without a trailing slash; ConfigError if it is not an absolute http(s) URL."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"--base-url must be an absolute http(s) URL, not {url!r}")
    if parts.query or parts.fragment:
        raise ConfigError(f"--base-url must not carry a query or fragment: {url!r}")
    return url.rstrip("/")


def make_options(merged: dict[str, Any]) -> RunOptions:
    """Run options from merged option values; ConfigError for a combination that cannot work."""
    if merged.get("update_baseline") and not merged.get("baseline"):
        raise ConfigError("--update-baseline needs --baseline FILE: the file to write the known failures into")
    return RunOptions(**{option.field: merged.get(option.name, option.default) for option in RUN_OPTIONS})


def make_profile(merged: dict[str, Any]) -> TargetProfile:
    """The target profile from merged option values; ConfigError for what cannot work."""
    missing = [f"--{n.replace('_', '-')}" for n in ("partner_key", "developer_key") if not merged.get(n)]
    if missing:
        raise ConfigError(
            f"{' and '.join(missing)} required with --base-url "
            "(best passed as CONFORMANCE_PARTNER_KEY / CONFORMANCE_DEVELOPER_KEY)"
        )
    if merged.get("second_developer_key") == merged["developer_key"]:
        raise ConfigError("--second-developer-key must belong to another company than --developer-key")
    given = {option.field: merged.get(option.name, option.default) for option in TARGET_OPTIONS}
    return TargetProfile(**given | {"base_url": check_base_url(merged["base_url"])})


def values_of(profile: TargetProfile | None, options: RunOptions) -> dict[str, Any]:
    """Every option's value in effect, by option name (the inverse of `make_profile` and `make_options`); the
    target's are left out without a `profile` (the run did not reach one)."""
    chosen = OPTIONS.values() if profile is not None else RUN_OPTIONS
    return {option.name: getattr(profile if option.target else options, option.field) for option in chosen}
