"""The target profile: everything about how to reach the target, in one place.

Values come from command-line flags, then `CONFORMANCE_*` environment variables, then a `[tool.conformance]`
table in `pyproject.toml` or a top-level table in `conformance.toml` (in the working directory); the first
one that sets a value wins. Nothing about the target is hard-wired anywhere else.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from conformance.catalogue import ids
from conformance.checker.marks import check_run_id

PARTNER_KEY_HEADERS = ("x-api-key", "partner_key")
BUDGET_NAMES = ("quick", "standard", "deep")


class ConfigError(ValueError):
    """The user's options cannot make a run (exit code 2)."""


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
    second_developer_key: str | None = None
    partner_key_header: str = "x-api-key"
    shop_ids: tuple[str, ...] = ()
    rate_limit: float | None = None  # requests per second, None for no limit
    timeout: float = 10.0  # seconds per request

    @property
    def primary(self) -> Credentials:
        return Credentials(self.partner_key, self.developer_key)

    @property
    def second(self) -> Credentials | None:
        if self.second_developer_key is None:
            return None
        return Credentials(self.partner_key, self.second_developer_key)

    def secrets(self) -> dict[str, str]:
        """Each secret value and the environment variable a reproduction names instead of it."""
        named = {
            self.partner_key: "CONFORMANCE_PARTNER_KEY",
            self.developer_key: "CONFORMANCE_DEVELOPER_KEY",
        }
        if self.second_developer_key:
            named[self.second_developer_key] = "CONFORMANCE_SECOND_DEVELOPER_KEY"
        return {value: name for value, name in named.items() if value}


@dataclass(frozen=True)
class RunOptions:
    """How to run: everything that is not about the target."""

    spec: Path | None = None
    report_dir: Path = Path("reports")
    seed: int | None = None
    budget: str = "standard"
    strict: bool = False
    only: frozenset[str] = frozenset()
    skip: frozenset[str] = frozenset()
    quiet: bool = False
    engines: tuple[str, ...] = ()  # run only the engines with these names (library use; empty: all)
    baseline: Path | None = None  # the known failures: only a failure not listed there fails the run
    update_baseline: bool = False  # write this run's failures into `baseline` (they become the known ones)
    read_only: bool = False  # send no request that writes: the checks that need writes are not-run
    require_complete: bool = False  # an `incomplete` verdict (a MUST not run, a subset) exits 3, not 0
    run_id: str | None = None  # marks every record the run writes (`marks`); None: a fresh random one
    checks: frozenset[str] = frozenset()  # run only the scenarios with these names (library use: replay)


# Option name -> (environment variable, converter). The single table the CLI, env and files share.
def _rate(value: str) -> float:
    match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*(/s)?\s*", str(value))
    if not match or float(match.group(1)) <= 0:
        raise ConfigError(f"--rate-limit must look like '10/s' (a positive number per second), not {value!r}")
    return float(match.group(1))


def _positive_float(name: str):
    def convert(value: str) -> float:
        try:
            number = float(value)
        except (TypeError, ValueError):
            number = -1.0
        if number <= 0:
            raise ConfigError(f"--{name} must be a positive number of seconds, not {value!r}")
        return number

    return convert


def _seed(value: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ConfigError(f"--seed must be an integer, not {value!r}") from None


def _run_id(value: str) -> str:
    try:
        return check_run_id(value)
    except ValueError as error:
        raise ConfigError(str(error)) from None


def switched_on(value: str | bool) -> bool:
    """An on/off option's value: `1`, `true`, `yes` or `on` (any case) is on."""
    return str(value).lower() in ("1", "true", "yes", "on")


def _ids(value: str | list[str]) -> frozenset[str]:
    items = value if isinstance(value, list) else re.split(r"[,\s]+", str(value))
    chosen = {item.strip().upper() for item in items if item and item.strip()}
    known = set(ids())
    groups = {item.split("-")[0] for item in known}
    unknown = sorted(item for item in chosen if item not in known and item not in groups)
    if unknown:
        raise ConfigError(f"unknown requirement ID or group: {', '.join(unknown)}")
    return frozenset(item for item in known if item in chosen or item.split("-")[0] in chosen)


def _choice(name: str, choices: tuple[str, ...]):
    def convert(value: str) -> str:
        if value not in choices:
            raise ConfigError(f"--{name} must be one of {', '.join(choices)}, not {value!r}")
        return value

    return convert


def _shop_ids(value: str | list[str]) -> tuple[str, ...]:
    items = value if isinstance(value, list) else str(value).split(",")
    return tuple(item for item in (str(i).strip() for i in items) if item)


OPTIONS: dict[str, tuple[str, Any]] = {
    "base_url": ("CONFORMANCE_BASE_URL", str),
    "partner_key": ("CONFORMANCE_PARTNER_KEY", str),
    "developer_key": ("CONFORMANCE_DEVELOPER_KEY", str),
    "second_developer_key": ("CONFORMANCE_SECOND_DEVELOPER_KEY", str),
    "partner_key_header": ("CONFORMANCE_PARTNER_KEY_HEADER", _choice("partner-key-header", PARTNER_KEY_HEADERS)),
    "shop_id": ("CONFORMANCE_SHOP_ID", _shop_ids),
    "spec": ("CONFORMANCE_SPEC", Path),
    "report_dir": ("CONFORMANCE_REPORT_DIR", Path),
    "seed": ("CONFORMANCE_SEED", _seed),
    "budget": ("CONFORMANCE_BUDGET", _choice("budget", BUDGET_NAMES)),
    "rate_limit": ("CONFORMANCE_RATE_LIMIT", _rate),
    "timeout": ("CONFORMANCE_TIMEOUT", _positive_float("timeout")),
    "strict": ("CONFORMANCE_STRICT", switched_on),
    "only": ("CONFORMANCE_ONLY", _ids),
    "skip": ("CONFORMANCE_SKIP", _ids),
    "baseline": ("CONFORMANCE_BASELINE", Path),
    "update_baseline": ("CONFORMANCE_UPDATE_BASELINE", switched_on),
    "read_only": ("CONFORMANCE_READ_ONLY", switched_on),
    "require_complete": ("CONFORMANCE_REQUIRE_COMPLETE", switched_on),
    "run_id": ("CONFORMANCE_RUN_ID", _run_id),
}


def config_file_values(directory: Path) -> dict[str, Any]:
    """Options from `conformance.toml` or `[tool.conformance]` in `pyproject.toml`, keys as in OPTIONS."""
    for name, table_path in (("conformance.toml", ()), ("pyproject.toml", ("tool", "conformance"))):
        path = directory / name
        if not path.is_file():
            continue
        try:
            table: Any = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as error:
            raise ConfigError(f"cannot read {path}: {error}") from error
        for key in table_path:
            table = table.get(key, {}) if isinstance(table, dict) else {}
        if table:
            values = {key.replace("-", "_"): value for key, value in table.items()}
            unknown = sorted(set(values) - set(OPTIONS) - {"shop_ids"})
            if unknown:
                raise ConfigError(f"{path}: unknown option(s) {', '.join(unknown)}")
            if "shop_ids" in values:
                values["shop_id"] = values.pop("shop_ids")
            return values
    return {}


def resolve_options(
    flags: dict[str, Any], environ: dict[str, str] | None = None, directory: Path | None = None
) -> dict[str, Any]:
    """Merge flags (None = not given), environment and config file, converting and checking each value."""
    environ = dict(os.environ) if environ is None else environ
    from_file = config_file_values(directory or Path.cwd())
    merged: dict[str, Any] = {}
    for name, (variable, convert) in OPTIONS.items():
        value = flags.get(name)
        source = f"--{name.replace('_', '-')}"
        if value is None and environ.get(variable):
            value = environ[variable]
        if value is None and name == "base_url" and variable in environ:
            value, source = environ[variable], variable
        if value is None and name in from_file:
            value, source = from_file[name], "the config file's base-url"
        if name == "base_url" and value is not None and not str(value).strip():
            raise ConfigError(empty_base_url(source))
        if value is not None:
            merged[name] = value if _already_converted(name, value) else convert(value)
    return merged


def empty_base_url(source: str) -> str:
    """Why an empty base URL is refused: CI gives an empty variable for a secret it withholds (a pull request
    from a fork), and checking the bundled server instead would pass the gate without checking the target."""
    return (
        f"the base URL is empty ({source} is set but empty; is a CI secret missing?): set the target's URL, "
        "or unset it to check the bundled reference server"
    )


def target_words(base_url: str | None, reference_server: bool) -> str:
    """The target as a reader knows it: the bundled reference server (and where it ran), or the URL."""
    if reference_server:
        return f"the bundled reference server ({base_url})" if base_url else "the bundled reference server"
    return base_url or "(no target reached)"


def _already_converted(name: str, value: Any) -> bool:
    return (name in ("only", "skip") and isinstance(value, frozenset)) or (
        name == "shop_id" and isinstance(value, tuple)
    )


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
    return RunOptions(
        spec=merged.get("spec"),
        report_dir=merged.get("report_dir", Path("reports")),
        seed=merged.get("seed"),
        budget=merged.get("budget", "standard"),
        strict=bool(merged.get("strict", False)),
        only=merged.get("only", frozenset()),
        skip=merged.get("skip", frozenset()),
        baseline=merged.get("baseline"),
        update_baseline=bool(merged.get("update_baseline", False)),
        read_only=bool(merged.get("read_only", False)),
        require_complete=bool(merged.get("require_complete", False)),
        run_id=merged.get("run_id"),
    )


def option_values(profile: TargetProfile | None, options: RunOptions, *, seed: int | None) -> dict[str, Any]:
    """The options in effect, named as in OPTIONS and written as a user would give them (the inverse of
    `make_profile` and `make_options`; defaults left out); `profile` None leaves the target's out."""
    values: dict[str, Any] = {
        "spec": str(options.spec) if options.spec else None,
        "report_dir": str(options.report_dir),
        "seed": seed,
        "budget": options.budget,
        "strict": options.strict,
        "only": ",".join(sorted(options.only)) or None,
        "skip": ",".join(sorted(options.skip)) or None,
        "baseline": str(options.baseline) if options.baseline else None,
        "update_baseline": options.update_baseline,
        "read_only": options.read_only,
        "require_complete": options.require_complete,
        "run_id": options.run_id,
    }
    if profile is not None:
        values |= {
            "base_url": profile.base_url,
            "partner_key": profile.partner_key,
            "developer_key": profile.developer_key,
            "second_developer_key": profile.second_developer_key,
            "partner_key_header": profile.partner_key_header if profile.partner_key_header != "x-api-key" else None,
            "shop_id": list(profile.shop_ids) or None,
            "rate_limit": f"{profile.rate_limit:g}/s" if profile.rate_limit else None,
            "timeout": f"{profile.timeout:g}" if profile.timeout != 10.0 else None,
        }
    return values


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
    return TargetProfile(
        base_url=check_base_url(merged["base_url"]),
        partner_key=merged["partner_key"],
        developer_key=merged["developer_key"],
        second_developer_key=merged.get("second_developer_key"),
        partner_key_header=merged.get("partner_key_header", "x-api-key"),
        shop_ids=merged.get("shop_id", ()),
        rate_limit=merged.get("rate_limit"),
        timeout=merged.get("timeout", 10.0),
    )
