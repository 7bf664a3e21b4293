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


P = Permission
_AUTHENTICATOR = {P.CONSOLE_ACCESS, P.MARKETPLACE_VIEW, P.AUTHENTICATION_REVIEW,
                  P.VISION_VIEW}
_SUPPORT_AGENT = {P.CONSOLE_ACCESS, P.MARKETPLACE_VIEW, P.LEDGER_VIEW, P.DISPUTES_HANDLE}

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.AUTHENTICATOR: frozenset(_AUTHENTICATOR),
    Role.SENIOR_AUTHENTICATOR: frozenset(_AUTHENTICATOR | {
        P.AUTHENTICATION_SECOND_REVIEW, P.AUTHENTICATION_LEAD, P.AUTHENTICATION_METRICS}),
    Role.SUPPORT_AGENT: frozenset(_SUPPORT_AGENT),
    Role.SUPPORT_LEAD: frozenset(_SUPPORT_AGENT | {
        P.DISPUTES_APPROVE_REFUND, P.DISPUTES_METRICS, P.MARKETPLACE_MODERATE,
        P.AUDIT_VIEW}),
    Role.FRAUD_ANALYST: frozenset({
        P.CONSOLE_ACCESS, P.MARKETPLACE_VIEW, P.MARKETPLACE_MODERATE, P.VISION_VIEW,
        P.VISION_MANAGE_MODELS, P.TRUST_VIEW, P.TRUST_MANAGE, P.AUTHENTICATION_METRICS,
        P.DISPUTES_METRICS, P.JOBS_VIEW}),
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
