"""Offers through the public API, on listings made through the listings services."""
from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from tests.builders import API
from tests.builders.listings import listing_through_services

_photo = itertools.count(1)


def moment_in_the_past() -> datetime:
    """A frozen 'now' 36 hours back: a 24-hour timer armed at it is already due in real
    time (so the real RQ scheduler in `jobs.run_pending()` fires it), while a timer armed
    23 hours later (a counter) is not due yet."""
    return (datetime.now(UTC) - timedelta(hours=36)).replace(microsecond=0)


def live_listing(seller: dict, price_paise: int = 200_000, **fields) -> int:
    """A published kurta of a seller registered through the API."""
    data = {"title": f"Chikankari kurta {next(_photo)}", "brand": "Fabindia",
            "category": "kurtas", "size": "M", "condition": "like_new",
            "price_paise": price_paise, **fields}
    return listing_through_services(seller["id"], data, media_key=f"{next(_photo):064x}")


def make_offer(client, buyer: dict, listing_id: int, amount_paise: int,
               payment_method: str = "test_card_ok"):
    return client.post(f"{API}/listings/{listing_id}/offers", headers=buyer["headers"],
                       json={"amount_paise": amount_paise, "payment_method": payment_method})


def act(client, member: dict, offer_id: int, action: str, body: dict | None = None):
    return client.post(f"{API}/offers/{offer_id}/{action}", headers=member["headers"],
                       json=body if body is not None else None)
