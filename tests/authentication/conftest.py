"""Fixtures shared by the authentication tests: a seller and reviewers on the staff API."""
from __future__ import annotations

import pytest

from tests.authentication.support import Reviewer
from tests.builders.members import register


@pytest.fixture
def owner(client):
    return register(client)


@pytest.fixture
def reviewer(client, staff):
    return Reviewer(client, staff, "authenticator")


@pytest.fixture
def senior(client, staff):
    return Reviewer(client, staff, "senior_authenticator")
