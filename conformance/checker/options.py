"""The options of a run, each declared once in `OPTIONS`: its flag, environment variable, config-file key, type,
default and help, and whether the report and a rerun carry it.

Everything else is generated from the table: the flags of `conformance run`, `conformance cleanup` and
`conformance replay` (`faces.flags`) and the pytest plugin's `--conformance-*` (`Option.argparse_settings`),
the merge of flags, `CONFORMANCE_*` variables and the config file (`resolve_options`), the defaults of
`TargetProfile` and `RunOptions` (`default_of`), the report's `options` (`report_options`), the rerun command
(`rerun_arguments`), the options part of `report.schema.json` (`options_schema`) and README's option table
(`markdown_table`). A new option is one row here; `tests/checker/test_option_table.py` round-trips every row
through all of them.

Light on purpose (the budgets, the run id's syntax): the pytest plugin reads it in every session.
"""

from __future__ import annotations

import os
import re
import shlex
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conformance.checker.budget import BUDGETS
from conformance.checker.marks import RUN_ID

PARTNER_KEY_HEADERS = ("x-api-key", "partner_key")
# Checks sent side by side: across a network a run waits a round trip per request, not CPU; on loopback the
# threads only share one interpreter's CPU. So `auto`, the default, measures the preflight's answers: the
# fastest within NEAR_TARGET_MS (loopback, the same host) runs one request at a time, any slower one side by
# side: one request in flight per MS_PER_PLACE of that answer, NETWORK_CONCURRENCY to MAX_AUTO_CONCURRENCY.
# Measured (benchmarks/RESULTS.md, latency), a quick run at 1 and at 8: loopback 6.2 and 7.0 s, a 2 ms round trip
# 10.3 and 7.4 s, 5 ms 16.0 and 7.8 s, 50 ms 80 and 16 s; a standard run at 50 ms, 32 s at 8 and 24 s at 13.
# Polite by the rate the target sees, in-flight requests over the round trip: one per 4 ms keeps it at 250
# requests a second at most beyond 32 ms, where 8 in flight to a target 5 ms away allow 1,600 (the checker's
# CPU holds a run to about 250 on a 2-core machine). Sixteen in flight at most, two browsers' connections;
# `--rate-limit` still caps the whole run. The same seed sends the same requests and finds the same at any
# level, so the choice changes only how long a run takes.
AUTO = "auto"
NETWORK_CONCURRENCY = 8
NEAR_TARGET_MS = 2.0
MS_PER_PLACE = 4.0
MAX_AUTO_CONCURRENCY = 16
MAX_CONCURRENCY = 32
BUDGET_NAMES = tuple(BUDGETS)
ENVIRONMENT_PREFIX = "CONFORMANCE_"
CONFIG_FILES = (("conformance.toml", ()), ("pyproject.toml", ("tool", "conformance")))  # (file, table in it)


class ConfigError(ValueError):
    """The user's options cannot make a run (exit code 2)."""


# -- the types of option values -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Kind:
    """How an option's value is read and written: from what a user gives (a flag's or variable's text, a config
    file's or report's JSON value) to the value, back to the words after its flag, and into the report."""

    parse: Callable[[Any, str], Any]  # (given, flag) -> the value; ConfigError, naming the flag, when it is bad
    schema: dict[str, Any]  # the JSON Schema of its value in the report
    words: Callable[[Any], list[str]] = lambda value: [str(value)]  # the words after its flag in a command
    to_json: Callable[[Any], Any] = str  # the value in the report (None stays None)
    switch: bool = False  # an on/off flag: given means on
    repeatable: bool = False  # its flag may be given again to add a value
    choices: tuple[str, ...] | None = None


def yes(value: str | bool) -> bool:
    """An on/off option's value: `1`, `true`, `yes` or `on` (any case) is on."""
    return str(value).lower() in ("1", "true", "yes", "on")


def _rate(value: Any, flag: str) -> float:
    match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*(/s)?\s*", str(value))
    if not match or float(match.group(1)) <= 0:
        raise ConfigError(f"{flag} must look like '10/s' (a positive number per second), not {value!r}")
    return float(match.group(1))


def _seconds(value: Any, flag: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = -1.0
    if number <= 0:
        raise ConfigError(f"{flag} must be a positive number of seconds, not {value!r}")
    return number


def _integer(value: Any, flag: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{flag} must be an integer, not {value!r}") from None


def _concurrency(value: Any, flag: str) -> int | str:
    if str(value).strip().lower() == AUTO:
        return AUTO
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = 0
    if not 1 <= number <= MAX_CONCURRENCY:
        raise ConfigError(f"{flag} must be {AUTO} or a whole number from 1 to {MAX_CONCURRENCY}, not {value!r}")
    return number


def auto_concurrency(answer_ms: list[float]) -> tuple[int, str]:
    """`--concurrency auto`: how many requests to keep in flight, from the answer times of the preflight, and
    why. A target that answered within NEAR_TARGET_MS is near (its fastest answer: the first of a connection
    also waits for the connect); with no answer to go by, it is taken as across a network."""
    if not answer_ms:
        return NETWORK_CONCURRENCY, "no answer time measured"
    fastest = min(answer_ms)
    if fastest < NEAR_TARGET_MS:
        return 1, f"the target answered in {fastest:.1f} ms: near, one request at a time is fastest"
    level = max(NETWORK_CONCURRENCY, min(MAX_AUTO_CONCURRENCY, int(fastest // MS_PER_PLACE)))
    return level, (
        f"the target answered in {fastest:.1f} ms at best: requests go side by side, one in flight per "
        f"{MS_PER_PLACE:g} ms of that, {NETWORK_CONCURRENCY} to {MAX_AUTO_CONCURRENCY}"
    )


def _run_id(value: Any, flag: str) -> str:
    text = str(value).strip()
    if not RUN_ID.fullmatch(text):
        raise ConfigError(
            f"{flag} must be 1 to 40 letters, digits, '_' or '-' (starting with a letter or digit), not {value!r}"
        )
    return text


def _ids(value: Any, flag: str) -> frozenset[str]:
    if isinstance(value, frozenset):
        return value
    from conformance.contract.catalogue import ids  # late: the catalogue is read only when the option is given

    items = value if isinstance(value, list | tuple) else re.split(r"[,\s]+", str(value))
    chosen = {item.strip().upper() for item in items if item and item.strip()}
    known = set(ids())
    groups = {item.split("-")[0] for item in known}
    unknown = sorted(item for item in chosen if item not in known and item not in groups)
    if unknown:
        raise ConfigError(f"unknown requirement ID or group: {', '.join(unknown)}")
    return frozenset(item for item in known if item in chosen or item.split("-")[0] in chosen)


def _shop_ids(value: Any, flag: str) -> tuple[str, ...]:
    items = value if isinstance(value, list | tuple) else str(value).split(",")
    return tuple(item for item in (str(i).strip() for i in items) if item)


def _choice(choices: tuple[str, ...]) -> Kind:
    def parse(value: Any, flag: str) -> str:
        if value not in choices:
            raise ConfigError(f"{flag} must be one of {', '.join(choices)}, not {value!r}")
        return value

    return Kind(parse, {"enum": list(choices)}, choices=choices)


TEXT = Kind(lambda value, flag: str(value), {"type": ["string", "null"]})
PATH = Kind(lambda value, flag: Path(value), {"type": ["string", "null"]})
KEY = Kind(TEXT.parse, {"$ref": "#/$defs/key_reference"})
SWITCH = Kind(lambda value, flag: yes(value), {"type": "boolean"}, words=lambda value: [], to_json=bool, switch=True)
INTEGER = Kind(_integer, {"type": ["integer", "null"]}, to_json=int)
CONCURRENCY = Kind(
    _concurrency,
    {"anyOf": [{"const": AUTO}, {"type": "integer", "minimum": 1, "maximum": MAX_CONCURRENCY}]},
    to_json=lambda value: value if value == AUTO else int(value),
)
RATE = Kind(_rate, {"type": ["number", "null"]}, words=lambda value: [f"{value:g}/s"], to_json=float)
SECONDS = Kind(_seconds, {"type": "number", "exclusiveMinimum": 0}, words=lambda value: [f"{value:g}"], to_json=float)
RUN_ID_TEXT = Kind(_run_id, {"type": ["string", "null"], "pattern": f"^{RUN_ID.pattern}$"})
REQUIREMENT_IDS = Kind(
    _ids,
    {"type": "array", "items": {"type": "string"}},
    words=lambda value: [",".join(sorted(value))],
    to_json=sorted,
)
SHOP_IDS = Kind(_shop_ids, {"type": "array", "items": {"type": "string"}}, words=list, to_json=list, repeatable=True)


# -- the table ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Option:
    """One option of a run. `name` is its key everywhere: the attribute of `TargetProfile` (a `target` option)
    or `RunOptions` (unless `attribute` says otherwise), `--<name>` with dashes, `CONFORMANCE_<NAME>`, and the
    config file's key (with `_` or `-`)."""

    name: str
    kind: Kind
    help: str
    default: Any = None
    target: bool = False  # about the target: a `TargetProfile` field, and an option of `conformance cleanup` too
    attribute: str = ""  # the field of TargetProfile/RunOptions, and the report's key, when not `name`
    metavar: str | None = None
    aliases: tuple[str, ...] = ()  # other keys the config file may use
    secret: bool = False  # a key: never in a report or a rerun command (only the variable that holds it)
    not_reported: str = ""  # why the report's options leave it out ("": they show it)
    not_rerun: str = ""  # why a rerun command leaves it out ("": it carries it)
    not_in_plugin: str = ""  # why the pytest plugin has no `--conformance-*` for it ("": it has)
    plugin_name: str = ""  # the plugin's `--conformance-<plugin_name>`, when not `name`

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    @property
    def variable(self) -> str:
        return ENVIRONMENT_PREFIX + self.name.upper()

    @property
    def field(self) -> str:
        return self.attribute or self.name

    @property
    def plugin_flag(self) -> str | None:
        if self.not_in_plugin:
            return None
        return "--conformance-" + (self.plugin_name or self.name).replace("_", "-")

    @property
    def file_keys(self) -> tuple[str, ...]:
        names = (self.name, *self.aliases)
        return tuple(dict.fromkeys(key for name in names for key in (name, name.replace("_", "-"))))

    @property
    def default_words(self) -> str:
        """The default as a user would give it; empty for none (None, off, nothing)."""
        if self.default in (None, False, (), frozenset()):
            return ""
        return " ".join(self.kind.words(self.default))

    def parse(self, value: Any) -> Any:
        """The value from what a user gave (text, or a config file's or report's JSON value)."""
        return self.kind.parse(value, self.flag)

    def argparse_settings(self, help: str | None = None) -> dict[str, Any]:
        """The keywords of argparse's (and pytest's) `add_argument` for this option; None means not given, so
        that the environment and the config file may still set it."""
        action = "store_true" if self.kind.switch else "append" if self.kind.repeatable else "store"
        default = f"; default {self.default_words}" if self.default_words else ""
        settings: dict[str, Any] = {"action": action, "default": None}
        settings["help"] = f"{help or self.help} [{self.variable}{default}]"
        if self.kind.choices:
            settings["choices"] = self.kind.choices
        if self.metavar and not self.kind.switch:
            settings["metavar"] = self.metavar
        return settings


KEYS_FROM_THE_ENVIRONMENT = "keys come from the environment only: a value in argv shows in the process list"
A_RERUN_CHECKS_ONE = "a rerun names the one requirement it checks itself"
SELECTION_IS_PYTESTS = "selection is pytest's own (-k, -m)"

OPTIONS: dict[str, Option] = {
    option.name: option
    for option in (
        Option(
            "base_url", TEXT, "the target's base URL (default: start the bundled reference server)", target=True,
            metavar="URL", plugin_name="url",
        ),
        Option(
            "partner_key", KEY, "partner key (better: the environment variable)", target=True, metavar="KEY",
            secret=True, not_rerun=KEYS_FROM_THE_ENVIRONMENT,
        ),
        Option(
            "developer_key", KEY, "developer key (better: the environment variable)", target=True, metavar="KEY",
            secret=True, not_rerun=KEYS_FROM_THE_ENVIRONMENT,
        ),
        Option(
            "second_developer_key", KEY, "a developer key of another company, for the tenancy checks", target=True,
            metavar="KEY", secret=True, not_rerun=KEYS_FROM_THE_ENVIRONMENT,
        ),
        Option(
            "partner_key_header", _choice(PARTNER_KEY_HEADERS), "header of the partner key", "x-api-key", target=True
        ),
        Option(
            "shop_id", SHOP_IDS, "use this shop id for test records (repeatable; default: run-unique ids)",
            (), target=True, attribute="shop_ids", metavar="ID", aliases=("shop_ids",),
        ),
        Option("rate_limit", RATE, "at most N requests per second", target=True, metavar="N/s"),
        Option("timeout", SECONDS, "seconds to wait for each answer", 10.0, target=True, metavar="S"),
        Option("spec", PATH, "the OpenAPI spec (default: the bundled one)", metavar="PATH"),
        Option(
            "report_dir", PATH, "where the reports go", Path("reports"), metavar="DIR",
            not_reported="the reports are where they were written; the path is of the machine that ran them",
            not_rerun="where the rerun writes its reports is the rerun's own business",
        ),
        Option(
            "run_id", RUN_ID_TEXT,
            "marks every record this run writes (shop ids, webhook URLs), for `conformance cleanup --run-id`; "
            "default: a fresh random id (a CI can pass its job id)",
            metavar="ID",
            not_rerun="a rerun is a run of its own: a fresh run id keeps its sweep off any other run's records",
        ),
        Option("seed", INTEGER, "seed for every random choice, to rerun a run exactly", metavar="N"),
        Option("budget", _choice(BUDGET_NAMES), "how hard to try: quick, standard, deep", "standard"),
        Option(
            "concurrency", CONCURRENCY,
            f"requests in flight at most: checks sent side by side (1: one request at a time; {AUTO}: 1 for a "
            f"target that answers within {NEAR_TARGET_MS:g} ms, as on loopback, and for the bundled reference "
            f"server, else one per {MS_PER_PLACE:g} ms of its fastest answer, {NETWORK_CONCURRENCY} to "
            f"{MAX_AUTO_CONCURRENCY}); the same seed sends the same requests whatever N",
            AUTO, metavar="N",
        ),
        Option("strict", SWITCH, "SHOULD failures fail the run too", False),
        Option(
            "only", REQUIREMENT_IDS, "check only these requirement IDs or groups (comma-separated)", frozenset(),
            metavar="IDS", not_rerun=A_RERUN_CHECKS_ONE, not_in_plugin=SELECTION_IS_PYTESTS,
        ),
        Option(
            "skip", REQUIREMENT_IDS, "leave out these requirement IDs or groups (comma-separated)", frozenset(),
            metavar="IDS", not_rerun=A_RERUN_CHECKS_ONE, not_in_plugin=SELECTION_IS_PYTESTS,
        ),
        Option(
            "baseline", PATH, "known failures: only a failure not listed there fails the run", metavar="FILE",
            not_rerun="a rerun reports what it sees, known or not",
        ),
        Option(
            "update_baseline", SWITCH, "write this run's failures into --baseline", False,
            not_rerun="a rerun must not rewrite the baseline",
        ),
        Option(
            "read_only", SWITCH,
            "send only GET/HEAD/OPTIONS/TRACE: the checks that need writes are not-run (for a target whose data "
            "must not change)",
            False,
        ),
        Option(
            "require_complete", SWITCH,
            "exit 3 unless every requirement was checked: an incomplete run (a MUST not run, a subset) does not "
            "pass (for a vendor verification)",
            False,
        ),
    )
}
TARGET_OPTIONS = tuple(option for option in OPTIONS.values() if option.target)
RUN_OPTIONS = tuple(option for option in OPTIONS.values() if not option.target)


def default_of(name: str) -> Any:
    """The option's default: what `TargetProfile` and `RunOptions` hold when it is not given."""
    return OPTIONS[name].default


# -- flags, environment and config file -----------------------------------------------------------------------


def config_file_values(directory: Path) -> dict[str, Any]:
    """Options from `conformance.toml` or `[tool.conformance]` in `pyproject.toml`, keyed by option name."""
    keys = {key: option.name for option in OPTIONS.values() for key in option.file_keys}
    for name, table_path in CONFIG_FILES:
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
            unknown = sorted(key for key in table if key not in keys)
            if unknown:
                raise ConfigError(f"{path}: unknown option(s) {', '.join(unknown)}")
            return {keys[key]: value for key, value in table.items()}
    return {}


def resolve_options(
    flags: dict[str, Any], environ: dict[str, str] | None = None, directory: Path | None = None
) -> dict[str, Any]:
    """Merge flags (None = not given), environment and config file, converting and checking each value: the
    first that sets an option wins. An empty variable does not set one, but an empty base URL is refused."""
    environ = dict(os.environ) if environ is None else environ
    from_file = config_file_values(directory or Path.cwd())
    merged: dict[str, Any] = {}
    for option in OPTIONS.values():
        value, source = flags.get(option.name), option.flag
        empty_url = option.name == "base_url" and option.variable in environ  # set but empty: refused below
        if value is None and (environ.get(option.variable) or empty_url):
            value, source = environ[option.variable], option.variable
        if value is None and option.name in from_file:
            value, source = from_file[option.name], f"the config file's {option.flag[2:]}"
        if option.name == "base_url" and value is not None and not str(value).strip():
            raise ConfigError(empty_base_url(source))
        if value is not None:
            merged[option.name] = option.parse(value)
    return merged


def empty_base_url(source: str) -> str:
    """Why an empty base URL is refused: CI gives an empty variable for a secret it withholds (a pull request
    from a fork), and checking the bundled server instead would pass the gate without checking the target."""
    return (
        f"the base URL is empty ({source} is set but empty; is a CI secret missing?): set the target's URL, "
        "or unset it to check the bundled reference server"
    )


# -- what a run used: the report's options and the rerun command ----------------------------------------------


def report_options(values: dict[str, Any]) -> dict[str, Any]:
    """The report's `options`: each option's value as JSON, keys as `${CONFORMANCE_*}` references."""
    shown: dict[str, Any] = {}
    for name, value in values.items():
        option = OPTIONS[name]
        if option.not_reported:
            continue
        if value is None:
            shown[option.field] = None
        else:
            shown[option.field] = "${" + option.variable + "}" if option.secret else option.kind.to_json(value)
    return shown


def rerun_arguments(values: dict[str, Any]) -> list[str]:
    """The `conformance run` arguments, shell-quoted, that give every option in `values` (by option name) its
    value again, but those at their default and those a rerun leaves out (`not_rerun`: keys, the run id, ...)."""
    arguments: list[str] = []
    for option in OPTIONS.values():
        value = values.get(option.name)
        if option.not_rerun or value is None or value is False or value == option.default:
            continue
        if option.kind.switch:
            arguments.append(option.flag)
        elif option.kind.repeatable:
            for word in option.kind.words(value):
                arguments += [option.flag, shlex.quote(word)]
        else:
            arguments += [option.flag, *map(shlex.quote, option.kind.words(value))]
    return arguments


def carried_from_report(shown: dict[str, Any], options: tuple[Option, ...]) -> dict[str, Any]:
    """Of `options`, the values a report's `options` (`shown`) gives that a rerun carries, by option name, parsed
    back (keys never: they come from the environment)."""
    return {
        option.name: option.parse(shown[option.field])
        for option in options
        if not (option.secret or option.not_rerun or option.not_reported) and shown.get(option.field) is not None
    }


# -- documents generated from the table -----------------------------------------------------------------------


def options_schema() -> dict[str, Any]:
    """The JSON Schema of the report's `run.options` (spliced into `report.schema.json`; a test keeps it current)."""
    properties = {
        option.field: {"description": f"{option.flag}: {option.help}", **option.kind.schema}
        for option in OPTIONS.values()
        if not option.not_reported
    }
    return {
        "description": "The options in effect, by name (see `conformance run --help`); the target's only once a "
        "target was reached. Keys appear only as ${CONFORMANCE_*} references.",
        "type": "object",
        "patternProperties": {"_key$": {"$ref": "#/$defs/key_reference"}},
        "properties": properties,
    }


def markdown_table() -> str:
    """README's option table: flag, environment variable, plugin flag, default and meaning of every option."""
    lines = ["| flag | environment | pytest plugin | default | what |", "|---|---|---|---|---|"]
    for option in OPTIONS.values():
        shown = f"`{option.default_words}`" if option.default_words else ""
        plugin = f"`{option.plugin_flag}`" if option.plugin_flag else "(-k, -m)"
        what = option.help.replace("|", "\\|") + (" (never in a rerun: a key)" if option.secret else "")
        argument = "|".join(option.kind.choices) if option.kind.choices else option.metavar
        flag = f"{option.flag} {argument}" if argument and not option.kind.switch else option.flag
        lines.append(f"| `{flag}` | `{option.variable}` | {plugin} | {shown} | {what} |")
    return "\n".join(lines)
