"""Reviewers' skills, set by leads: the brands and categories a reviewer knows (their
items are offered to them first) and a price ceiling (nothing pricier is offered).

Routing reads them in authentication.claims; an empty set of skills routes like none.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from authentication.models import ReviewerSkill
from foundation.audit.services import record
from foundation.errors import NotFound, ValidationFailed
from foundation.schema import MAX_SAFE_INTEGER
from foundation.staff.models import StaffUser
from foundation.staff.permissions import ROLE_PERMISSIONS, Permission
from marketplace_core.listings.taxonomy import CATEGORIES

MAX_BRANDS = 50
MAX_BRAND_LENGTH = 60        # as authentication_requests.brand_key
MAX_CATEGORIES = len(CATEGORIES)
REVIEWER_ROLES = tuple(sorted(role.value for role, permissions in ROLE_PERMISSIONS.items()
                              if Permission.AUTHENTICATION_REVIEW in permissions))


@dataclass(frozen=True)
class Skills:
    brands: tuple[str, ...] = ()          # lower-cased, as listings' brand_key
    categories: tuple[str, ...] = ()      # keys of the listing taxonomy
    max_price_paise: int | None = None    # None: no ceiling

    def as_dict(self) -> dict[str, Any]:
        return {"brands": list(self.brands), "categories": list(self.categories),
                "max_price_paise": self.max_price_paise}


@dataclass(frozen=True)
class ReviewerWithSkills:
    staff: StaffUser
    skills: Skills


def skills_of(s: Session, staff_id: int) -> Skills:
    """The reviewer's skills (empty when a lead never set any)."""
    _reviewer(s, staff_id)
    return _stored(s, staff_id)


def set_skills(s: Session, lead: StaffUser, staff_id: int, *, brands: Any, categories: Any,
               max_price_paise: Any) -> Skills:
    """Replace the reviewer's skills with these, audited as authentication.skills."""
    reviewer = _reviewer(s, staff_id)
    wanted = parse_skills(brands, categories, max_price_paise)
    before = _stored(s, staff_id)
    row = s.scalar(select(ReviewerSkill).where(ReviewerSkill.staff_id == reviewer.id))
    if row is None:
        row = ReviewerSkill(staff_id=reviewer.id)
        s.add(row)
    row.brands = list(wanted.brands)
    row.categories = list(wanted.categories)
    row.max_price_paise = wanted.max_price_paise
    s.flush()
    record(s, lead, "authentication.skills", "staff_user", reviewer.id,
           before=before.as_dict(), after=wanted.as_dict())
    return wanted


def reviewers_with_skills(s: Session) -> list[ReviewerWithSkills]:
    """Every active reviewer (any role that may review), by name, with their skills."""
    reviewers = list(s.scalars(select(StaffUser).where(
        StaffUser.role.in_(REVIEWER_ROLES), StaffUser.is_active.is_(True))
        .order_by(StaffUser.display_name, StaffUser.id)))
    rows = {row.staff_id: row for row in s.scalars(select(ReviewerSkill).where(
        ReviewerSkill.staff_id.in_([r.id for r in reviewers])))} if reviewers else {}
    return [ReviewerWithSkills(staff=r, skills=_as_skills(rows.get(r.id))) for r in reviewers]


def parse_skills(brands: Any, categories: Any, max_price_paise: Any) -> Skills:
    """Skills from untrusted input, or ValidationFailed naming every bad field."""
    problems: dict[str, str] = {}
    clean_brands = _brands(brands, problems)
    clean_categories = _categories(categories, problems)
    if max_price_paise is not None and (type(max_price_paise) is not int
                                        or not 0 < max_price_paise <= MAX_SAFE_INTEGER):
        problems["max_price_paise"] = "a positive whole number of paise, or null for none"
    if problems:
        raise ValidationFailed("The skills are not valid.", code="bad_skills", fields=problems)
    return Skills(brands=clean_brands, categories=clean_categories,
                  max_price_paise=max_price_paise)


def _brands(value: Any, problems: dict[str, str]) -> tuple[str, ...]:
    if not isinstance(value, list | tuple) or not all(isinstance(b, str) for b in value):
        problems["brands"] = "a list of brand names"
        return ()
    # Stored as listings store brand_key, so that routing compares like with like.
    keys = tuple(dict.fromkeys(b.strip().lower() for b in value if b.strip()))
    if len(keys) > MAX_BRANDS:
        problems["brands"] = f"at most {MAX_BRANDS} brands"
    elif any(len(key) > MAX_BRAND_LENGTH for key in keys):
        problems["brands"] = f"each at most {MAX_BRAND_LENGTH} characters"
    return keys


def _categories(value: Any, problems: dict[str, str]) -> tuple[str, ...]:
    if not isinstance(value, list | tuple) or not all(isinstance(c, str) for c in value):
        problems["categories"] = "a list of categories"
        return ()
    keys = tuple(dict.fromkeys(c.strip() for c in value if c.strip()))
    unknown = [key for key in keys if key not in CATEGORIES]
    if unknown:
        problems["categories"] = ("unknown: " + ", ".join(unknown[:5])[:200]
                                  + "; categories are " + ", ".join(CATEGORIES))
    return keys


def _reviewer(s: Session, staff_id: int) -> StaffUser:
    reviewer = s.get(StaffUser, staff_id) if 0 < staff_id <= MAX_SAFE_INTEGER else None
    if reviewer is None:
        raise NotFound("No such staff member.")
    if not reviewer.can(Permission.AUTHENTICATION_REVIEW):
        raise ValidationFailed(f"{reviewer.email} does not review items; only reviewers "
                               "have skills.", code="not_a_reviewer")
    return reviewer


def _stored(s: Session, staff_id: int) -> Skills:
    return _as_skills(s.scalar(select(ReviewerSkill).where(ReviewerSkill.staff_id == staff_id)))


def _as_skills(row: ReviewerSkill | None) -> Skills:
    if row is None:
        return Skills()
    return Skills(brands=tuple(row.brands or ()), categories=tuple(row.categories or ()),
                  max_price_paise=row.max_price_paise)
