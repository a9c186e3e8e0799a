from conformance.reference.api import WebHooksApi
SHOP = "partner-shop-7"
def test_who(reference_server, api, check_reference, monkeypatch):
    shops = [SHOP, SHOP, SHOP, f"{SHOP}x", SHOP.upper(), None]
    kinds = ["UPDATE_PRODUCT", "CANCEL_TRANSACTION", None, "CANCEL_TRANSACTION", "UPDATE_PRODUCT", "NEW_MEMBER"]
    pre = [api.create(shopId=s, webHookType=k, webHookUrls=[f"https://partner.example.com/hooks/{i}"]) for i, (s, k) in enumerate(zip(shops, kinds))]
    ids = {r["id"] for r in pre}
    orig = WebHooksApi.handle
    def handle(self, method, target, headers, body):
        r = orig(self, method, target, headers, body)
        if any(i in target for i in ids):
            print("TOUCH", method, target[:100], r.status, body[:200])
        return r
    monkeypatch.setattr(WebHooksApi, "handle", handle)
    check_reference(base_url=reference_server.base_url, shop_id=SHOP, only="LIST,HTTP")
    print([ (r.id, r.shop_id, r.deleted) for r in reference_server.api.store.records(None, include_deleted=True) if r.id in ids])
    print(api.list(limit=100).json()["total"])
    assert 0
