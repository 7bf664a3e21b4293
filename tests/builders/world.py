"""A small world with one of everything a console or API route can point at (a member, a
listing with a stored photo waiting for authentication, a delivered order with a dispute
case and its photo), and the values that fill any route's URL parameters from it.

Route sweeps fill every `<int:...>` with an id of this world; where an id names a
different kind of object (a model version, a flag) the route answers 404 for the roles it
admits, which the sweeps accept, since a role it refuses must still get its 403 or
sign-in first (permission is checked before the object is looked up)."""
from __future__ import annotations

from dataclasses import dataclass

from werkzeug.routing import Rule

from foundation import db
from marketplace_core.members.models import Member
from tests.builders.cases import HIGH, open_case, sold_and_delivered
from tests.builders.listings import listing_through_services


@dataclass(frozen=True)
class World:
    order_id: int
    case_id: int
    buyer_username: str
    listing_id: int


def seed_world() -> World:
    order = sold_and_delivered()
    case_id = open_case(order, description="The colours are not as in the photos.")
    pending = listing_through_services(order.seller_id, {
        "title": "Hermes Birkin 30", "brand": "Hermes", "category": "sarees", "size": "Free size",
        "condition": "like_new", "price_paise": HIGH, "weight_grams": 900})
    with db.unit_of_work() as s:
        username = s.get(Member, order.buyer_id).username
    return World(order_id=order.order_id, case_id=case_id, buyer_username=username,
                 listing_id=pending)


_TEXT_VALUES = {"username": None, "kind": "counterfeit", "job_id": "no-such-job",
                "decision": "confirm", "export_type": "csv", "filename": "console.css"}


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
