"""Who may call the reference server: partner keys and developer keys, each developer key of one company.

With no keys given, the server uses the demo keys below (two companies, so tenancy can be checked).
A keys file is TOML:

    partner_keys = ["my-partner-key"]
    [developer_keys]
    "dev-key-1" = "company-a"
    "dev-key-2" = "company-b"
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

DEMO_PARTNER_KEY = "demo-partner-key"
DEMO_DEVELOPER_KEY = "demo-developer-key-acme"
DEMO_SECOND_DEVELOPER_KEY = "demo-developer-key-globex"
DEMO_COMPANIES = {DEMO_DEVELOPER_KEY: "acme", DEMO_SECOND_DEVELOPER_KEY: "globex"}


@dataclass(frozen=True)
class Keys:
    """The partner keys the server accepts and the company each developer key belongs to."""

    partner_keys: frozenset[str]
    developer_keys: dict[str, str] = field(default_factory=dict)  # developer key -> companyId

    @classmethod
    def demo(cls) -> Keys:
        """The documented demo keys: one partner key, developer keys of companies `acme` and `globex`."""
        return cls(frozenset({DEMO_PARTNER_KEY}), dict(DEMO_COMPANIES))

    @classmethod
    def from_file(cls, path: Path) -> Keys:
        """Keys from a TOML keys file (see the module docstring); ``ValueError`` if it is malformed."""
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as error:
            raise ValueError(f"cannot read keys file {path}: {error}") from error
        partner = raw.get("partner_keys")
        developers = raw.get("developer_keys")
        if not isinstance(partner, list) or not all(isinstance(k, str) and k for k in partner) or not partner:
            raise ValueError(f"keys file {path}: `partner_keys` must be a non-empty list of strings")
        if (
            not isinstance(developers, dict)
            or not developers
            or not all(isinstance(k, str) and k and isinstance(v, str) and v for k, v in developers.items())
        ):
            raise ValueError(f"keys file {path}: `[developer_keys]` must map developer keys to company ids")
        return cls(frozenset(partner), dict(developers))

    def company_of(self, developer_key: str | None) -> str | None:
        """The company a developer key belongs to, or None for a missing or unknown key."""
        if developer_key is None:
            return None
        return self.developer_keys.get(developer_key)
