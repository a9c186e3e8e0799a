"""The reference server's fault catalogue: planted defects that a vendor's developer might really ship.

Each fault names the requirement IDs it breaks. `conformance serve --fault NAME` switches one on; the
checker's own tests run against every one of them and must see those requirements fail.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Fault:
    """One planted defect: its name, the requirements it breaks and what it does."""

    name: str
    breaks: tuple[str, ...]
    description: str


def _fault(name: str, breaks: str, description: str) -> Fault:
    return Fault(name, tuple(breaks.split()), description)


FAULTS: tuple[Fault, ...] = (
    # Authentication
    _fault("auth-partner-key-optional", "AUTH-01", "A call without the partner key is served as if it had one."),
    _fault(
        "auth-list-unauthenticated",
        "AUTH-01",
        "The list endpoint answers 200 without any key (an empty list without a developer key).",
    ),
    _fault(
        "auth-unknown-developer-key",
        "AUTH-02",
        "An unknown developer key is served as the first configured company instead of 401.",
    ),
    _fault(
        "auth-bearer-prefix-any",
        "AUTH-02",
        "Any partner key that starts with a known one is accepted (prefix comparison).",
    ),
    _fault(
        "auth-delete-before-check",
        "AUTH-03",
        "DELETE removes the record before the keys are checked, then answers 401 for a bad key.",
    ),
    _fault(
        "auth-body-parsed-first",
        "AUTH-01 HTTP-06",
        "The body is parsed on every method before the keys are checked (`express.json()` mounted first): a "
        "keyless call with a malformed body, another charset or a content coding gets 400/415, a GET with a "
        "malformed body 400.",
    ),
    # Tenancy
    _fault("tenant-get-403", "TENANT-01", "GET of another company's record answers 403 instead of 404."),
    _fault("tenant-get-no-check", "TENANT-01", "GET returns another company's record."),
    _fault("tenant-list-leak", "TENANT-02", "The list shows every company's records."),
    _fault("tenant-total-leak", "TENANT-02", "`total` counts every company's records; `values` are correct."),
    _fault("tenant-put-no-check", "TENANT-01 TENANT-03", "PUT updates another company's record."),
    _fault("tenant-delete-no-check", "TENANT-01 TENANT-03", "DELETE removes another company's record."),
    _fault(
        "tenant-company-from-body",
        "TENANT-04 CREATE-04",
        "A `companyId` in the create body is stored as the record's company.",
    ),
    # Create
    _fault("create-returns-id-only", "CREATE-01 HTTP-02", 'Create answers 200 with only `{"id": ...}`.'),
    _fault("create-drops-url", "CREATE-02", "The legacy `url` field is not stored or echoed (always null)."),
    _fault("create-sorts-urls", "CREATE-02", "`webHookUrls` are stored and returned sorted, not in the order sent."),
    _fault(
        "create-id-from-body",
        "CREATE-03",
        "An `id` in the create body is used as the record id, overwriting an existing record with that id.",
    ),
    _fault(
        "create-company-is-partner",
        "CREATE-04",
        "Create answers with `companyId` set to the partner account (`partner`), not the developer key's company.",
    ),
    _fault("create-timestamps-seconds", "CREATE-05", "`created` and `modified` are epoch seconds."),
    _fault("create-clock-skew", "CREATE-05", "Timestamps are taken from a clock one hour behind (a time zone bug)."),
    _fault("create-updated-true", "CREATE-06", "`updated` is true on a new record."),
    _fault("create-rejects-unknown-fields", "CREATE-07", "An unknown field in the body gets 400."),
    _fault(
        "create-stores-then-500",
        "HTTP-01",
        "A create with a non-ASCII `shopId` stores the record, then answers 500 (a crash after the insert).",
    ),
    _fault(
        "create-stores-then-drops",
        "VALID-03",
        "A `webHookType` that is a known one in the wrong case (`new_member`) is stored, then the connection "
        "closes without an answer.",
    ),
    # Validation
    _fault("valid-empty-urls-accepted", "VALID-01", "An empty `webHookUrls` array is accepted."),
    _fault(
        "valid-relative-url-accepted",
        "VALID-02",
        "`webHookUrls` items are only checked to be strings: relative or `javascript:` URLs pass.",
    ),
    _fault("valid-url-field-unchecked", "VALID-02", "The legacy `url` field is only checked to be a string or null."),
    _fault("valid-type-unchecked", "VALID-03", "Any `webHookType` string is accepted."),
    _fault(
        "valid-type-case-insensitive",
        "VALID-03",
        "`webHookType` is matched case-insensitively and stored as sent (`new_member` is accepted).",
    ),
    _fault("valid-non-object-json-crash", "VALID-04 HTTP-01", "A JSON body that is not an object gets 500."),
    _fault("valid-malformed-json-500", "VALID-04 HTTP-01", "A body that is not valid JSON gets 500."),
    _fault("valid-shopid-number-coerced", "VALID-05", "A number for `shopId` is accepted and stored as a string."),
    _fault(
        "valid-insert-before-validate",
        "VALID-06 VALID-03",
        "Create stores the record before validating `webHookType`, then answers 400 but keeps it.",
    ),
    _fault("valid-no-url-limits", "VALID-07", "More than 10 URLs and URLs over 2048 characters are accepted."),
    _fault("valid-duplicate-urls-accepted", "VALID-07", "Duplicate URLs in `webHookUrls` are accepted."),
    _fault("valid-no-ssrf-guard", "VALID-08", "Loopback, private and metadata hosts are accepted."),
    _fault(
        "valid-ssrf-ipv4-only",
        "VALID-08",
        "The SSRF guard checks dotted IPv4 only: `localhost`, `[::1]` and 169.254.x are accepted.",
    ),
    _fault("valid-http-accepted", "VALID-09", "Plain `http` webhook URLs are accepted."),
    _fault("valid-no-body-limit", "VALID-10", "Bodies over 1 MiB (up to 64 MiB) are read and processed."),
    _fault(
        "valid-nan-accepted",
        "VALID-04",
        "`NaN`, `Infinity` and `-Infinity` are parsed as numbers (Python's `json.loads` default).",
    ),
    _fault(
        "valid-trailing-data-ignored",
        "VALID-04",
        "Data after the first JSON value is ignored (a streaming decoder, as Go's `json.Decoder`, stops there).",
    ),
    _fault(
        "valid-case-insensitive-fields",
        "VALID-01 CREATE-02 CREATE-07",
        "Field names match case-insensitively, the last one winning (Go's `encoding/json`): `WEBHOOKURLS` is "
        "taken for `webHookUrls`, an unknown `shopid: 5` is a wrong type.",
    ),
    _fault(
        "valid-padding-not-counted",
        "VALID-10",
        "A body over 1 MiB is processed when what is over is whitespace after the value (the decoder never "
        "reads to the limit).",
    ),
    _fault(
        "valid-url-whatwg-repaired",
        "VALID-02 UPDATE-06",
        "Webhook URLs are checked after a WHATWG URL parser repairs them (Node's `new URL`): `https:host/x`, "
        "backslashes, surrounding blanks, tabs and newlines, spaces and `<>` pass and are stored as sent.",
    ),
    _fault(
        "valid-url-go-parse",
        "VALID-02",
        "Webhook URLs are checked as Go's `url.Parse` reads them: a space or `<>` in the path and a URL "
        "without a host (`https://:443/x`) pass.",
    ),
    _fault(
        "valid-oversize-update-processed",
        "VALID-10",
        "The 1 MiB body limit is applied to create only: an update over it is read and processed.",
    ),
    # Read
    _fault(
        "read-stale-cache", "READ-01 UPDATE-01", "GET serves the version cached at create time, missing later updates."
    ),
    _fault("read-drops-shopid", "READ-01", "GET omits `shopId` from the record."),
    _fault("read-id-prefix-match", "READ-02", "GET finds a record by id prefix (`LIKE id%`)."),
    _fault("read-long-id-crash", "READ-02 HTTP-01", "An id over 255 characters gets 500 (GET, PUT, DELETE)."),
    _fault("read-dotdot-lists", "READ-02", "A GET of a `..` id segment is resolved as a path: the list."),
    _fault(
        "read-path-cleaning-redirect",
        "READ-02",
        "A path with an empty or dot segment, after decoding `%2F`, is answered 301 to the cleaned path "
        "(Go's `ServeMux`): `a%2F..%2F..%2Fx`, `//x`.",
    ),
    _fault(
        "read-trailing-slash-redirect",
        "READ-02 DELETE-03",
        "A path ending in `/` (the empty id) is answered 307 to the path without it (a framework's "
        "`redirect_slashes`).",
    ),
    # Update
    _fault("update-drops-type", "UPDATE-01", "PUT clears `webHookType` (the field is not copied)."),
    _fault("update-not-persisted", "UPDATE-01 READ-01", "PUT answers with the new object but never stores it."),
    _fault("update-resets-created", "UPDATE-02", "PUT sets `created` to the time of the update."),
    _fault("update-company-from-body", "UPDATE-02 TENANT-04", "PUT stores the `companyId` from the body."),
    _fault("update-modified-unchanged", "UPDATE-03", "PUT leaves `modified` as it was."),
    _fault("update-flag-not-set", "UPDATE-04", "`updated` stays false after an update."),
    _fault("update-upsert", "UPDATE-05", "PUT of an unknown id creates a record with that id."),
    _fault("update-upsert-404", "UPDATE-05", "PUT of an unknown id stores a record with that id, yet answers 404."),
    _fault("update-revives-deleted", "UPDATE-05 DELETE-02", "PUT of a deleted id brings it back."),
    _fault("update-skips-validation", "UPDATE-06", "PUT does not validate `webHookUrls` or `webHookType`."),
    _fault("update-uses-body-id", "UPDATE-07", "PUT updates the record named by the body's `id`, not the path's."),
    # List
    _fault("list-skip-is-page", "LIST-01", "`skip` in the envelope is the page number, not the start used."),
    _fault("list-ignores-limit", "LIST-01 LIST-03", "`limit` is echoed but every matching record is returned."),
    _fault("list-total-is-page-size", "LIST-02", "`total` is the number of values on the page."),
    _fault("list-total-includes-deleted", "LIST-02 DELETE-02", "`total` counts deleted records."),
    _fault("list-off-by-one", "LIST-03", "Pages after the first start at start + 1: one record is skipped."),
    _fault("list-unstable-order", "LIST-03", "Records are listed in an order that changes between calls."),
    _fault("list-shopid-prefix", "LIST-04", "The `shopId` filter matches by prefix."),
    _fault("list-shopid-case-folded", "LIST-04", "The `shopId` filter ignores case."),
    _fault("list-type-filter-ignored", "LIST-04", "The `type` filter is ignored."),
    _fault("list-filters-union", "LIST-04", "`shopId` and `type` together match either one, not both."),
    _fault("list-past-end-404", "LIST-05", "A start (above 0) at or past the end gets 404."),
    _fault("list-past-end-total-zero", "LIST-05", "A start (above 0) at or past the end reports `total` 0."),
    _fault("list-negative-start-accepted", "LIST-06", "A negative `start` is treated as 0."),
    _fault("list-bad-limit-crash", "LIST-06 HTTP-01", "A non-integer `limit` gets 500."),
    _fault("list-unknown-type-empty", "LIST-06", "An unknown `type` gets 200 with no values."),
    _fault(
        "list-stale-cache",
        "LIST-07",
        "Lists come from a per-company cache filled at the company's first request and refreshed only every 5 s.",
    ),
    _fault("list-limit-over-100-400", "LIST-08", "`limit` above 100 gets 400."),
    _fault("list-limit-not-clamped", "LIST-08", "`limit` above 100 is honoured (up to 1000) and echoed."),
    _fault(
        "list-python-int",
        "LIST-06",
        "`start` and `limit` are parsed with Python's `int()`: blanks around, `1_0` and non-ASCII digits pass.",
    ),
    _fault(
        "list-number-coercion",
        "LIST-06",
        "`start` and `limit` are coerced like JavaScript's `Number()`: `1.0`, `1e1`, `0x10`, `0b1`, `0o7` and "
        "the empty value (0) pass.",
    ),
    _fault(
        "list-int-digit-limit-500",
        "HTTP-01",
        "A `start` or `limit` over 4300 digits gets 500 (Python's int() digit limit, uncaught).",
    ),
    _fault(
        "list-start-float64",
        "LIST-01",
        "`start` is held in a 64-bit float (a JavaScript number): above 2^53 `skip` is not the start sent.",
    ),
    _fault("list-empty-shopid-no-filter", "LIST-04", "`shopId=` (the empty shopId) is taken as no filter."),
    _fault(
        "list-bracket-param-crash",
        "HTTP-01",
        "A parameter `start[...]` or `limit[...]` makes the query parser build an object, and reading it 500s.",
    ),
    _fault(
        "list-unparsable-query-ignored",
        "LIST-06",
        "A query string that does not parse (`%zz`, `;`) is dropped as a whole: the defaults apply (Go's "
        "`r.URL.Query()` ignores the error).",
    ),
    # Delete
    _fault("delete-text-body", "DELETE-01 HTTP-02", "DELETE answers 200 with a `text/plain` body `OK`."),
    _fault("delete-soft-listed", "DELETE-02", "A deleted record is still listed and counted (with `deleted: true`)."),
    _fault("delete-soft-readable", "DELETE-02", "GET of a deleted record answers 200 with `deleted: true`."),
    _fault("delete-twice-ok", "DELETE-03", "Deleting an already deleted id answers 204 again."),
    _fault("delete-by-shop", "DELETE-04", "DELETE removes every record of the same company and shop."),
    # HTTP behaviour
    _fault("http-crash-on-unicode", "HTTP-01", "A non-ASCII `shopId` in a create body gets 500."),
    _fault("http-errors-html", "HTTP-02", "4xx answers are `text/html` pages."),
    _fault("http-error-without-message", "HTTP-03", "Error bodies carry `error` and `status` but no `message`."),
    _fault(
        "http-leaks-internals",
        "HTTP-04",
        "Error messages carry the exception class, a file path and the SQL statement.",
    ),
    _fault("http-no-405", "HTTP-05", "Undefined methods (PATCH, OPTIONS, ...) get 404 instead of 405."),
    _fault("http-405-without-allow", "HTTP-05", "405 answers carry no `Allow` header."),
    _fault("http-validation-422", "HTTP-06", "Body validation failures answer 422 instead of 400."),
    _fault(
        "http-413-text-plain",
        "HTTP-02 HTTP-03",
        "A body over 1 MiB is refused by the server layer with a `text/plain` 413.",
    ),
    _fault(
        "http-lone-surrogate-500",
        "HTTP-01",
        "A lone surrogate escape (`\\ud800`) in a client field gets 500 (encoding the answer fails).",
    ),
    _fault(
        "http-automatic-options",
        "HTTP-05 HTTP-02",
        "OPTIONS is answered by the framework: 200 with `Allow` and a `text/plain` list of the methods.",
    ),
    _fault(
        "http-head-skips-keys",
        "HTTP-05 AUTH-01",
        "HEAD is answered 200 with no body on every API path before the keys and the record are looked at.",
    ),
    _fault("http-allow-one-method", "HTTP-05", "A 405's `Allow` names only the path's first method."),
)


def fault(name: str) -> Fault:
    """The fault with this name; ``KeyError`` naming the known ones otherwise."""
    for item in FAULTS:
        if item.name == name:
            return item
    raise KeyError(f"unknown fault {name!r}; `conformance serve --list-faults` lists them")
