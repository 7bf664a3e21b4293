"""Roles are named sets of permissions; code checks permissions, never role names.

Each role sees and does only what its work needs (../shared/domain.md, "Staff roles").
"""
from __future__ import annotations

from enum import StrEnum


class Permission(StrEnum):
    CONSOLE_ACCESS = "console.access"
    AUDIT_VIEW = "audit.view"
    STAFF_MANAGE = "staff.manage"
    JOBS_VIEW = "jobs.view"
    JOBS_MANAGE = "jobs.manage"
    MARKETPLACE_VIEW = "marketplace.view"
    MARKETPLACE_MODERATE = "marketplace.moderate"
    LEDGER_VIEW = "ledger.view"
    # Money > Reconciliation: the ledger against the provider and the bank, and sending a
    # dead effect (a refund or payout that never got an answer) again.
    RECONCILIATION_VIEW = "reconciliation.view"
    RECONCILIATION_RETRY = "reconciliation.retry"
    AUTHENTICATION_REVIEW = "authentication.review"
    AUTHENTICATION_SECOND_REVIEW = "authentication.second_review"
    AUTHENTICATION_LEAD = "authentication.lead"
    AUTHENTICATION_METRICS = "authentication.metrics"
    DISPUTES_HANDLE = "disputes.handle"
    DISPUTES_APPROVE_REFUND = "disputes.approve_refund"
    DISPUTES_METRICS = "disputes.metrics"
    VISION_VIEW = "vision.view"
    VISION_MANAGE_MODELS = "vision.manage_models"
    TRUST_VIEW = "trust.view"
    TRUST_MANAGE = "trust.manage"


class Role(StrEnum):
    AUTHENTICATOR = "authenticator"
    SENIOR_AUTHENTICATOR = "senior_authenticator"
    SUPPORT_AGENT = "support_agent"
    SUPPORT_LEAD = "support_lead"
    FRAUD_ANALYST = "fraud_analyst"
    ADMIN = "admin"


_AUTHENTICATOR = {Permission.CONSOLE_ACCESS, Permission.MARKETPLACE_VIEW,
                  Permission.AUTHENTICATION_REVIEW, Permission.VISION_VIEW}
_SUPPORT_AGENT = {Permission.CONSOLE_ACCESS, Permission.MARKETPLACE_VIEW, Permission.LEDGER_VIEW,
                  Permission.DISPUTES_HANDLE}

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.AUTHENTICATOR: frozenset(_AUTHENTICATOR),
    Role.SENIOR_AUTHENTICATOR: frozenset(_AUTHENTICATOR | {
        Permission.AUTHENTICATION_SECOND_REVIEW, Permission.AUTHENTICATION_LEAD,
        Permission.AUTHENTICATION_METRICS}),
    Role.SUPPORT_AGENT: frozenset(_SUPPORT_AGENT),
    Role.SUPPORT_LEAD: frozenset(_SUPPORT_AGENT | {
        Permission.DISPUTES_APPROVE_REFUND, Permission.DISPUTES_METRICS,
        Permission.MARKETPLACE_MODERATE, Permission.AUDIT_VIEW,
        Permission.RECONCILIATION_VIEW, Permission.RECONCILIATION_RETRY}),
    Role.FRAUD_ANALYST: frozenset({
        Permission.CONSOLE_ACCESS, Permission.MARKETPLACE_VIEW, Permission.MARKETPLACE_MODERATE,
        Permission.VISION_VIEW, Permission.VISION_MANAGE_MODELS, Permission.TRUST_VIEW,
        Permission.TRUST_MANAGE, Permission.AUTHENTICATION_METRICS, Permission.DISPUTES_METRICS,
        Permission.JOBS_VIEW, Permission.RECONCILIATION_VIEW, Permission.RECONCILIATION_RETRY}),
    Role.ADMIN: frozenset(Permission),
}

ROLE_LABELS = {
    Role.AUTHENTICATOR: "Authenticator",
    Role.SENIOR_AUTHENTICATOR: "Senior authenticator",
    Role.SUPPORT_AGENT: "Support agent",
    Role.SUPPORT_LEAD: "Support lead",
    Role.FRAUD_ANALYST: "Fraud analyst",
    Role.ADMIN: "Admin",
}


def permissions_of(role: str) -> frozenset[Permission]:
    try:
        return ROLE_PERMISSIONS[Role(role)]
    except ValueError:
        return frozenset()
