"""The run's mark: what every record a run writes carries, so that a list finds it and no one else's.

A run has an id (`--run-id`, else a fresh random one). Its own shops are `wc-<run id>.<n>` (and variants
that start so), and a path segment `wc-run-<run id>` sits in every webhook URL it writes. A record carries
the run's mark when its `shopId` is one of the run's shops or one of its URLs has that segment. Both are
derived from the run id alone, so `conformance cleanup --run-id ID` finds a killed run's records.

Run ids hold letters, digits, `_` and `-` only: the `.` that ends the id in a shop id cannot be part of it,
so run `a` never claims a shop of run `a-1`.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import Any

RUN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,39}")
ANY_RUN_ID = r"[A-Za-z0-9][A-Za-z0-9_-]*"
MAX_URL_LENGTH = 2048  # VALID-07: a URL is not made longer than this by its mark
URL_FIELDS = ("webHookUrls", "url")


def new_run_id() -> str:
    """A fresh run id, unique enough that two runs never share one."""
    return secrets.token_hex(6)


def check_run_id(value: str) -> str:
    """The run id as given; ValueError when it cannot mark shop ids and URLs safely."""
    text = str(value).strip()
    if not RUN_ID.fullmatch(text):
        raise ValueError(
            f"--run-id must be 1 to 40 letters, digits, '_' or '-' (starting with a letter or digit), not {value!r}"
        )
    return text


@dataclass(frozen=True)
class RunMark:
    """The mark of one run (`run_id`), or of every run (`run_id` None: `conformance cleanup --all-runs`)."""

    run_id: str | None

    @property
    def segment(self) -> str:
        """The URL path segment that marks a webhook URL as this run's."""
        assert self.run_id is not None
        return f"wc-run-{self.run_id}"

    def shop(self, number: int | str) -> str:
        """The run's own shop id number `number`."""
        assert self.run_id is not None
        return f"wc-{self.run_id}.{number}"

    def url(self, *parts: object) -> str:
        """A valid webhook URL (https, public-looking host) that carries the mark."""
        return "/".join([f"https://hooks.example.com/{self.segment}", *map(str, parts)])

    def is_run_shop(self, shop_id: Any) -> bool:
        """Whether a shopId is one of the run's own shops (or a variant that starts like one)."""
        return isinstance(shop_id, str) and re.match(self._shop_pattern, shop_id) is not None

    def is_marked_url(self, url: Any) -> bool:
        """Whether a URL string has the run's path segment (anywhere before its query)."""
        if not isinstance(url, str):
            return False
        segments = re.split(r"[?#]", url, maxsplit=1)[0].split("/")
        return any(re.fullmatch(self._segment_pattern, item) for item in segments)

    def carries(self, record: Any) -> bool:
        """Whether a record (as a list or GET returns it) carries the mark."""
        if not isinstance(record, dict):
            return False
        urls = record.get("webHookUrls")
        urls = urls if isinstance(urls, list) else []
        marked_url = any(self.is_marked_url(url) for url in [*urls, record.get("url")])
        return marked_url or self.is_run_shop(record.get("shopId"))

    def mark_url(self, url: Any) -> Any:
        """The URL with the mark as its first path segment, where inserting it keeps what the URL is: an
        absolute http(s) URL that was at most MAX_URL_LENGTH stays so, a longer one stays too long, distinct
        URLs stay distinct. Anything else (not a string, no scheme or host, marked already) comes back as is."""
        if not isinstance(url, str) or self.is_marked_url(url):
            return url
        match = re.match(r"(?i)(https?://[^/?#]+)(.*)", url, re.DOTALL)
        if match is None:
            return url
        marked = f"{match[1]}/{self.segment}{match[2]}"
        if len(url) <= MAX_URL_LENGTH < len(marked):
            return url
        return marked

    def mark_body(self, body: Any, shop_id: str | None = None) -> None:
        """Mark a write's JSON body in place: a string shopId is set to `shop_id` (the user's --shop-id), or
        else prefixed with the run's own shop `wc-<run id>.0-` (it keeps what was generated: its characters,
        its length, ...); every URL is marked where it can be (`mark_url`). A shopId of another type (null, a
        number) stays, as does every value that makes a body invalid: only what keeps its validity changes."""
        if not isinstance(body, dict):
            return
        shop = body.get("shopId")
        if isinstance(shop, str) and not self.is_run_shop(shop) and shop != shop_id:
            body["shopId"] = shop_id if shop_id is not None else f"{self.shop(0)}-{shop}"
        if isinstance(body.get("webHookUrls"), list):
            body["webHookUrls"] = [self.mark_url(item) for item in body["webHookUrls"]]
        if "url" in body:
            body["url"] = self.mark_url(body["url"])

    @property
    def _run_id_pattern(self) -> str:
        return ANY_RUN_ID if self.run_id is None else re.escape(self.run_id)

    @property
    def _shop_pattern(self) -> str:
        return rf"wc-{self._run_id_pattern}\."

    @property
    def _segment_pattern(self) -> str:
        return rf"wc-run-{self._run_id_pattern}"
