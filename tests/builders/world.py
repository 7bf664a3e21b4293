"""A small world with one of everything a console or API route can point at (a member, a
listing with a stored photo waiting for authentication, a delivered order with a dispute
case and its photo), and the values that fill any route's URL parameters from it.

Route sweeps fill every `<int:...>` with an id of this world; where an id names a
different kind of object (a model version, a flag) the route answers 404 for the roles it
admits, which the sweeps accept, since a role it refuses must still get its 403 or
sign-in first (permission is checked before the object is looked up)."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from werkzeug.routing import Rule

from authentication.models import AuthenticationRequest
from foundation import db
from marketplace_core.members import services as member_services
from marketplace_core.members.models import Member
from marketplace_core.social import comments
from tests.builders.cases import HIGH, open_case, seller_responds, sold_and_delivered
from tests.builders.listings import listing_through_services


@dataclass(frozen=True)
class World:
    order_id: int
    case_id: int
    buyer_id: int
    buyer_username: str
    listing_id: int
    live_listing_id: int
    authentication_request_id: int


def seed_world(text: str = "") -> World:
    """The world; `text` (a script payload, say) goes into every member-controlled text
    field of it: listing titles and descriptions, a comment, the buyer's display name, bio
    and city, the dispute's description and the seller's answer."""
    order = sold_and_delivered()
    case_id = open_case(order, description=text or "The colours are not as in the photos.")
    seller_responds(order, case_id, body=text or "It was perfect when sent.")
    pending = listing_through_services(order.seller_id, {
        "title": f"Hermes Birkin 30 {text}", "description": text, "brand": "Hermes",
        "category": "sarees", "size": "Free size", "condition": "like_new",
        "price_paise": HIGH, "weight_grams": 900})
    live = listing_through_services(order.seller_id, {
        "title": f"Chanderi kurta {text}", "description": text, "brand": "Fabindia",
        "category": "sarees", "size": "Free size", "condition": "like_new",
        "price_paise": 90_000, "weight_grams": 400})
    with db.unit_of_work() as s:
        buyer = s.get(Member, order.buyer_id)
        if text:
            member_services.update_profile(s, buyer, {"display_name": text[:60], "bio": text,
                                                      "city": text[:60]})
            comments.add_comment(s, buyer, live, text)
        username = buyer.username
        request_id = s.scalar(select(AuthenticationRequest.id).where(
            AuthenticationRequest.listing_id == pending))
    return World(order_id=order.order_id, case_id=case_id, buyer_id=order.buyer_id,
                 buyer_username=username, listing_id=pending, live_listing_id=live,
                 authentication_request_id=request_id)


_TEXT_VALUES = {"username": None, "kind": "counterfeit", "job_id": "no-such-job",
                "decision": "confirm", "export": "no_such_export", "export_type": "csv",
                "filename": "console.css"}


def url_for_rule(rule: Rule, world: World) -> str:
    """The rule's path with every parameter filled from the world."""
    values: dict[str, object] = {}
    for name in rule.arguments:
        if name in _TEXT_VALUES:
            values[name] = _TEXT_VALUES[name] or world.buyer_username
        else:
            values[name] = 1
    _, path = rule.build(values, append_unknown=False)
    return path
