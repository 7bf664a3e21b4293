"""The Flask-Admin console at /console."""
from __future__ import annotations

from flask import Flask
from flask_admin import Admin
from flask_admin.theme import Bootstrap4Theme

from console.admin.account import AccountView
from console.admin.audit import AuditLogView
from console.admin.authentication import AuthenticationQueueView
from console.admin.authentication_metrics import AuthenticationMetricsView
from console.admin.authentication_skills import AuthenticationSkillsView
from console.admin.disputes import DisputesQueueView
from console.admin.disputes_metrics import DisputesMetricsView
from console.admin.exports import ExportsView
from console.admin.home import HomeView
from console.admin.jobs import JobsView
from console.admin.marketplace import ListingAdminView, MemberAdminView
from console.admin.money import (
    LedgerAccountView,
    LedgerTransactionView,
    OrderAdminView,
    PayoutView,
    ShipmentAdminView,
)
from console.admin.reconciliation import ReconciliationView
from console.admin.staff import StaffManagementView
from console.admin.trust import TrustSellersView, TrustWeightsView
from console.admin.trust_feed import TrustExposureView, TrustFeedView
from console.admin.vision_duplicates import DuplicatesView
from console.admin.vision_models import VisionModelsView
from console.admin.vision_reindex import ReindexView
from console.formatting import age, inr
from console.security import csp_nonce
from vision.calibration import SHIPPED
from vision.flag_evidence import explained_flag


def init_admin(app: Flask) -> Admin:
    admin = Admin(app, name="Posh Trust Console", url="/console",
                  index_view=HomeView(url="/console", name="Home"),
                  theme=Bootstrap4Theme(base_template="admin/console_master.html"),
                  csp_nonce_generator=csp_nonce)
    admin.add_view(MemberAdminView(name="Members", endpoint="members", category="Marketplace"))
    admin.add_view(ListingAdminView(name="Listings", endpoint="listings",
                                    category="Marketplace"))
    admin.add_view(OrderAdminView(name="Orders", endpoint="orders", category="Marketplace"))
    admin.add_view(ShipmentAdminView(name="Shipments", endpoint="shipments",
                                     category="Marketplace"))
    admin.add_view(LedgerTransactionView(name="Ledger", endpoint="ledger", category="Money"))
    admin.add_view(LedgerAccountView(name="Accounts", endpoint="ledger_accounts",
                                     category="Money"))
    admin.add_view(PayoutView(name="Payouts", endpoint="payouts", category="Money"))
    admin.add_view(ReconciliationView(name="Reconciliation", endpoint="reconciliation",
                                      category="Money"))
    admin.add_view(AuthenticationQueueView(name="Queue", endpoint="authentication",
                                           category="Authentication"))
    admin.add_view(AuthenticationMetricsView(name="Metrics", endpoint="authentication_metrics",
                                             category="Authentication"))
    admin.add_view(AuthenticationSkillsView(name="Reviewers' skills",
                                            endpoint="authentication_skills",
                                            category="Authentication"))
    admin.add_view(DisputesQueueView(name="Queue", endpoint="disputes", category="Disputes"))
    admin.add_view(DisputesMetricsView(name="Metrics", endpoint="disputes_metrics",
                                       category="Disputes"))
    admin.add_view(VisionModelsView(name="Models", endpoint="vision_models", category="Vision"))
    admin.add_view(DuplicatesView(name="Duplicates", endpoint="vision_duplicates",
                                  category="Vision"))
    admin.add_view(ReindexView(name="Re-index", endpoint="vision_reindex", category="Vision"))
    admin.add_view(TrustSellersView(name="Sellers", endpoint="trust", category="Trust"))
    admin.add_view(TrustWeightsView(name="Weights", endpoint="trust_weights", category="Trust"))
    admin.add_view(TrustFeedView(name="Member feed", endpoint="trust_feed", category="Trust"))
    admin.add_view(TrustExposureView(name="Feed exposure", endpoint="trust_exposure",
                                     category="Trust"))
    admin.add_view(StaffManagementView(name="Staff", endpoint="staff", category="Admin"))
    admin.add_view(AuditLogView(name="Audit log", endpoint="audit", category="Admin"))
    admin.add_view(JobsView(name="Jobs", endpoint="jobs", category="Admin"))
    admin.add_view(ExportsView(name="Exports", endpoint="exports", category="Admin"))
    admin.add_view(AccountView(name="My account", endpoint="account"))
    app.jinja_env.filters["inr"] = inr
    app.jinja_env.filters["age"] = age
    app.jinja_env.filters["flag_evidence"] = explained_flag
    app.jinja_env.globals["duplicate_calibration"] = SHIPPED
    app.extensions["console_admin"] = admin
    return admin
