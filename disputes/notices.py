"""Telling the buyer and the seller what happened to their case (in-app notifications)."""
from __future__ import annotations

from sqlalchemy.orm import Session

from disputes.models import DisputeCase, Party
from marketplace_core.social.models import NotificationKind
from marketplace_core.social.notifications import notify


def tell(s: Session, case: DisputeCase, party: Party, message: str) -> None:
    recipient = case.buyer_id if party == Party.BUYER else case.seller_id
    notify(s, recipient, NotificationKind.CASE_UPDATE, listing_id=case.listing_id,
           payload={"case_id": case.id, "order_id": case.order_id, "state": case.state,
                    "message": message})


def tell_both(s: Session, case: DisputeCase, message: str) -> None:
    tell(s, case, Party.BUYER, message)
    tell(s, case, Party.SELLER, message)
