"""Orders and the ledger in the console: read-only, searchable, never COUNT(*)-ing.

Money never changes here: refunds and releases belong to the dispute and order
services, which audit them; these pages let staff see exactly what happened.
"""
from __future__ import annotations

from markupsafe import Markup, escape

from console.admin.base import StaffModelView
from console.formatting import inr
from foundation import db
from foundation.staff.permissions import Permission
from marketplace_core.ledger import invariants as ledger_invariants
from marketplace_core.ledger import queries as ledger_queries
from marketplace_core.ledger.models import Account, LedgerTransaction, Payout
from marketplace_core.orders import queries as order_queries
from marketplace_core.orders.models import Order, OrderEvent
from marketplace_core.shipping import queries as shipping_queries
from marketplace_core.shipping import services as shipping
from marketplace_core.shipping.models import Shipment


def _money(_view, _context, model, name):
    return inr(getattr(model, name))


def _entries(_view, _context, model, _name):
    rows = "".join(
        f"<tr><td>{escape(e.account.key)}</td>"
        f"<td class='text-right'>{escape(inr(e.amount_paise)) if e.amount_paise > 0 else ''}</td>"
        f"<td class='text-right'>{escape(inr(-e.amount_paise)) if e.amount_paise < 0 else ''}"
        f"</td></tr>" for e in model.entries)
    return Markup(f"<table class='table table-sm mb-0'><tr><th>account</th><th>debit</th>"
                  f"<th>credit</th></tr>{rows}</table>")


class OrderAdminView(StaffModelView):
    required_permission = Permission.MARKETPLACE_VIEW
    column_list = ("id", "status", "source", "buyer_id", "seller_id", "total_paise",
                   "on_hold", "placed_at", "delivered_at", "completed_at")
    column_default_sort = ("id", True)
    column_searchable_list = ("provider_ref", "hold_case_ref")
    column_filters = ("status", "source", "on_hold", "buyer_id", "seller_id", "placed_at",
                      "total_paise")
    column_formatters = {"total_paise": _money}
    column_details_list = ("id", "status", "source", "buyer_id", "seller_id", "offer_id",
                           "bundle_id", "items_total_paise", "discount_paise",
                           "shipping_paise", "label_surcharge_paise", "commission_paise",
                           "total_paise", "on_hold", "hold_case_ref", "payment_method",
                           "provider_ref", "placed_at", "shipped_at", "delivered_at",
                           "completed_at", "completed_by", "cancelled_at", "cancel_reason")
    column_formatters_detail = {name: _money for name in (
        "items_total_paise", "discount_paise", "shipping_paise", "label_surcharge_paise",
        "commission_paise", "total_paise")}
    column_labels = {"total_paise": "Captured", "buyer_id": "Buyer", "seller_id": "Seller",
                     "items_total_paise": "Items", "discount_paise": "Discount",
                     "shipping_paise": "Shipping fee", "label_surcharge_paise": "Label surcharge",
                     "commission_paise": "Commission"}
    details_template = "console/order_details.html"

    def __init__(self, **kwargs):
        super().__init__(Order, **kwargs)

    def money(self, order: Order) -> dict[str, int]:
        return ledger_queries.order_money(db.session(), order.id)

    def events(self, order: Order) -> list[OrderEvent]:
        return order_queries.order_events(db.session(), order.id)

    def transactions(self, order: Order) -> list[LedgerTransaction]:
        return ledger_queries.transactions_for_order(db.session(), order.id)

    def shipment(self, order: Order):
        return shipping.shipment_for_order(db.session(), order.id)


class LedgerTransactionView(StaffModelView):
    required_permission = Permission.LEDGER_VIEW
    column_list = ("id", "created_at", "kind", "order_id", "member_id", "memo", "entries")
    column_default_sort = ("id", True)
    column_filters = ("kind", "order_id", "member_id", "created_at")
    column_searchable_list = ("memo",)
    column_formatters = {"entries": _entries}
    column_details_list = column_list
    column_formatters_detail = {"entries": _entries}
    list_template = "console/ledger_list.html"

    def __init__(self, **kwargs):
        super().__init__(LedgerTransaction, **kwargs)

    def health(self) -> dict:
        return ledger_invariants.ledger_health(db.session())


class LedgerAccountView(StaffModelView):
    required_permission = Permission.LEDGER_VIEW
    column_list = ("id", "key", "kind", "member_id", "order_id", "balance")
    column_default_sort = ("id", True)
    column_filters = ("kind", "member_id", "order_id")
    column_searchable_list = ("key",)
    column_formatters = {"balance": lambda v, c, m, n: inr(
        ledger_queries.account_balance(db.session(), m))}

    def __init__(self, **kwargs):
        super().__init__(Account, **kwargs)


class PayoutView(StaffModelView):
    required_permission = Permission.LEDGER_VIEW
    column_list = ("id", "member_id", "amount_paise", "state", "created_at", "settled_at",
                   "failure_reason")
    column_default_sort = ("id", True)
    column_filters = ("state", "member_id", "created_at")
    column_formatters = {"amount_paise": _money}

    def __init__(self, **kwargs):
        super().__init__(Payout, **kwargs)


class ShipmentAdminView(StaffModelView):
    required_permission = Permission.MARKETPLACE_VIEW
    column_list = ("id", "order_id", "direction", "tracking_number", "tier", "weight_grams",
                   "surcharge_paise", "status", "label_created_at", "first_scan_at",
                   "delivered_at", "late_flagged_at")
    column_labels = {"surcharge_paise": "Surcharge", "late_flagged_at": "Late"}
    column_default_sort = ("id", True)
    column_searchable_list = ("tracking_number", "label_number")
    column_filters = ("direction", "status", "tier", "order_id", "label_created_at",
                      "late_flagged_at")
    column_formatters = {"surcharge_paise": _money}
    details_template = "console/shipment_details.html"

    def __init__(self, **kwargs):
        super().__init__(Shipment, **kwargs)

    def events(self, shipment) -> list:
        return shipping_queries.tracking_events(db.session(), shipment.id)
