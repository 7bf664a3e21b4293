"""What vision announces (through the marketplace's event registry, in the transaction
that changed it), for the packages above it: trust signals listen.

    DUPLICATE_FLAG_RECORDED   flag_id, listing_id     a new duplicate flag (open)
    DUPLICATE_FLAG_REVIEWED   flag_id, listing_id, status   confirmed or dismissed
    COUNTERFEIT_SCORED        listing_id, score        a listing's risk score changed
"""
from __future__ import annotations

DUPLICATE_FLAG_RECORDED = "vision.duplicate_flag_recorded"
DUPLICATE_FLAG_REVIEWED = "vision.duplicate_flag_reviewed"
COUNTERFEIT_SCORED = "vision.counterfeit_scored"
