"""A tiny generated marketplace (the benchmark's generator, a few dozen members): enough
for the ranker to learn from and for the feed to serve."""
from __future__ import annotations

from datetime import timedelta

import pytest

from bench.recommendation_data import Size, generate
from foundation import clock, db
from marketplace_core.members import services as member_services
from marketplace_core.members.models import Member

TINY = Size(members=40, sellers=12, listings=600, interactions_per_member=20)


@pytest.fixture
def world(app):
    with db.unit_of_work() as s:
        generated = generate(s, TINY, seed=3)
    # The product runs "now": just after the snapshot the generator wrote.
    clock.freeze(generated.cut + timedelta(hours=1))
    return generated


def member_headers(member_id: int) -> dict:
    with db.unit_of_work() as s:
        token = member_services.issue_token(s, s.get(Member, member_id))
    return {"Authorization": f"Bearer {token}"}
