"""The clean reference server meets every list (LIST) requirement."""

from __future__ import annotations

from typing import Any

import pytest


def _walk(api: Any, limit: int, **filters: Any) -> list[str]:
    """The ids of every page, start = 0, limit, 2*limit, ... until start reaches the total."""
    ids: list[str] = []
    start = 0
    while True:
        page = api.list(start=start, limit=limit, **filters).json()
        ids += [value["id"] for value in page["values"]]
        start += limit
        if start >= page["total"]:
            return ids


def _ids(page: dict[str, Any]) -> list[str]:
    return [value["id"] for value in page["values"]]


# -- LIST-01: the envelope ----------------------------------------------------------------------------------------


@pytest.mark.requirement("LIST-01")
def test_list_gets_200_with_a_search_result(api, shop_id):
    api.create(shopId=shop_id)

    response = api.list(shopId=shop_id)

    assert response.status_code == 200
    page = response.json()
    assert isinstance(page["values"], list)
    assert all(type(page[field]) is int for field in ("skip", "limit", "total"))


@pytest.mark.requirement("LIST-01")
def test_list_defaults_to_start_0_and_limit_100(api):
    page = api.list().json()

    assert (page["skip"], page["limit"]) == (0, 100)


@pytest.mark.requirement("LIST-01")
@pytest.mark.parametrize(("start", "limit"), [(0, 1), (2, 3), (4, 100), (9, 50)])
def test_list_echoes_the_start_and_limit_used(api, shop_id, start, limit):
    for _ in range(5):
        api.create(shopId=shop_id)

    page = api.list(shopId=shop_id, start=start, limit=limit).json()

    assert (page["skip"], page["limit"]) == (start, limit)


@pytest.mark.requirement("LIST-01")
@pytest.mark.parametrize("limit", [1, 2, 4])
def test_list_values_never_exceed_the_limit(api, shop_id, limit):
    for _ in range(5):
        api.create(shopId=shop_id)

    assert len(api.list(shopId=shop_id, limit=limit).json()["values"]) == limit


# -- LIST-02: total counts every live match, whatever the page --------------------------------------------------


@pytest.mark.requirement("LIST-02")
@pytest.mark.parametrize(("start", "limit"), [(0, 2), (4, 2), (6, 5), (0, 100), (7, 1), (50, 10)])
def test_list_total_counts_every_match_whatever_the_page(api, shop_id, start, limit):
    for _ in range(7):
        api.create(shopId=shop_id)

    assert api.list(shopId=shop_id, start=start, limit=limit).json()["total"] == 7


@pytest.mark.requirement("LIST-02")
def test_list_total_counts_only_live_records(api, shop_id):
    records = [api.create(shopId=shop_id) for _ in range(5)]
    for record in records[:2]:
        api.delete(record["id"])

    assert api.list(shopId=shop_id, limit=1).json()["total"] == 3


@pytest.mark.requirement("LIST-02")
def test_list_total_counts_only_records_that_match_the_filters(api, shop_id):
    for event_type in ("NEW_MEMBER", "NEW_MEMBER", "UPDATE_MEMBER"):
        api.create(shopId=shop_id, webHookType=event_type)
    api.create(shopId=shop_id + "-other", webHookType="NEW_MEMBER")

    assert api.list(shopId=shop_id, type="NEW_MEMBER", limit=1).json()["total"] == 2


# -- LIST-03: paging returns every record exactly once, in a stable order ---------------------------------------


@pytest.mark.requirement("LIST-03")
@pytest.mark.parametrize("limit", [1, 3, 7])
def test_paging_returns_every_record_exactly_once(api, shop_id, limit):
    created = [api.create(shopId=shop_id)["id"] for _ in range(20)]

    walked = _walk(api, limit, shopId=shop_id)

    assert sorted(walked) == sorted(created)


@pytest.mark.requirement("LIST-03")
@pytest.mark.parametrize("limit", [1, 3, 7])
def test_paging_order_is_stable_between_walks(api, shop_id, limit):
    for _ in range(20):
        api.create(shopId=shop_id)

    assert _walk(api, limit, shopId=shop_id) == _walk(api, limit, shopId=shop_id)


@pytest.mark.requirement("LIST-03")
def test_paging_order_is_the_same_for_every_page_size(api, shop_id):
    for _ in range(20):
        api.create(shopId=shop_id)

    whole = _ids(api.list(shopId=shop_id).json())

    assert [_walk(api, limit, shopId=shop_id) for limit in (1, 3, 7)] == [whole] * 3


@pytest.mark.requirement("LIST-03")
def test_paging_without_filters_returns_every_record_exactly_once(api, shop_id):
    created = [api.create(shopId=f"{shop_id}-{n % 3}")["id"] for n in range(20)]

    assert sorted(_walk(api, 6)) == sorted(created)


# -- LIST-04: filters match exactly ------------------------------------------------------------------------------


@pytest.fixture
def shops(api, shop_id) -> dict[str, list[str]]:
    """Records in a shop and in shops whose ids differ only by case, a prefix or a suffix: shop -> ids."""
    variants = {
        "exact": shop_id,
        "upper case": shop_id.upper(),
        "prefix": shop_id[:-1],
        "suffix": shop_id + "0",
        "padded": f" {shop_id} ",
    }
    return {
        name: [api.create(shopId=shop, webHookType="NEW_MEMBER")["id"] for _ in range(2)]
        for name, shop in variants.items()
    }


@pytest.mark.requirement("LIST-04")
def test_shop_filter_returns_exactly_the_records_of_that_shop(api, shop_id, shops):
    assert _ids(api.list(shopId=shop_id).json()) == shops["exact"]


@pytest.mark.requirement("LIST-04")
def test_shop_filter_is_case_sensitive(api, shop_id, shops):
    assert _ids(api.list(shopId=shop_id.upper()).json()) == shops["upper case"]


@pytest.mark.requirement("LIST-04")
def test_shop_filter_is_not_a_prefix_match(api, shop_id, shops):
    assert _ids(api.list(shopId=shop_id[:-1]).json()) == shops["prefix"]


@pytest.mark.requirement("LIST-04")
def test_shop_filter_does_not_trim_spaces(api, shop_id, shops):
    assert _ids(api.list(shopId=f" {shop_id} ").json()) == shops["padded"]


@pytest.mark.requirement("LIST-04")
def test_shop_filter_matches_a_unicode_shop_exactly(api):
    mine = api.create(shopId="Bäckerei-東京")["id"]
    api.create(shopId="Backerei-東京")

    assert _ids(api.list(shopId="Bäckerei-東京").json()) == [mine]


@pytest.mark.requirement("LIST-04")
def test_shop_filter_without_a_match_is_empty(api, shop_id, shops):
    page = api.list(shopId=shop_id + "-nothing").json()

    assert (page["values"], page["total"]) == ([], 0)


@pytest.fixture
def typed(api, shop_id) -> dict[tuple[str, str | None], list[str]]:
    """Records over two shops and three event types (one of them none): (shop, type) -> ids."""
    records: dict[tuple[str, str | None], list[str]] = {}
    for shop in (shop_id, shop_id + "-b"):
        for event_type in ("NEW_MEMBER", "UPDATE_MEMBER", None, "NEW_MEMBER"):
            records.setdefault((shop, event_type), []).append(api.create(shopId=shop, webHookType=event_type)["id"])
    return records


@pytest.mark.requirement("LIST-04")
def test_type_filter_returns_exactly_the_records_of_that_type(api, shop_id, typed):
    expected = sorted(typed[(shop_id, "NEW_MEMBER")] + typed[(shop_id + "-b", "NEW_MEMBER")])

    assert sorted(_ids(api.list(type="NEW_MEMBER").json())) == expected


@pytest.mark.requirement("LIST-04")
def test_shop_and_type_filters_intersect(api, shop_id, typed):
    page = api.list(shopId=shop_id, type="UPDATE_MEMBER").json()

    assert (_ids(page), page["total"]) == (typed[(shop_id, "UPDATE_MEMBER")], 1)


@pytest.mark.requirement("LIST-04")
def test_type_filter_without_a_match_is_empty(api, shop_id, typed):
    page = api.list(type="UPDATE_PRODUCT").json()

    assert (page["values"], page["total"]) == ([], 0)


# -- LIST-05: past the end -----------------------------------------------------------------------------------------


@pytest.mark.requirement("LIST-05")
@pytest.mark.parametrize("start", [3, 4, 100, 10**6, 2**63, 10**30])
def test_list_start_at_or_past_total_gets_an_empty_page_and_the_total(api, shop_id, start):
    for _ in range(3):
        api.create(shopId=shop_id)

    response = api.list(shopId=shop_id, start=start)

    assert response.status_code == 200, response.text
    assert (response.json()["values"], response.json()["total"]) == ([], 3)


@pytest.mark.requirement("LIST-05")
def test_list_of_an_empty_company_is_an_empty_page(api):
    page = api.list().json()

    assert (page["values"], page["total"]) == ([], 0)


# -- LIST-06: bad query parameters get 400 ------------------------------------------------------------------------

BAD_PARAMETERS = {
    "start -1": {"start": "-1"},
    "start -100": {"start": "-100"},
    "limit 0": {"limit": "0"},
    "limit -1": {"limit": "-1"},
    "start abc": {"start": "abc"},
    "limit abc": {"limit": "abc"},
    "start 1.5": {"start": "1.5"},
    "limit 1.5": {"limit": "1.5"},
    "limit 1e2": {"limit": "1e2"},
    "start 0x10": {"start": "0x10"},
    "limit 10abc": {"limit": "10abc"},
    "start true": {"start": "true"},
    "type unknown": {"type": "UNKNOWN_EVENT"},
    "type lower case": {"type": "new_member"},
    "type with suffix": {"type": "NEW_MEMBERS"},
}


@pytest.mark.requirement("LIST-06")
@pytest.mark.parametrize("params", BAD_PARAMETERS.values(), ids=BAD_PARAMETERS.keys())
def test_list_with_a_bad_parameter_gets_400(api, params):
    response = api.list(**params)

    assert response.status_code == 400, response.text
    assert isinstance(response.json().get("message"), str)


@pytest.mark.requirement("LIST-06")
@pytest.mark.parametrize("params", [{"start": "0"}, {"limit": "1"}, {"limit": "100"}, {"type": "UPDATE_PRODUCT"}])
def test_list_with_boundary_parameters_is_accepted(api, params):
    assert api.list(**params).status_code == 200


# -- LIST-07: writes show at once ----------------------------------------------------------------------------------


@pytest.mark.requirement("LIST-07")
def test_list_shows_a_created_record_at_once(api, shop_id):
    api.list(shopId=shop_id)

    record = api.create(shopId=shop_id)

    assert api.list(shopId=shop_id).json()["values"] == [record]


@pytest.mark.requirement("LIST-07")
def test_list_shows_an_updated_record_with_its_new_fields_at_once(api, shop_id):
    record = api.create(shopId=shop_id, webHookType="NEW_MEMBER")
    api.list(shopId=shop_id)

    updated = api.put(record["id"], json={**record, "webHookType": "UPDATE_MEMBER"}).json()

    assert api.list(shopId=shop_id).json()["values"] == [updated]


@pytest.mark.requirement("LIST-07")
def test_list_drops_a_deleted_record_at_once(api, shop_id):
    record = api.create(shopId=shop_id)
    api.list(shopId=shop_id)

    api.delete(record["id"])

    assert api.list(shopId=shop_id).json()["values"] == []


@pytest.mark.requirement("LIST-07", "LIST-04")
def test_list_follows_a_record_that_moves_to_another_shop(api, shop_id):
    record = api.create(shopId=shop_id)
    api.list(shopId=shop_id)

    api.put(record["id"], json={**record, "shopId": shop_id + "-new"})

    assert api.list(shopId=shop_id).json()["total"] == 0
    assert api.list(shopId=shop_id + "-new").json()["total"] == 1


# -- LIST-08: limits above 100 are clamped -------------------------------------------------------------------------


@pytest.mark.requirement("LIST-08")
@pytest.mark.parametrize("limit", [101, 1000, 10**30])
def test_list_limit_above_100_is_clamped_to_100(api, shop_id, limit):
    for _ in range(101):
        api.create(shopId=shop_id)

    response = api.list(shopId=shop_id, limit=limit)

    assert response.status_code == 200, response.text
    page = response.json()
    assert (len(page["values"]), page["limit"], page["total"]) == (100, 100, 101)
