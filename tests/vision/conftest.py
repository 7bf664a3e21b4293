from __future__ import annotations

import pytest

from tests.vision.support import with_pipeline
from vision.index_store import forget_cached_index


@pytest.fixture
def settings(settings):
    """The pipeline runs on every upload here (the rest of the suite turns it off)."""
    return with_pipeline(settings)


@pytest.fixture(autouse=True)
def fresh_index_cache():
    forget_cached_index()  # every test has its own instance folder and Redis contents
    yield
    forget_cached_index()
