"""Every module that declares tables, so that metadata (and Alembic) sees all of them."""
from __future__ import annotations

import importlib

from foundation.db import Base

MODEL_MODULES = (
    "foundation.staff.models",
    "foundation.audit.models",
    "marketplace_core.members.models",
    "marketplace_core.listings.models",
    "marketplace_core.ledger.models",
    "marketplace_core.orders.models",
    "marketplace_core.offers.models",
    "marketplace_core.social.models",
    "marketplace_core.shipping.models",
    "marketplace_core.seed.models",
    "marketplace_core.outbox.models",
    "authentication.models",
    "disputes.models",
    "vision.modelops.models",
    "vision.models",
    "vision.counterfeit.models",
    "trust.signals.models",
    "trust.recommender.models",
)


def load_all_models():
    for module in MODEL_MODULES:
        importlib.import_module(module)
    return Base.metadata
