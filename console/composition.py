"""The composition root: the wiring of the whole product, in one place.

Domain packages declare events (`foundation.events`), handlers (plain functions) and jobs
(`@jobs.job` in their task modules); nothing is subscribed or scheduled by importing a
module.  This module says:

- SUBSCRIPTIONS: which handlers react to each event, in the order they run (every event
  of the catalogue is listed, also those nobody listens to yet);
- TASK_MODULES: every module that declares jobs, so that a worker (and a service naming a
  task with `jobs.named`) knows them all;
- SCHEDULE: what the beat enqueues, and how often;
- LISTING_SIGNALS: what packages above authentication show its reviewers of a listing;
- CASE_SIGNALS: what packages above disputes show support staff of a case;
- MODEL_KINDS: the vision models analysts train, evaluate and promote.

`wire()` applies it (task modules register their jobs as they are imported above).
`create_app` calls it, so the web app, `flask worker`, `flask run-pending-jobs`, the
demo, the bench scripts and the tests all run with the same wiring; the worker commands
call it again, which changes nothing.  It imports every domain package, so it sits at the
top of the layers, with the console (nothing imports the console).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from types import ModuleType

import authentication.handlers
import authentication.tasks
import disputes.authentication_link
import disputes.handlers
import disputes.tasks
import foundation.maintenance
import marketplace_core.offers.handlers
import marketplace_core.offers.tasks
import marketplace_core.orders.tasks
import marketplace_core.outbox.tasks
import marketplace_core.shipping.handlers
import marketplace_core.shipping.tasks
import marketplace_core.social.handlers
import marketplace_core.social.tasks
import trust.recommender.tasks
import trust.signals.handlers
import trust.signals.tasks
import vision.case_photos
import vision.counterfeit.handlers
import vision.counterfeit.kind
import vision.counterfeit.tasks
import vision.duplicates
import vision.modelops.duplicate_kind
import vision.modelops.tasks
import vision.tasks
from authentication import signals as listing_signals
from disputes import signals as case_signals
from foundation import events, jobs
from foundation.events import Event, Handler
from vision.modelops.kinds import ModelKind, register_kind

offers = marketplace_core.offers.handlers
shipping = marketplace_core.shipping.handlers
social = marketplace_core.social.handlers
reviews = authentication.handlers
cases = disputes.handlers
counterfeit = vision.counterfeit.handlers
trust_signals = trust.signals.handlers

SUBSCRIPTIONS: dict[type[Event], tuple[Handler, ...]] = {
    # listings and photos
    events.ListingNeedsAuthentication: (
        reviews.open_or_reuse_request,
        counterfeit.score_later,
        trust_signals.listing_sent_to_authentication,
    ),
    events.ListingWentLive: (
        reviews.cancel_when_live_without_review,
        counterfeit.score_later,
        trust_signals.listing_went_live,
    ),
    events.ListingRemoved: (
        offers.close_offers_on_removed_listing,
        reviews.cancel_when_listing_removed,
        trust_signals.listing_removed,
    ),
    events.ListingPriceDropped: (
        social.tell_likers_about_price_drop,
        trust_signals.price_changed,
    ),
    events.PhotoStored: (
        reviews.requeue_when_photos_arrive,
        vision.tasks.sign_after_commit,
        counterfeit.score_later,
    ),
    events.PhotoRemoved: (
        vision.tasks.forget_after_commit,
    ),
    # members
    events.MemberFollowed: (
        social.tell_closet_about_follower,
    ),
    # orders
    events.OrderPlaced: (
        offers.close_offers_on_sold_items,
        social.tell_seller_about_sale,
        shipping.create_label_for_sale,
        trust_signals.order_placed,
    ),
    events.OrderDelivered: (
        social.tell_buyer_about_delivery,
        trust_signals.order_delivered,
    ),
    events.OrderCompleted: (
        social.tell_seller_about_completion,
        trust_signals.order_completed,
    ),
    events.OrderCancelled: (
        social.tell_both_about_cancellation,
        shipping.void_label_of_cancelled_order,
        trust_signals.order_cancelled,
    ),
    events.OrderRated: (
        trust_signals.order_rated,
    ),
    # shipping
    events.ShipmentFlaggedLate: (
        trust_signals.late_shipment,
    ),
    events.ReturnShipped: (
        cases.mark_return_in_transit,
    ),
    events.ReturnDelivered: (
        cases.open_inspection_window,
    ),
    # offers and bundles: announced for notifications and analytics still to come
    events.OfferMade: (),
    events.OfferCountered: (),
    events.OfferAccepted: (),
    events.OfferClosed: (),
    events.OffersSentToLikers: (),
    events.BundlePurchased: (),
    # authentication
    events.VerdictRecorded: (
        trust_signals.authentication_verdict,
    ),
    events.DisputeVerdictGiven: (
        disputes.authentication_link.verdict_given,
    ),
    # disputes
    events.CaseClosed: (
        trust_signals.dispute_case_closed,
    ),
    events.CasePhotosAdded: (
        vision.tasks.compare_case_photos_later,
    ),
    # vision
    events.DuplicateFlagRecorded: (
        trust_signals.duplicate_flag_recorded,
    ),
    events.DuplicateFlagReviewed: (
        trust_signals.duplicate_flag_reviewed,
    ),
    events.CounterfeitScored: (
        trust_signals.counterfeit_risk_scored,
    ),
}

TASK_MODULES: tuple[ModuleType, ...] = (
    foundation.maintenance,
    marketplace_core.orders.tasks,
    marketplace_core.outbox.tasks,
    marketplace_core.offers.tasks,
    marketplace_core.social.tasks,
    marketplace_core.shipping.tasks,
    authentication.tasks,
    disputes.tasks,
    vision.modelops.tasks,
    vision.tasks,
    vision.counterfeit.tasks,
    trust.signals.tasks,
    trust.recommender.tasks,
)


@dataclass(frozen=True)
class Periodic:
    task: jobs.Task
    every: timedelta


SCHEDULE: tuple[Periodic, ...] = (
    Periodic(foundation.maintenance.purge_old_sessions, timedelta(hours=1)),
    # timers' safety nets: each catches the deadlines whose own job was lost
    Periodic(marketplace_core.orders.tasks.sweep_orders, timedelta(minutes=15)),
    # effects outside the database whose delivery job was lost
    Periodic(marketplace_core.outbox.tasks.sweep_outbox, timedelta(seconds=30)),
    Periodic(marketplace_core.offers.tasks.sweep_expired_offers, timedelta(minutes=5)),
    Periodic(marketplace_core.shipping.tasks.flag_late_shipments, timedelta(hours=1)),
    Periodic(authentication.tasks.sweep_authentication_sla, timedelta(minutes=5)),
    Periodic(disputes.tasks.sweep_disputes, timedelta(minutes=10)),
    Periodic(vision.tasks.sign_forgotten_photos, timedelta(minutes=10)),
    Periodic(vision.tasks.compare_forgotten_case_photos, timedelta(minutes=10)),
    Periodic(vision.modelops.tasks.sweep_stale_training_runs, timedelta(minutes=10)),
    Periodic(trust.recommender.tasks.fail_lost_recommendation_runs, timedelta(minutes=15)),
    # regular work
    Periodic(marketplace_core.orders.tasks.run_payouts, timedelta(hours=1)),
    Periodic(marketplace_core.outbox.tasks.run_reconciliation, timedelta(minutes=15)),
    Periodic(marketplace_core.social.tasks.schedule_parties, timedelta(hours=6)),
    # a mark no recompute job cleared waits at most the grace plus this period
    Periodic(trust.signals.tasks.sweep_pending_trust, timedelta(seconds=30)),
    # likewise a listing marked for a counterfeit score that no scoring job cleared
    Periodic(vision.counterfeit.tasks.sweep_pending_scores, timedelta(seconds=30)),
    Periodic(trust.signals.tasks.sweep_stale_trust, timedelta(hours=1)),
    Periodic(trust.recommender.tasks.flush_feed_impressions, timedelta(seconds=15)),
)

LISTING_SIGNALS: dict[str, listing_signals.Provider] = {
    "duplicate_flags": vision.duplicates.duplicate_flags_signal,
}

CASE_SIGNALS: dict[str, case_signals.Provider] = {
    "photo_comparisons": vision.case_photos.comparisons_signal,
}

MODEL_KINDS: tuple[ModelKind, ...] = (
    vision.modelops.duplicate_kind.DUPLICATE,
    vision.counterfeit.kind.COUNTERFEIT,
)


def wire() -> None:
    """Subscribe every handler, put every periodic task on the beat, register the listing
    and case signals and the model kinds.  Idempotent: a second call changes nothing."""
    for event, handlers in SUBSCRIPTIONS.items():
        for handler in handlers:
            events.subscribe(event, handler)
    for periodic in SCHEDULE:
        jobs.schedule(periodic.task, periodic.every)
    for name, provider in LISTING_SIGNALS.items():
        listing_signals.provide(name, provider)
    for name, provider in CASE_SIGNALS.items():
        case_signals.provide(name, provider)
    for kind in MODEL_KINDS:
        register_kind(kind)
