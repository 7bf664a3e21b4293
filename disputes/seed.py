"""The demo's not-as-described cases, opened and answered through the real services.

Runs after the marketplace seed (`flask seed`): buyers of some delivered orders report a
problem with a photo of it (the listing's own covershot with damage drawn on it, so the
agents' workspace shows real pixels side by side), some sellers answer, some do not yet,
so the support queue has work in every state a demo needs.
"""
from __future__ import annotations

import random
from datetime import datetime, timedelta

import numpy as np
from sqlalchemy import select

from disputes import opening, responses
from disputes.evidence import Upload
from disputes.models import CaseReason, DisputeCase
from foundation import clock, db
from marketplace_core.listings.photos import open_stored
from marketplace_core.media._opencv import cv2
from marketplace_core.members.models import Member
from marketplace_core.orders.models import Order, OrderStatus

SHARE_REPORTED = 0.4
SHARE_ANSWERED = 0.5
DESCRIPTIONS = {
    CaseReason.UNDISCLOSED_DAMAGE: "There is a stain and a pulled thread that the listing "
                                   "did not mention.",
    CaseReason.WRONG_OR_MISSING_ITEM: "This is not the item in the photos: the colour and "
                                      "the print are different.",
    CaseReason.NOT_AS_DESCRIBED: "Listed as like new, but the fabric is faded and worn.",
    CaseReason.NOT_AUTHENTIC: "The logo and the stitching do not look genuine to me.",
}
SELLER_ANSWERS = ("It left my closet in the condition shown; please check the photos.",
                  "I am sorry about this; I am happy to take it back.")


def open_demo_cases(seed: int, real_now: datetime) -> dict[str, int]:
    rng = random.Random(seed + 5)
    outcome = {"opened": 0, "answered": 0}
    with db.unit_of_work() as s:
        delivered = list(s.scalars(select(Order.id).where(
            Order.status == OrderStatus.DELIVERED).order_by(Order.id)))
    for order_id in delivered:
        # Even a tiny demo gets one case, so the support queue is never empty.
        if outcome["opened"] and rng.random() >= SHARE_REPORTED:
            continue
        case_id = _report(rng, order_id, real_now)
        if case_id is None:
            continue
        outcome["opened"] += 1
        if rng.random() < SHARE_ANSWERED:
            _answer(rng, case_id, real_now)
            outcome["answered"] += 1
    clock.freeze(None)
    return outcome


def _report(rng: random.Random, order_id: int, real_now: datetime) -> int | None:
    with db.unit_of_work() as s:
        order = s.get(Order, order_id)
        window_left = opening.window_closes_at(order) - real_now
        if window_left <= timedelta(hours=1):
            return None
        clock.freeze(real_now - rng.uniform(0.0, 0.5) * (real_now - order.delivered_at))
        reason = rng.choice(list(CaseReason))
        photo = _damage_photo(rng, order.items[0].listing.photos[0].media_key)
        case = opening.open_case(s, s.get(Member, order.buyer_id), order_id, reason=reason,
                                 description=DESCRIPTIONS[reason], photos=[photo])
        return case.id


def _answer(rng: random.Random, case_id: int, real_now: datetime) -> None:
    clock.freeze(min(clock.now() + timedelta(hours=rng.randint(1, 12)), real_now))
    with db.unit_of_work() as s:
        case = s.get(DisputeCase, case_id)
        responses.respond(s, s.get(Member, case.seller_id), case_id,
                          body=rng.choice(SELLER_ANSWERS), photos=[])


def _damage_photo(rng: random.Random, media_key: str) -> Upload:
    """The covershot as the buyer would photograph it: a stain and a scratch drawn on."""
    image = cv2.imread(str(open_stored(media_key)), cv2.IMREAD_COLOR)
    height, width = image.shape[:2]
    centre = (int(width * rng.uniform(0.3, 0.7)), int(height * rng.uniform(0.3, 0.7)))
    overlay = image.copy()
    cv2.ellipse(overlay, centre, (width // 10, height // 14), rng.uniform(0, 180), 0, 360,
                (40, 70, 110), -1)
    image = cv2.addWeighted(overlay, 0.45, image, 0.55, 0)
    start = np.array(centre) + (width // 8, -height // 10)
    cv2.line(image, tuple(int(v) for v in start),
             (int(start[0] + width // 6), int(start[1] + height // 5)), (235, 235, 235), 3)
    ok, buffer = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 88])
    if not ok:
        raise RuntimeError("could not encode the demo case photo")
    return Upload(buffer.tobytes(), "image/jpeg", "problem.jpg")
