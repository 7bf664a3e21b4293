"""A tiny generated marketplace (the benchmark's generator, a few dozen members): enough
for the ranker to learn from and for the feed to serve."""
from __future__ import annotations

from datetime import timedelta

import pytest

from bench.recommendation_data import Size, generate
from foundation import clock, db

TINY = Size(members=40, sellers=12, listings=600, interactions_per_member=20)


@pytest.fixture
def world(app):
    with db.unit_of_work() as s:
        generated = generate(s, TINY, seed=3)
    # The product runs "now": just after the snapshot the generator wrote.
    clock.freeze(generated.cut + timedelta(hours=1))
    return generated
