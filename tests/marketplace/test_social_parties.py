"""Shares and Posh Parties: sharing to followers, themes, time windows, party listings."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from foundation import clock, db, jobs
from foundation.audit.models import AuditEvent
from foundation.errors import ValidationFailed
from foundation.staff.models import StaffUser
from marketplace_core.listings.models import Listing
from marketplace_core.members.models import Member
from marketplace_core.social import services
from marketplace_core.social.models import Notification, Party, Share
from marketplace_core.social.tasks import schedule_parties
from tests.builders import API
from tests.builders.rows import count
from tests.builders.social import KURTA, T0, error_code, kinds, make_listing, register, set_status

ONE_US = timedelta(microseconds=1)


def _party(title="Saree Soirée", starts_at=T0, hours=2, host=None, **theme) -> int:
    with db.unit_of_work() as s:
        party = services.create_party(
            s, title=title, starts_at=starts_at, ends_at=starts_at + timedelta(hours=hours),
            theme=services.Theme(**theme), host=s.get(Member, host.id) if host else None)
        return party.id


def _share(client, account, listing_id, **body):
    return client.post(f"{API}/listings/{listing_id}/share", headers=account.headers,
                       json=body or {"to": "followers"})


def _listing(listing_id: int) -> Listing:
    with db.unit_of_work() as s:
        return s.get(Listing, listing_id)


# --- sharing to followers ------------------------------------------------------------

def test_sharing_to_followers_bumps_the_listing_without_touching_its_version(client):
    clock.freeze(T0)
    seller, asha = register(client, "seller"), register(client, "asha")
    listing_id = make_listing(seller)
    before = _listing(listing_id)
    clock.freeze(T0 + timedelta(hours=3))

    response = _share(client, asha, listing_id)

    assert response.status_code == 201
    assert response.get_json() | {"id": 0} == {
        "id": 0, "listing_id": listing_id, "to": "followers", "party_id": None,
        "created_at": (T0 + timedelta(hours=3)).isoformat()}
    after = _listing(listing_id)
    assert before.last_shared_at == T0
    assert after.last_shared_at == T0 + timedelta(hours=3)
    assert after.version == before.version  # a share is not an edit of the listing
    newest = client.get(f"{API}/listings?sort=recently_shared").get_json()["items"]
    assert newest[0]["id"] == listing_id
    assert kinds(client, seller) == ["share"]


def test_the_seller_hears_about_shares_by_others_once_a_day(client):
    clock.freeze(T0)
    seller, asha = register(client, "seller"), register(client, "asha")
    listing_id = make_listing(seller)

    for _ in range(3):
        assert _share(client, asha, listing_id).status_code == 201
    assert _share(client, seller, listing_id).status_code == 201
    clock.freeze(T0 + timedelta(days=1))
    _share(client, asha, listing_id)

    assert kinds(client, seller) == ["share", "share"]
    assert count(Share) == 5


@pytest.mark.parametrize("body", [
    {"to": "party"},
    {"to": "followers", "party_id": 1},
    {"to": "everyone"},
    {"to": "party", "party_id": "1"},
    {"to": "party", "party_id": 0},
    {},
    {"to": "followers", "extra": True},
])
def test_bad_share_requests_are_refused_and_nothing_is_written(client, body):
    clock.freeze(T0)
    seller, asha = register(client, "seller"), register(client, "asha")
    listing_id = make_listing(seller)
    _party()

    response = client.post(f"{API}/listings/{listing_id}/share", headers=asha.headers,
                           json=body)

    assert response.status_code == 422 and "error" in response.get_json()
    assert count(Share) == 0 and count(Notification) == 0
    assert _listing(listing_id).last_shared_at == T0


def test_sharing_needs_a_member_and_a_known_party(client):
    clock.freeze(T0)
    seller, asha = register(client, "seller"), register(client, "asha")
    listing_id = make_listing(seller)

    anonymous = client.post(f"{API}/listings/{listing_id}/share", json={"to": "followers"})
    no_party = _share(client, asha, listing_id, to="party", party_id=424242)

    assert anonymous.status_code == 401
    assert no_party.status_code == 404
    assert count(Share) == 0


# --- parties: theme and time window ---------------------------------------------------

def test_a_listing_must_fit_the_party_category(client):
    clock.freeze(T0)
    seller, asha = register(client, "seller"), register(client, "asha")
    saree, kurta = make_listing(seller), make_listing(seller, **KURTA)
    party_id = _party(categories=("sarees",))

    fits = _share(client, asha, saree, to="party", party_id=party_id)
    misfit = _share(client, asha, kurta, to="party", party_id=party_id)

    assert fits.status_code == 201 and fits.get_json()["party_id"] == party_id
    assert misfit.status_code == 422 and error_code(misfit) == "not_in_theme"
    assert misfit.get_json()["error"]["fields"] == {"category": "this party takes sarees"}
    assert count(Share) == 1


def test_department_brand_and_price_rules(client):
    clock.freeze(T0)
    seller, asha = register(client, "seller"), register(client, "asha")
    kurta = make_listing(seller, **KURTA)  # indian_wear, Fabindia, Rs 1,200
    cases = [
        ({"departments": ("indian_wear",)}, 201),
        ({"departments": ("western_wear", "bags")}, 422),
        ({"brands": ("FabIndia", "Biba")}, 201),
        ({"brands": ("Biba",)}, 422),
        ({"min_price_paise": 120_000}, 201),
        ({"min_price_paise": 120_001}, 422),
        ({"max_price_paise": 120_000}, 201),
        ({"max_price_paise": 119_999}, 422),
    ]
    for n, (theme, expected) in enumerate(cases):
        party_id = _party(title=f"Party number {n}", **theme)
        response = _share(client, asha, kurta, to="party", party_id=party_id)
        assert response.status_code == expected, (theme, response.get_json())
    assert count(Share) == 4


@pytest.mark.parametrize(("offset", "expected"), [
    (-ONE_US, (409, "party_not_live")),
    (timedelta(0), (201, None)),
    (timedelta(hours=2) - ONE_US, (201, None)),
    (timedelta(hours=2), (409, "party_not_live")),
])
def test_sharing_into_a_party_only_while_it_is_live(client, offset, expected):
    clock.freeze(T0 - timedelta(days=1))
    seller, asha = register(client, "seller"), register(client, "asha")
    listing_id = make_listing(seller)
    party_id = _party(starts_at=T0, hours=2)

    clock.freeze(T0 + offset)
    response = _share(client, asha, listing_id, to="party", party_id=party_id)

    code = error_code(response) if response.status_code >= 400 else None
    assert (response.status_code, code) == expected
    assert count(Share) == (1 if expected[0] == 201 else 0)


# --- parties: listing them and their listings -----------------------------------------

def test_parties_lists_live_and_upcoming_soonest_first(client):
    clock.freeze(T0 - timedelta(days=1))
    host = register(client, "host")
    ended = _party(title="Yesterday's party", starts_at=T0 - timedelta(hours=3), hours=2)
    live = _party(title="Live party", starts_at=T0 - timedelta(hours=1), hours=2, host=host)
    later = _party(title="Evening party", starts_at=T0 + timedelta(hours=5))
    soon = _party(title="Soon party", starts_at=T0 + timedelta(hours=1))
    clock.freeze(T0)

    first = client.get(f"{API}/parties?limit=2").get_json()
    second = client.get(f"{API}/parties", query_string={"cursor": first["next"]}).get_json()

    assert [(p["id"], p["state"]) for p in first["items"] + second["items"]] == [
        (live, "live"), (soon, "upcoming"), (later, "upcoming")]
    assert second["next"] is None
    assert first["items"][0]["host_id"] == host.id
    assert client.get(f"{API}/parties/{ended}").get_json()["state"] == "ended"
    assert client.get(f"{API}/parties/999").status_code == 404
    assert client.get(f"{API}/parties?cursor=abc").status_code == 422


def test_party_listings_are_live_deduplicated_and_newest_share_first(client):
    clock.freeze(T0)
    seller, asha, ravi = (register(client, n) for n in ("seller", "asha", "ravi"))
    first, second, third, gone = (make_listing(seller, title=f"Saree {n}") for n in range(4))
    party_id = _party(hours=3)
    other_party = _party(title="Another party", hours=3)
    for minutes, (who, listing_id) in enumerate([
            (asha, first), (asha, second), (ravi, third), (ravi, gone), (ravi, first)]):
        clock.freeze(T0 + timedelta(minutes=minutes))
        assert _share(client, who, listing_id, to="party",
                      party_id=party_id).status_code == 201
    _share(client, asha, second, to="party", party_id=other_party)
    set_status(seller, gone, "removed")

    pages, cursor = [], None
    while True:
        page = client.get(f"{API}/parties/{party_id}/listings",
                          query_string={"limit": 1, **({"cursor": cursor} if cursor else {})}
                          ).get_json()
        pages.append([item["id"] for item in page["items"]])
        cursor = page["next"]
        if cursor is None:
            break

    assert [i for page in pages for i in page] == [first, third, second]
    assert all(len(page) <= 1 for page in pages)
    everything = client.get(f"{API}/parties/{party_id}/listings").get_json()
    assert everything["party"]["id"] == party_id
    assert everything["items"][0]["likes"] == 0
    assert client.get(f"{API}/parties/999/listings").status_code == 404
    assert client.get(f"{API}/parties/{party_id}/listings?cursor=xyz").status_code == 422


# --- creating parties -----------------------------------------------------------------

def test_party_creation_checks_its_inputs(app):
    clock.freeze(T0)
    with db.unit_of_work() as s:
        for kwargs, field in [
            ({"ends_at": T0 - timedelta(hours=1)}, "ends_at"),
            ({"ends_at": T0 + timedelta(hours=25)}, "ends_at"),
            ({"title": "x"}, "title"),
            ({"theme": services.Theme(categories=("saris",))}, "categories"),
            ({"theme": services.Theme(departments=("toys",))}, "departments"),
            ({"theme": services.Theme(min_price_paise=500, max_price_paise=100)},
             "max_price_paise"),
            ({"theme": services.Theme(min_price_paise=0)}, "min_price_paise"),
            ({"starts_at": T0 - timedelta(hours=5), "ends_at": T0 - timedelta(hours=3)},
             "ends_at"),
        ]:
            arguments = {"title": "Saree Soirée", "starts_at": T0,
                         "ends_at": T0 + timedelta(hours=2), **kwargs}
            with pytest.raises(ValidationFailed) as caught:
                services.create_party(s, **arguments)
            assert field in caught.value.fields, kwargs
    assert count(Party) == 0


def test_staff_created_parties_are_audited(app, staff):
    clock.freeze(T0)
    staff_id, _, _ = staff("admin")
    with db.unit_of_work() as s:
        party = services.create_party(
            s, title="Designer Bags", starts_at=T0, ends_at=T0 + timedelta(hours=2),
            theme=services.Theme(categories=("handbags",), brands=(" Hidesign ",)),
            actor=s.get(StaffUser, staff_id))
        party_id, created_by, brands = party.id, party.created_by, party.brand_keys
    assert (created_by, brands) == (f"staff:{staff_id}", ["hidesign"])
    with db.unit_of_work() as s:
        audit = s.scalars(select(AuditEvent).where(AuditEvent.action == "party.create")).all()
    assert [(a.actor_id, a.object_id) for a in audit] == [(staff_id, str(party_id))]


def test_seeding_a_day_is_idempotent_and_skips_slots_already_over(app):
    day = date(2026, 3, 2)
    clock.freeze(T0 + timedelta(hours=6))  # 17:30 in India: the 17:00 party is live
    with db.unit_of_work() as s:
        created = [p.title for p in services.seed_parties_for_day(s, day)]
        again = services.seed_parties_for_day(s, day)
        yesterday = services.seed_parties_for_day(s, day - timedelta(days=1))
    assert created == ["Under Rs 999", "Designer Bags", "Best in Western Wear",
                       "Sneaker Night"]
    assert again == [] and yesterday == []
    assert count(Party) == 4


def test_the_system_job_schedules_today_and_tomorrow_once(app):
    clock.freeze(T0)
    schedule_parties.enqueue_now()
    schedule_parties.enqueue_now()
    assert jobs.run_pending() == 2
    assert count(Party) == 2 * len(services.DAILY_SCHEDULE)
    assert count(Party, Party.created_by != "system") == 0
