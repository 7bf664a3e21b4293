"""Members and listings for the social tests (follows, likes, comments, parties), and
their notifications read through the public API."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from foundation import db
from marketplace_core.listings import services as listing_services
from marketplace_core.members.models import Member
from tests.builders import API, members
from tests.builders.listings import listing_through_services

T0 = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)

SAREE = {"title": "Banarasi silk saree", "brand": "Nalli", "category": "sarees",
         "size": "Free size", "condition": "like_new", "price_paise": 450_000}
KURTA = {"title": "Chikankari kurta", "brand": "Fabindia", "category": "kurtas",
         "size": "M", "condition": "good", "price_paise": 120_000}
NOT_LIVE = ("draft", "pending_authentication", "sold", "removed")


@dataclass(frozen=True)
class Account:
    id: int
    username: str
    headers: dict


def register(client, username: str) -> Account:
    member = members.register(client, username)
    return Account(member["id"], username, member["headers"])


def follow(client, follower: Account, followee: Account) -> None:
    response = client.post(f"{API}/closets/{followee.username}/follow",
                           headers=follower.headers)
    assert response.status_code == 200, response.get_json()


def make_listing(seller: Account, *, publish: bool = True, **fields) -> int:
    return listing_through_services(seller.id, {**SAREE, **fields}, publish=publish,
                                    media_key="ab" * 32, width=1200, height=1600)


def set_status(seller: Account, listing_id: int, status: str) -> None:
    """Sell or withdraw a live listing."""
    with db.unit_of_work() as s:
        listing = listing_services.get_listing(s, listing_id)
        if status == "sold":
            listing_services.mark_sold(s, listing, "order:test")
        else:
            listing_services.withdraw(s, s.get(Member, seller.id), listing)


def listing_in(seller: Account, status: str, **fields) -> int:
    """A listing of `seller` in the given status, made the way the product makes it."""
    if status == "draft":
        return make_listing(seller, publish=False, **fields)
    if status == "pending_authentication":
        listing_id = make_listing(seller, **{**fields, "price_paise": 2_500_000})
    else:
        listing_id = make_listing(seller, **fields)
    if status in ("sold", "removed"):
        set_status(seller, listing_id, status)
    with db.unit_of_work() as s:
        assert listing_services.get_listing(s, listing_id).status == status
    return listing_id


def notifications(client, account: Account, **params) -> dict:
    response = client.get(f"{API}/notifications", headers=account.headers,
                          query_string=params)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def kinds(client, account: Account) -> list[str]:
    return [n["kind"] for n in notifications(client, account, limit=100)["items"]]


def error_code(response) -> str:
    return response.get_json()["error"]["code"]
