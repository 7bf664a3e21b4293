"""Who may reach each route: one declared table for every endpoint of the app.

Every console page, every staff API route and every member API route is listed here by
endpoint name with what it needs: `PUBLIC` (anyone), `MEMBER` (a member's bearer token),
`ANY_STAFF` (any signed-in, active staff member) or a named `Permission`. Where a page is
shown to one permission and an action on it needs another (a list page and its "remove"
button), each endpoint carries its own.

The views enforce these themselves (`StaffOnly`, `staff_api_auth`, `api_route(auth=...)`);
this table is what `tests/test_route_matrix.py` holds them to, for every role, over the
routes it discovers in `app.url_map`. A route missing from it fails that test, so a new
page cannot ship without someone deciding who may open it.
"""
from __future__ import annotations

from typing import Final

from foundation.staff.permissions import Permission


class Audience(str):
    """An access level that is not a permission."""


PUBLIC: Final = Audience("public")
MEMBER: Final = Audience("member token")
ANY_STAFF: Final = Audience("any signed-in staff")

Access = Audience | Permission

# The endpoints Flask-Admin's ModelView registers for every model view.
MODEL_VIEW_ENDPOINTS = ("index_view", "details_view", "create_view", "edit_view",
                        "delete_view", "action_view", "ajax_lookup", "ajax_update", "export")


def _model_view(endpoint: str, permission: Permission) -> dict[str, Access]:
    return {f"{endpoint}.{name}": permission for name in MODEL_VIEW_ENDPOINTS}


def _same(permission: Access, *endpoints: str) -> dict[str, Access]:
    return dict.fromkeys(endpoints, permission)


CONSOLE: dict[str, Access] = {
    "static": PUBLIC,
    "admin.static": PUBLIC,
    "health.healthz": PUBLIC,
    **_same(PUBLIC, "auth.sign_in", "auth.totp", "auth.sign_out"),
    "admin.index": ANY_STAFF,
    **_same(ANY_STAFF, "account.index", "account.totp_start", "account.totp_confirm",
            "account.end_all_sessions"),
    **_model_view("members", Permission.MARKETPLACE_VIEW),
    "members.restrict": Permission.MARKETPLACE_MODERATE,
    **_model_view("listings", Permission.MARKETPLACE_VIEW),
    "listings.photo": Permission.MARKETPLACE_VIEW,
    "listings.photo_thumbnail": Permission.MARKETPLACE_VIEW,
    "listings.remove": Permission.MARKETPLACE_MODERATE,
    **_model_view("orders", Permission.MARKETPLACE_VIEW),
    **_model_view("shipments", Permission.MARKETPLACE_VIEW),
    **_model_view("ledger", Permission.LEDGER_VIEW),
    **_model_view("ledger_accounts", Permission.LEDGER_VIEW),
    **_model_view("payouts", Permission.LEDGER_VIEW),
    **_model_view("audit", Permission.AUDIT_VIEW),
    **_same(Permission.AUTHENTICATION_REVIEW, "authentication.index",
            "authentication.workspace", "authentication.claim", "authentication.decide",
            "authentication.extend", "authentication.release", "authentication.skip",
            "authentication.claim_first"),
    "authentication_metrics.index": Permission.AUTHENTICATION_METRICS,
    **_same(Permission.AUTHENTICATION_LEAD, "authentication_skills.index",
            "authentication_skills.update"),
    **_same(Permission.DISPUTES_HANDLE, "disputes.index", "disputes.workspace",
            "disputes.claim", "disputes.decide", "disputes.extend", "disputes.note",
            "disputes.release", "disputes.case_photo", "disputes.sold_photo",
            "disputes.claim_first"),
    "disputes.approval": Permission.DISPUTES_APPROVE_REFUND,
    "disputes_metrics.index": Permission.DISPUTES_METRICS,
    **_same(Permission.VISION_VIEW, "vision_models.index", "vision_models.version",
            "vision_models.comparison", "vision_duplicates.index", "vision_reindex.index"),
    **_same(Permission.VISION_MANAGE_MODELS, "vision_models.train", "vision_models.threshold",
            "vision_models.shadow_start", "vision_models.shadow_stop",
            "vision_models.promote", "vision_models.rollback", "vision_reindex.start"),
    **_same(Permission.MARKETPLACE_MODERATE, "vision_duplicates.decide",
            "vision_duplicates.decide_group", "vision_duplicates.undo"),
    **_same(Permission.TRUST_VIEW, "trust.index", "trust.seller", "trust.listing",
            "trust_weights.index", "trust_feed.index", "trust_exposure.index"),
    **_same(Permission.TRUST_MANAGE, "trust_weights.change", "trust_exposure.precompute"),
    **_same(Permission.STAFF_MANAGE, "staff.index", "staff.change_role", "staff.deactivate",
            "staff.activate", "staff.reset_password"),
    "jobs.index": Permission.JOBS_VIEW,
    "jobs.requeue": Permission.JOBS_MANAGE,
    "reconciliation.index": Permission.RECONCILIATION_VIEW,
    "reconciliation.retry": Permission.RECONCILIATION_RETRY,
    # Each export checks its own permission (console/exports.py, EXPORTS).
    **_same(ANY_STAFF, "exports.index", "exports.download"),
}

STAFF_API: dict[str, Access] = {
    "staff_api.issue_token": PUBLIC,
    **_same(ANY_STAFF, "staff_api.revoke_token", "staff_api.me"),
    **_same(Permission.AUTHENTICATION_REVIEW, "staff_authentication_api.show",
            "staff_authentication_api.decide", "staff_authentication_api.extend",
            "staff_authentication_api.release", "staff_authentication_api.skip",
            "staff_authentication_api.claim", "staff_authentication_api.queue"),
    "staff_authentication_api.authentication_metrics": Permission.AUTHENTICATION_METRICS,
    **_same(Permission.AUTHENTICATION_LEAD, "staff_authentication_api.reviewer_skills",
            "staff_authentication_api.set_reviewer_skills"),
    **_same(Permission.DISPUTES_HANDLE, "staff_disputes_api.show", "staff_disputes_api.decide",
            "staff_disputes_api.extend", "staff_disputes_api.sold_photo",
            "staff_disputes_api.add_note", "staff_disputes_api.photo",
            "staff_disputes_api.release", "staff_disputes_api.claim",
            "staff_disputes_api.queue"),
    "staff_disputes_api.approval": Permission.DISPUTES_APPROVE_REFUND,
    **_same(Permission.TRUST_VIEW, "staff_trust_api.listing", "staff_trust_api.seller",
            "staff_trust_api.weights", "staff_trust_feed_api.member_feed",
            "staff_trust_feed_api.recent_runs"),
    "staff_trust_api.change_weights": Permission.TRUST_MANAGE,
    **_same(Permission.VISION_VIEW, "staff_vision_models_api.registry",
            "staff_vision_models_api.run", "staff_vision_models_api.version",
            "staff_vision_models_api.comparison", "staff_vision_models_api.preview_threshold"),
    **_same(Permission.VISION_MANAGE_MODELS, "staff_vision_models_api.rollback",
            "staff_vision_models_api.train", "staff_vision_models_api.promote",
            "staff_vision_models_api.shadow_start", "staff_vision_models_api.shadow_stop",
            "staff_vision_models_api.set_threshold"),
}

MEMBER_API: dict[str, Access] = {
    "api.api_openapi_json": PUBLIC,
    "api.disputes_accept_return": MEMBER,
    "api.disputes_case_photo": MEMBER,
    "api.disputes_get_case": MEMBER,
    "api.disputes_inspection": MEMBER,
    "api.disputes_list_cases": MEMBER,
    "api.disputes_open_case": MEMBER,
    "api.disputes_respond": MEMBER,
    "api.disputes_withdraw": MEMBER,
    "api.listings_create_listing": MEMBER,
    "api.listings_delete_photo": MEMBER,
    "api.listings_get_listing": PUBLIC,
    "api.listings_photo_file": PUBLIC,
    "api.listings_publish": MEMBER,
    "api.listings_relist": MEMBER,
    "api.listings_reorder_photos": MEMBER,
    "api.listings_search_listings": PUBLIC,
    "api.listings_update_listing": MEMBER,
    "api.listings_upload_photo": MEMBER,
    "api.listings_withdraw": MEMBER,
    "api.members_closet": PUBLIC,
    "api.members_edit_me": MEMBER,
    "api.members_follow": MEMBER,
    "api.members_me": MEMBER,
    "api.members_register": PUBLIC,
    "api.members_revoke": MEMBER,
    "api.members_token": PUBLIC,
    "api.members_unfollow": MEMBER,
    "api.offers_accept_offer": MEMBER,
    "api.offers_add_bundle_item": MEMBER,
    "api.offers_buy_bundle": MEMBER,
    "api.offers_counter_offer": MEMBER,
    "api.offers_create_bundle": MEMBER,
    "api.offers_decline_offer": MEMBER,
    "api.offers_get_bundle": MEMBER,
    "api.offers_get_bundle_discount": MEMBER,
    "api.offers_get_offer": MEMBER,
    "api.offers_list_offers": MEMBER,
    "api.offers_make_bundle_offer": MEMBER,
    "api.offers_make_offer": MEMBER,
    "api.offers_offers_to_likers": MEMBER,
    "api.offers_put_bundle_discount": MEMBER,
    "api.offers_remove_bundle_item": MEMBER,
    "api.offers_withdraw_offer": MEMBER,
    "api.orders_accept": MEMBER,
    "api.orders_balance": MEMBER,
    "api.orders_buy_now": MEMBER,
    "api.orders_cancel": MEMBER,
    "api.orders_closet_ratings": PUBLIC,
    "api.orders_get_order": MEMBER,
    "api.orders_list_orders": MEMBER,
    "api.orders_list_payouts": MEMBER,
    "api.orders_rate": MEMBER,
    "api.orders_set_payout_account": MEMBER,
    "api.recommender_just_picked": MEMBER,
    "api.shipping_carrier_webhook": PUBLIC,
    "api.shipping_get_return_shipment": MEMBER,
    "api.shipping_get_shipment": MEMBER,
    "api.shipping_label_document": MEMBER,
    "api.shipping_return_label_document": MEMBER,
    "api.shipping_upgrade_label": MEMBER,
    "api.social_add_comment": MEMBER,
    "api.social_comments": PUBLIC,
    "api.social_delete_comment": MEMBER,
    "api.social_feed": MEMBER,
    "api.social_like": MEMBER,
    "api.social_likes": PUBLIC,
    "api.social_my_likes": MEMBER,
    "api.social_notifications": MEMBER,
    "api.social_parties": PUBLIC,
    "api.social_party": PUBLIC,
    "api.social_party_listings": PUBLIC,
    "api.social_read_notifications": MEMBER,
    "api.social_share": MEMBER,
    "api.social_unlike": MEMBER,
}

ROUTE_ACCESS: dict[str, Access] = {**CONSOLE, **STAFF_API, **MEMBER_API}


def access_of(endpoint: str) -> Access | None:
    """What `endpoint` needs, or None when nobody has declared it."""
    return ROUTE_ACCESS.get(endpoint)
