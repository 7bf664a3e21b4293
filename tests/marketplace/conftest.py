"""Fixtures shared by the marketplace tests."""
from __future__ import annotations

from datetime import datetime

import pytest

from foundation import clock, events
from marketplace_core.orders import payments
from tests.builders.offers import moment_in_the_past


@pytest.fixture
def t0(app) -> datetime:
    """The offers tests' frozen 'now': 36 hours back (see `moment_in_the_past`)."""
    moment = moment_in_the_past()
    clock.freeze(moment)
    return moment


@pytest.fixture
def provider(monkeypatch) -> payments.SimulatedPaymentProvider:
    """A new simulated provider for one test, so that what reached it is that test's."""
    fresh = payments.SimulatedPaymentProvider()
    monkeypatch.setitem(payments._installed, "provider", fresh)
    return fresh


@pytest.fixture
def emitted(monkeypatch) -> list[tuple[str, dict]]:
    """The order events emitted during one test (handlers restored after it)."""
    seen: list[tuple[str, dict]] = []
    for name in (events.OrderPlaced, events.OrderDelivered, events.OrderCompleted,
                 events.OrderCancelled):
        def recorder(_s, _name=name, **payload):
            seen.append((_name, payload))
        monkeypatch.setitem(events._handlers, name, [*events._handlers[name], recorder])
    return seen
