"""Fixtures shared by the marketplace tests."""
from __future__ import annotations

from datetime import datetime

import pytest

from foundation import clock
from tests.marketplace.test_offers_support import moment_in_the_past


@pytest.fixture
def t0(app) -> datetime:
    """The offers tests' frozen 'now': 36 hours back (see `moment_in_the_past`)."""
    moment = moment_in_the_past()
    clock.freeze(moment)
    return moment
