"""Every module that registers jobs (and periodic sweeps), imported by workers at start."""
from __future__ import annotations

import importlib

TASK_MODULES: tuple[str, ...] = (
    "foundation.maintenance",
    "marketplace_core.orders.tasks",
    "marketplace_core.offers.tasks",
    "marketplace_core.social.tasks",
    "marketplace_core.shipping.tasks",
    "authentication.tasks",
    "disputes.tasks",
    "vision.modelops.tasks",
    "vision.tasks",
    "vision.counterfeit.tasks",
    "trust.signals.tasks",
    "trust.recommender.tasks",
)


def load_all_tasks() -> None:
    for module in TASK_MODULES:
        importlib.import_module(module)
