"""Webhook URLs that lenient URL parsers repair or accept, on create and on update (VALID-02, UPDATE-06).

A WHATWG URL parser (browsers, Node's `URL`) "repairs" `https:host/x`, `https:/x`, backslashes, surrounding
blanks and tabs or newlines inside; Go's `url.Parse` takes a space or `<>` in the path and a URL without a
host. None of them is an absolute URL (RFC 3986: no host, or characters a URI cannot hold), so each gets 400.
"""

from __future__ import annotations

from conformance.checker.scenario import Probe, scenario
from conformance.checker.scenarios.edges_json import expect_update_refused
from conformance.checker.scenarios.records import fresh_record
from conformance.checker.scenarios.validation import Case, run_corpus
from conformance.contract.facts import WEBHOOK_HOST, WEBHOOK_ORIGIN


def lenient_urls(probe: Probe) -> dict[str, str]:
    """Not absolute URLs, each with this run's tag (so a stored one is traced to its request), by what."""
    path = f"wc/{probe.state.run_tag}/{probe.check}"
    tabbed = WEBHOOK_HOST.replace(".", "\t.", 1)  # a tab inside the host
    return {
        "no slashes after the scheme": f"https:{WEBHOOK_HOST}/{path}/a",
        "one slash after the scheme": f"https:/{path}/b",
        "no host": f"https://:443/{path}/c",
        "backslashes": f"https:\\\\{WEBHOOK_HOST}\\{path}\\d",
        "a leading space": f" {WEBHOOK_ORIGIN}/{path}/e",
        "a trailing space": f"{WEBHOOK_ORIGIN}/{path}/f ",
        "a tab inside": f"https://{tabbed}/{path}/g",
        "a newline inside": f"{WEBHOOK_ORIGIN}/{path}/h\n",
        "a space in the path": f"{WEBHOOK_ORIGIN}/{path}/a b",
        "angle brackets in the path": f"{WEBHOOK_ORIGIN}/{path}/<x>",
        "a control character": f"{WEBHOOK_ORIGIN}/{path}/\x01",
    }


@scenario("VALID-02", "VALID-06")
def repaired_urls_get_400_on_create(probe: Probe) -> None:
    """Each lenient URL in `webHookUrls`, and (in a wide run) in `url`: 400, nothing stored."""
    shop = probe.shop_id()
    cases = [
        Case(
            "VALID-02",
            f"a create body with a webhook URL with {what}: {url!r}",
            probe.body(shopId=shop, webHookUrls=[url]),
        )
        for what, url in lenient_urls(probe).items()
    ]
    if probe.budget.wide_edges:
        cases += [
            Case("VALID-02", f"a create body with a `url` with {what}: {url!r}", probe.body(shopId=shop, url=url))
            for what, url in lenient_urls(probe).items()
        ]
    run_corpus(probe, shop, cases)


@scenario("UPDATE-06")
def repaired_urls_get_400_on_update(probe: Probe) -> None:
    """Each lenient URL in an update's `webHookUrls` (and in a wide run its `url`): 400, the record unchanged."""
    record = fresh_record(probe, probe.body(shopId=probe.shop_id()))
    fields = ("webHookUrls", "url") if probe.budget.wide_edges else ("webHookUrls",)
    for name in fields:
        for what, url in lenient_urls(probe).items():
            value = [url] if name == "webHookUrls" else url
            reply = probe.client.update(record["id"], {**record, name: value})
            what_sent = f"an update with a `{name}` URL with {what}: {url!r}"
            record = expect_update_refused(probe, record, reply, what_sent, "UPDATE-06", frozenset({400}))
