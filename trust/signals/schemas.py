"""The JSON shapes of stored trust, shared by the staff API (and its tests' contract)."""
from __future__ import annotations

from typing import Any

from trust.types import ItemRisk, SellerTrust

from .models import ItemRiskSnapshot, SellerTrustSnapshot
from .services import WeightsChange


def _when(value) -> str | None:
    return value.isoformat() if value is not None else None


def seller_trust_json(trust: SellerTrust) -> dict[str, Any]:
    return {"seller_id": trust.seller_id, "score": trust.score, "tier": trust.tier.value,
            "confidence": trust.confidence, "parts": dict(trust.parts),
            "reasons": list(trust.reasons)}


def seller_snapshot_json(row: SellerTrustSnapshot) -> dict[str, Any]:
    return {"score": row.score, "tier": row.tier, "parts": dict(row.parts), "cause": row.cause,
            "computed_at": _when(row.computed_at)}


def seller_detail_json(detail: dict[str, Any]) -> dict[str, Any]:
    return {**seller_trust_json(detail["trust"]), "username": detail["username"],
            "counts": detail["counts"], "computed_at": _when(detail["computed_at"]),
            "weights_version": detail["weights_version"],
            "history": [seller_snapshot_json(row) for row in detail["history"]],
            "flagged_listings": detail["flagged_listings"]}


def item_risk_json(risk: ItemRisk) -> dict[str, Any]:
    return {"listing_id": risk.listing_id, "seller_id": risk.seller_id,
            "excluded": risk.excluded, "exclusion_reason": risk.exclusion_reason,
            "flagged": risk.flagged, "flag_confidence": risk.flag_confidence,
            "authenticated": risk.authenticated, "counterfeit_score": risk.counterfeit_score,
            "duplicate_flags": risk.duplicate_flags, "reasons": list(risk.reasons)}


def item_snapshot_json(row: ItemRiskSnapshot) -> dict[str, Any]:
    return {"excluded": row.excluded, "flagged": row.flagged,
            "flag_confidence": row.flag_confidence, "details": dict(row.details),
            "cause": row.cause, "computed_at": _when(row.computed_at)}


def listing_detail_json(detail: dict[str, Any]) -> dict[str, Any]:
    return {**item_risk_json(detail["risk"]), "title": detail["title"],
            "status": detail["status"], "computed_at": _when(detail["computed_at"]),
            "history": [item_snapshot_json(row) for row in detail["history"]]}


def weights_change_json(change: WeightsChange) -> dict[str, Any]:
    return {"version": change.version, "created_at": _when(change.created_at),
            "created_by": change.created_by, "note": change.note,
            "changed": {name: {"before": before, "after": after}
                        for name, (before, after) in change.changed.items()}}
