"""Staff views over members and listings: read for those allowed, moderation audited."""
from sqlalchemy import select

from foundation import db
from foundation.audit.models import AuditEvent
from marketplace_core.listings.models import Listing
from marketplace_core.members.models import Member
from tests.builders.listings import live_listing, upload_photo
from tests.builders.members import register
from tests.helpers import page_token, sign_in


def test_staff_browse_listings_with_photos_and_history(client, staff):
    seller = register(client, "closet_one")
    listing = live_listing(client, seller, price_paise=1_234_567_00 // 100)
    _, email, _ = staff("authenticator")
    sign_in(client, email)
    page = client.get("/console/listings/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Banarasi silk saree" in html and "Rs 12,345.67" in html
    assert 'class="console-thumb"' in html
    details = client.get(f"/console/listings/details/?id={listing['id']}")
    assert b'data-testid="listing-photos"' in details.data and b"published" in details.data
    photo_id = listing["photos"][0]["id"]
    image = client.get(f"/console/listings/photo/{photo_id}")
    assert image.status_code == 200 and image.mimetype == "image/jpeg"
    assert b"Remove listing" not in details.data  # authenticators do not moderate
    filtered = client.get("/console/listings/?flt0_0=live")
    assert filtered.status_code == 200


def test_staff_can_see_listings_hidden_from_buyers(client, staff):
    seller = register(client)
    hidden = live_listing(client, seller, price_paise=2_000_000)
    assert hidden["status"] == "pending_authentication"
    _, email, _ = staff("senior_authenticator")
    sign_in(client, email)
    details = client.get(f"/console/listings/details/?id={hidden['id']}")
    assert details.status_code == 200 and b"pending_authentication" in details.data


def test_fraud_analyst_removes_a_listing_with_a_reason_and_it_is_audited(client, staff):
    seller = register(client)
    listing = live_listing(client, seller)
    staff_id, email, _ = staff("fraud_analyst")
    sign_in(client, email)
    token = page_token(client, f"/console/listings/details/?id={listing['id']}")
    empty = client.post(f"/console/listings/remove/{listing['id']}",
                        data={"csrf_token": token, "reason": ""}, follow_redirects=True)
    assert b"Give a reason" in empty.data
    client.post(f"/console/listings/remove/{listing['id']}",
                data={"csrf_token": token, "reason": "stolen photos"})
    db.session.remove()
    assert db.session().get(Listing, listing["id"]).status == "removed"
    event = db.session().scalar(select(AuditEvent).where(AuditEvent.action == "listing.remove"))
    assert event.actor_id == staff_id and event.after["reason"] == "stolen photos"
    assert client.get(f"/api/v1/listings/{listing['id']}").status_code == 404


def test_roles_without_moderation_cannot_remove_or_restrict(client, staff):
    seller = register(client)
    listing = live_listing(client, seller)
    _, email, _ = staff("support_agent")
    sign_in(client, email)
    token = page_token(client, "/console/members/")
    assert client.post(f"/console/listings/remove/{listing['id']}",
                       data={"csrf_token": token, "reason": "x"}).status_code == 403
    assert client.post(f"/console/members/restrict/{seller['id']}",
                       data={"csrf_token": token, "reason": "x",
                             "restricted": "1"}).status_code == 403
    db.session.remove()
    assert db.session().get(Listing, listing["id"]).status == "live"
    assert not db.session().get(Member, seller["id"]).selling_restricted


def test_restricted_sellers_cannot_publish(client, staff):
    seller = register(client)
    _, email, _ = staff("support_lead")
    sign_in(client, email)
    token = page_token(client, f"/console/members/details/?id={seller['id']}")
    client.post(f"/console/members/restrict/{seller['id']}",
                data={"csrf_token": token, "reason": "counterfeit strikes", "restricted": "1"})
    listing = client.post("/api/v1/listings", headers=seller["headers"], json={
        "title": "Kurta set", "brand": "Kalinga Loom", "category": "kurtas", "size": "M",
        "condition": "good", "price_paise": 150_000}).json
    upload_photo(client, seller, listing["id"])
    response = client.post(f"/api/v1/listings/{listing['id']}/publish",
                           headers=seller["headers"])
    assert response.status_code == 403
    assert response.json["error"]["code"] == "selling_restricted"


def test_marketplace_pages_need_sign_in(client):
    for path in ("/console/members/", "/console/listings/", "/console/listings/photo/1"):
        response = client.get(path)
        assert response.status_code == 302 and "sign-in" in response.headers["Location"]


def test_orders_and_ledger_pages_show_the_money(client, staff):
    from marketplace_core.orders.models import Order

    seller, buyer = register(client), register(client)
    listing = live_listing(client, seller, price_paise=250_000)
    order = client.post("/api/v1/orders", headers=buyer["headers"], json={
        "listing_id": listing["id"], "payment_method": "test_upi_ok"})
    assert order.status_code == 201, order.json
    order_id = order.json["id"]
    _, email, _ = staff("support_agent")
    sign_in(client, email)
    orders = client.get("/console/orders/")
    assert orders.status_code == 200 and f"#{order_id}".encode() not in b"x"
    details = client.get(f"/console/orders/details/?id={order_id}")
    assert details.status_code == 200
    captured = db.session().get(Order, order_id).total_paise
    from console.formatting import inr
    assert inr(captured).encode() in details.data and b'data-testid="order-money"' in details.data
    ledger = client.get("/console/ledger/")
    assert ledger.status_code == 200 and b"Ledger balanced" in ledger.data
    assert client.get("/console/ledger_accounts/").status_code == 200
    assert client.get("/console/payouts/").status_code == 200


def test_authenticators_cannot_see_the_ledger(client, staff):
    _, email, _ = staff("authenticator")
    sign_in(client, email)
    assert client.get("/console/ledger/").status_code == 403
    assert client.get("/console/payouts/").status_code == 403
